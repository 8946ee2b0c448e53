-- Scheduling helpers, prepended to every scheduling script after the common
-- prelude.
--
-- KEYS[1] of every scheduling script is the tenant prefix "th:{t:<tenant>}:".
-- Keys used here are derived only by appending to it, so they all share its
-- hash tag and slot: a script never touches another slot, and Redis Cluster
-- routes it by KEYS[1]. (See docs/architecture.md, "Redis key schema".)
local P = KEYS[1]

-- Session states; keep in sync with townhall.v1.SessionState.
local DRAFT, SCHEDULED, LIVE, ENDED, CANCELLED = 1, 2, 3, 4, 5

-- Longest session (validated in C++): bounds the conflict range scan.
local MAX_SESSION_SECONDS = 7 * 24 * 3600

local function session_key(id) return P .. 'session:' .. id end

local function split_csv(csv)
  local out = {}
  for item in string.gmatch(csv, '[^,]+') do table.insert(out, item) end
  return out
end

-- Bookable resources of a session: "venue:<id>" and "host:<id>".
local function resources_of(venues_csv, hosts_csv)
  local out = {}
  for _, v in ipairs(split_csv(venues_csv)) do table.insert(out, 'venue:' .. v) end
  for _, h in ipairs(split_csv(hosts_csv)) do table.insert(out, 'host:' .. h) end
  return out
end

-- Fails unless every venue exists; `field` names the venue list in the
-- error ('session.venue_ids' when nil).
local function check_venues(venues_csv, field)
  for _, v in ipairs(split_csv(venues_csv)) do
    if redis.call('EXISTS', P .. 'venue:' .. v) == 0 then
      th_fail('INVALID_ARGUMENT', (field or 'session.venue_ids') .. ': unknown venue ' .. v)
    end
  end
end

-- Appends to `out` ({id, resource, ...}) every booked session other than
-- `self_id` that overlaps [start_s, end_s) on one of `resources`.
local function find_conflicts(resources, start_s, end_s, self_id, out)
  for _, r in ipairs(resources) do
    local ids = redis.call('ZRANGEBYSCORE', P .. r .. ':bookings',
                           start_s - MAX_SESSION_SECONDS, '(' .. end_s)
    for _, id in ipairs(ids) do
      if id ~= self_id then
        local other_end = tonumber(redis.call('HGET', session_key(id), 'end'))
        if other_end and other_end > start_s then
          table.insert(out, id)
          table.insert(out, r)
        end
      end
    end
  end
end

local function book(resources, id, start_s)
  for _, r in ipairs(resources) do
    redis.call('ZADD', P .. r .. ':bookings', start_s, id)
  end
end

local function unbook(resources, id)
  for _, r in ipairs(resources) do
    redis.call('ZREM', P .. r .. ':bookings', id)
  end
end

-- Bookings of an existing session, read from its hash.
local function session_resources(id)
  local f = redis.call('HMGET', session_key(id), 'venues', 'hosts')
  return resources_of(f[1] or '', f[2] or '')
end

local function feed(kind, id, data)
  return th_feed_append(P .. 'version', P .. 'events', kind, id, data)
end
