-- Prelude prepended to every townhall Lua script (cmake/TownhallLua.cmake).
--
-- Rules for scripts:
--  * Keys come in KEYS[]: a script never rebuilds a key name that C++ also
--    builds. KEYS[1] is the prefix of the one Cluster slot the script
--    touches ("th:{t:<tenant>}:" or "th:{s:<tenant>:<session>}:"), so C++
--    decides hash tags and Redis Cluster routes the call by it. Keys C++
--    knows (idempotency keys from IdempotencyKey, feed keys) are passed as
--    KEYS or as a suffix that the script appends to KEYS[1], never spelled
--    out in Lua.
--    Where a script must reach keys that only it can find, it derives them
--    by appending to KEYS[1], in one helper per key shape: the scheduling
--    scripts (bookings.lua: session_key, venue and host bookings) read the
--    sessions found in a bookings index to check conflicts, which cannot
--    be listed before the script runs; session_store.h documents the same
--    shapes on the C++ side.
--  * Check every precondition before the first write: Redis does not roll
--    back a script that fails half-way.
--  * Fail with th_fail(code, message): the C++ side turns "TH:<CODE>:<msg>"
--    into an absl::Status with that canonical code.

local function th_fail(code, message)
  error({err = 'TH:' .. code .. ':' .. message})
end

-- A hash as a Lua table (field -> value), or nil when the key is absent.
local function th_hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Events kept per feed stream; older ones are trimmed (approximately).
-- A watcher further behind than this gets a fresh snapshot instead.
local TH_FEED_MAXLEN = 10000

-- Bumps the feed's version and appends one change to its stream, as part of
-- the same atomic script that made the change. The stream entry id is
-- "<version>-0", so a watcher can resume from the last version it saw.
-- Returns the new version.
local function th_feed_append(version_key, events_key, kind, entity_id, data)
  local version = redis.call('INCR', version_key)
  redis.call('XADD', events_key, 'MAXLEN', '~', TH_FEED_MAXLEN,
             version .. '-0', 'kind', kind, 'id', entity_id, 'data', data)
  return version
end

-- Stores `reply` as the result of request `key` for `ttl` seconds, so that
-- a retried request returns the first result instead of acting twice.
local function th_remember(key, reply, ttl)
  if key ~= '' then
    redis.call('SET', key, reply, 'EX', ttl)
  end
end

-- Revokes credentials on every server: appends {k = key, g = generation}
-- to the tenant's revocation stream `stream_key` (a KEYS entry,
-- "th:{t:<tenant>}:revocations"), which every server follows
-- (services/common/auth/revocation_list.h). `min_id`
-- (RevocationStreamMinId() in C++) trims entries older than any token can
-- live.
local function th_revoke(stream_key, key, generation, min_id)
  redis.call('XADD', stream_key, 'MINID', '~', min_id, '*',
             'k', key, 'g', tostring(generation))
end
