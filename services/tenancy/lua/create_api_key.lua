-- Stores a new API key unless its tenant holds the most it may already:
-- the count and the write are one step, so concurrent creates never pass
-- the limit.
-- KEYS[1] the tenant prefix (the slot), KEYS[2] the key's hash,
-- KEYS[3] the tenant's index of key ids.
-- ARGV: key id, ApiKey bytes (with the key's SHA-256, never the key), the
-- most keys a tenant may hold.
-- Returns {'OK'}, or {'LIMIT'} when the tenant is full.
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  return {'LIMIT'}
end
redis.call('HSET', KEYS[2], 'pb', ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return {'OK'}
