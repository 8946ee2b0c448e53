-- Revokes an API key once and tells every server (the revocation stream).
-- KEYS[1] the key's hash, KEYS[2] the tenant's revocation stream
-- (RevocationStreamKey).
-- ARGV: revocation key, now (microseconds), revocation stream MINID.
-- Returns the revoke time (microseconds); the first one on a repeat.
if redis.call('EXISTS', KEYS[1]) == 0 then
  th_fail('NOT_FOUND', 'API key not found')
end
local earlier = redis.call('HGET', KEYS[1], 'revoked_us')
if earlier then return earlier end
redis.call('HSET', KEYS[1], 'revoked_us', ARGV[2])
th_revoke(KEYS[2], ARGV[1], 0, ARGV[3])
return ARGV[2]
