-- Creates a venue.
-- KEYS[1] tenant prefix. ARGV: idempotency key suffix ('' for none), venue
-- id, serialized townhall.v1.Venue.
-- Returns {'OK', id} or {'EXISTING', id} for a repeated request.
local idem, id, data = ARGV[1], ARGV[2], ARGV[3]
if idem ~= '' then
  local earlier = redis.call('GET', P .. idem)
  if earlier then return {'EXISTING', earlier} end
end
redis.call('SET', P .. 'venue:' .. id, data)
redis.call('ZADD', P .. 'venues', 0, id)
feed('venue.created', id, '')
if idem ~= '' then th_remember(P .. idem, id, 86400) end
return {'OK', id}
