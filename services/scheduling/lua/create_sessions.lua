-- Creates one session, or a series with one session per occurrence, in one
-- atomic step: either every occurrence is stored or none is.
-- KEYS[1] tenant prefix.
-- ARGV: idempotency key suffix ('' for none), now (unix microseconds),
--       allow_conflicts ('1'/'0'), series id ('' for a single session),
--       serialized series ('' for none), session count N, then N groups of
--       8: id, serialized session, state, start, end (unix seconds),
--       venues csv, hosts csv, original start (unix seconds or '').
-- Returns {'OK', id} (the session or series id), {'EXISTING', id} for a
-- repeated request, or {'CONFLICTS', id, resource, ...}.
local idem, now, allow = ARGV[1], ARGV[2], ARGV[3] == '1'
local series_id, series_data, n = ARGV[4], ARGV[5], tonumber(ARGV[6])

if idem ~= '' then
  local earlier = redis.call('GET', P .. idem)
  if earlier then return {'EXISTING', earlier} end
end

local sessions = {}
for i = 0, n - 1 do
  local b = 7 + i * 8
  sessions[i + 1] = {
    id = ARGV[b], data = ARGV[b + 1], state = tonumber(ARGV[b + 2]),
    start = tonumber(ARGV[b + 3]), finish = tonumber(ARGV[b + 4]),
    venues = ARGV[b + 5], hosts = ARGV[b + 6], orig = ARGV[b + 7],
  }
end

-- Preconditions first: nothing is written if any check fails.
local conflicts = {}
for _, s in ipairs(sessions) do
  check_venues(s.venues, series_id ~= '' and 'series.template.venue_ids' or nil)
  s.resources = resources_of(s.venues, s.hosts)
  if not allow then
    find_conflicts(s.resources, s.start, s.finish, s.id, conflicts)
  end
end
if #conflicts > 0 then
  table.insert(conflicts, 1, 'CONFLICTS')
  return conflicts
end

for _, s in ipairs(sessions) do
  redis.call('HSET', session_key(s.id), 'data', s.data, 'state', s.state,
             'version', 1, 'updated', now, 'start', s.start, 'end', s.finish,
             'venues', s.venues, 'hosts', s.hosts, 'series', series_id,
             'orig', s.orig)
  redis.call('ZADD', P .. 'sessions', s.start, s.id)
  if s.state ~= CANCELLED then book(s.resources, s.id, s.start) end
  if series_id ~= '' then
    redis.call('ZADD', P .. 'series:' .. series_id .. ':sessions', s.orig, s.id)
  end
  feed('session.created', s.id, tostring(s.state))
end

local result = sessions[1].id
if series_id ~= '' then
  redis.call('HSET', P .. 'series:' .. series_id, 'data', series_data,
             'version', 1, 'updated', now)
  feed('series.created', series_id, '')
  result = series_id
end
if idem ~= '' then th_remember(P .. idem, result, 86400) end
return {'OK', result}
