-- Lists a tenant's revocation stream in the index every RevocationWatcher
-- follows (services/common/auth/revocation_list.h): the tenant id is
-- appended to the index stream the first time only, so the index holds one
-- entry per tenant that ever revoked something. Idempotent.
-- KEYS[1] the set of listed tenants, KEYS[2] the index stream (one slot).
-- ARGV: tenant id.
-- Returns 1 when the tenant was listed now, 0 when it already was.
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 't', ARGV[1])
return 1
