-- Removes a PENDING item.
-- ARGV: session, item id, now (RFC 3339).
-- Returns {'OK'}; FAILED_PRECONDITION for an item that is not PENDING.
local s, id, now = ARGV[1], ARGV[2], ARGV[3]
local item = load_item(s, id)
if status_of(item) ~= 'AGENDA_ITEM_STATUS_PENDING' then
  th_fail('FAILED_PRECONDITION', 'agenda item ' .. id .. ' is ' ..
          status_of(item) .. ': only PENDING items can be deleted')
end
item = with_position(s, item)
redis.call('LREM', order_key(s), 0, id)
redis.call('HDEL', items_key(s), id)
if redis.call('GET', followup_key(s)) == id then
  redis.call('DEL', followup_key(s))
end
feed('agenda.item.deleted', id, 'item', item, now)
return {'OK'}
