-- Invites an organization to a session with a seat quota, or changes the
-- quota of an invitation.
-- KEYS[1] tenant prefix, KEYS[2] the organization's directory record
-- (DirectoryStore's key).
-- ARGV: session, organization id, seat quota.
-- Returns {'OK', quota, used}; {'BELOW_USED', used} when the new quota is
-- below the delegate seats already in use.
local s, org, quota = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 0 then
  th_fail('NOT_FOUND', 'organization ' .. org .. ' not found')
end
local key = invite_key(s, org)
local used = tonumber(redis.call('HGET', key, 'used') or '0')
if quota < used then return {'BELOW_USED', used} end
redis.call('HSET', key, 'quota', quota, 'used', used)
feed('registration.invited', s, org, tostring(quota))
return {'OK', quota, used}
