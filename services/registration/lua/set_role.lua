-- Changes a participant's role in a session and revokes the join tokens
-- that carry the old role.
-- KEYS[1] tenant prefix, KEYS[2] the tenant's revocation stream
-- (RevocationStreamKey).
-- ARGV: session, participant, role, now (unix µs), revocation key,
--       revocation stream MINID.
-- Returns {'OK', record...}; {'BAD_STATUS', status} when cancelled.
local s, p, role, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local revocation_key, min_id = ARGV[5], ARGV[6]
local key = reg_key(s, p)
local f = redis.call('HMGET', key, 'status', 'role')
if not f[1] then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' is not registered for session ' .. s)
end
if tonumber(f[1]) == CANCELLED then return {'BAD_STATUS', f[1]} end
-- The same role again changes nothing, so no token needs to stop working.
if f[2] ~= role then
  redis.call('HSET', key, 'role', role, 'update_us', now)
  local gen = redis.call('HINCRBY', key, 'gen', 1)
  revoke(revocation_key, gen, min_id)
  feed('registration.role', s, p, role)
end
return append_all({'OK'}, reg_record(s, p))
