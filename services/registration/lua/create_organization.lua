-- Creates an organization, unless one with a matching name exists in the
-- same country: the duplicate check and every write are one atomic step, so
-- concurrent creates of the same organization create it once.
-- KEYS: tenant prefix, org:<id>, orgs, orgs:country:<CC>, orgs:match,
-- orgs:names (DirectoryKeys).
-- ARGV: idempotency key suffix ('' for none), id, serialized
--       townhall.v1.Organization, country code, then the organization's
--       match keys (each of its names folded for matching; distinct and
--       non-empty).
-- Returns {'OK', id}, {'EXISTING', id} for a repeated request, or
-- {'DUPLICATE', other_id, key} when an organization of the same country
-- already has match key `key`.
local idem, id, data, country = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local earlier = earlier_result(idem)
if earlier then return {'EXISTING', earlier} end

local record, all, of_country, match, names =
  KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
for i = 5, #ARGV do
  local other = redis.call('HGET', match, country .. ':' .. ARGV[i])
  if other then return {'DUPLICATE', other, ARGV[i]} end
end

redis.call('SET', record, data)
redis.call('ZADD', all, 0, id)
redis.call('ZADD', of_country, 0, id)
for i = 5, #ARGV do
  redis.call('HSET', match, country .. ':' .. ARGV[i], id)
  -- The same name may be taken in other countries: keep every id.
  local ids = redis.call('HGET', names, ARGV[i])
  redis.call('HSET', names, ARGV[i], ids and (ids .. ' ' .. id) or id)
end
feed('organization.created', id, country)
if idem ~= '' then th_remember(P .. idem, id, IDEMPOTENCY_TTL_SECONDS) end
return {'OK', id}
