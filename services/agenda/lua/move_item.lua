-- Moves an item to a 0-based position (beyond the end: last); the others
-- shift. One script, so concurrent moves never lose or duplicate an id.
-- ARGV: session, item id, position, now (RFC 3339).
-- Returns {'OK', item JSON...} in the new order.
local s, id, pos, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
load_item(s, id)
local key = order_key(s)
redis.call('LREM', key, 0, id)
if pos < 0 then pos = 0 end
insert_at(s, id, pos)
local order = redis.call('LRANGE', key, 0, -1)
feed('agenda.item.moved', id, 'order', order, now)
local out = {'OK'}
for i, item_id in ipairs(order) do
  local item = cjson.decode(redis.call('HGET', items_key(s), item_id))
  item.position = i - 1
  table.insert(out, encode(item))
end
return out
