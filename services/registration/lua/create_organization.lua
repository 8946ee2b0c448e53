-- Creates an organization, unless one with a matching name exists in the
-- same country: the duplicate check and every write are one atomic step, so
-- concurrent creates of the same organization create it once.
-- KEYS: tenant prefix, org:<id>, orgs, orgs:country:<CC>, orgs:match,
-- orgs:names, directory:match_version (DirectoryKeys).
-- ARGV: idempotency key suffix ('' for none), id, serialized
--       townhall.v1.Organization, country code, match key version, then the
--       organization's match keys (each of its names folded for matching,
--       "t:<latin>" and "s:<skeleton>"; distinct and non-empty).
-- Returns {'OK', id}, {'EXISTING', id} for a repeated request,
-- {'DUPLICATE', other_id, key} when an organization of the same country
-- already has match key `key`, or {'REINDEX', version} when the tenant's
-- indexes do not hold keys of this version yet (DirectoryStore::Reindex
-- adds them, then the caller retries).
local idem, id, data, country, version =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local FIRST_KEY = 6

local earlier = earlier_result(idem)
if earlier then return {'EXISTING', earlier} end

local record, all, of_country, match, names, match_version =
  KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if redis.call('GET', match_version) ~= version then
  return {'REINDEX', version}
end
for i = FIRST_KEY, #ARGV do
  local other = redis.call('HGET', match, country .. ':' .. ARGV[i])
  if other then return {'DUPLICATE', other, ARGV[i]} end
end

redis.call('SET', record, data)
redis.call('ZADD', all, 0, id)
redis.call('ZADD', of_country, 0, id)
for i = FIRST_KEY, #ARGV do
  redis.call('HSET', match, country .. ':' .. ARGV[i], id)
  add_name(names, ARGV[i], id)
end
feed('organization.created', id, country)
if idem ~= '' then th_remember(P .. idem, id, IDEMPOTENCY_TTL_SECONDS) end
return {'OK', id}
