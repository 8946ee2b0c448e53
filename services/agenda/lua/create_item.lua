-- Adds an item to a session's agenda.
-- ARGV: session, item JSON (id, fields, status PENDING), position (-1: at
--       the end), idempotency key ('' for none), now (RFC 3339).
-- Returns {'OK', item JSON} or {'EXISTING', item JSON} for a retry.
local s, json, pos, idem, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local earlier = idem_lookup(idem)
if earlier then
  local stored = redis.call('HGET', items_key(s), earlier)
  if stored then return {'EXISTING', encode(with_position(s, cjson.decode(stored)))} end
end
local item = cjson.decode(json)
insert_at(s, item.id, pos)
item = save_item(s, item)
feed('agenda.item.created', item.id, 'item', item, now)
remember(idem, item.id)
return {'OK', encode(item)}
