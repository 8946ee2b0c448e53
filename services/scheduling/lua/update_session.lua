-- Replaces a session's editable fields if its version (etag) is current.
-- KEYS[1] tenant prefix.
-- ARGV: id, expected version, now (unix microseconds), allow_conflicts,
--       serialized session, start, end, venues csv, hosts csv.
-- Returns {'OK', new version}, {'BAD_STATE', state} or
-- {'CONFLICTS', id, resource, ...}.
local id, expected, now, allow = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local data, start, finish = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local venues, hosts = ARGV[8], ARGV[9]
local key = session_key(id)

local current = redis.call('HMGET', key, 'version', 'state')
if not current[1] then th_fail('NOT_FOUND', 'session ' .. id .. ' not found') end
if current[1] ~= expected then
  th_fail('ABORTED', 'etag "' .. expected .. '" is stale: the session changed' ..
          ' (current etag "' .. current[1] .. '"); read it again and retry')
end
local state = tonumber(current[2])
if state == ENDED or state == CANCELLED then return {'BAD_STATE', state} end
check_venues(venues)
local resources = resources_of(venues, hosts)
if not allow then
  local conflicts = {}
  find_conflicts(resources, start, finish, id, conflicts)
  if #conflicts > 0 then
    table.insert(conflicts, 1, 'CONFLICTS')
    return conflicts
  end
end

unbook(session_resources(id), id)
redis.call('HSET', key, 'data', data, 'updated', now, 'start', start,
           'end', finish, 'venues', venues, 'hosts', hosts)
local version = redis.call('HINCRBY', key, 'version', 1)
redis.call('ZADD', P .. 'sessions', start, id)
book(resources, id, start)
feed('session.updated', id, tostring(state))
return {'OK', version}
