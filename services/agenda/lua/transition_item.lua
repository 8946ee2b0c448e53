-- Changes an item's state: 'activate' (PENDING or SKIPPED -> ACTIVE; the
-- previously active item becomes DONE), 'complete' (ACTIVE -> DONE) or
-- 'skip' (PENDING -> SKIPPED). One script per state machine keeps the
-- "exactly one ACTIVE item" rule in one place.
-- ARGV: session, item id, action, now (RFC 3339).
-- Returns {'OK', item JSON, previous item JSON or ''}.
local s, id, action, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local item = load_item(s, id)
local status = status_of(item)
local PENDING, ACTIVE = 'AGENDA_ITEM_STATUS_PENDING', 'AGENDA_ITEM_STATUS_ACTIVE'
local DONE, SKIPPED = 'AGENDA_ITEM_STATUS_DONE', 'AGENDA_ITEM_STATUS_SKIPPED'

local function refuse(allowed)
  th_fail('FAILED_PRECONDITION', 'agenda item ' .. id .. ' is ' .. status ..
          ': only ' .. allowed .. ' items can be ' .. action .. 'd')
end

if action == 'activate' then
  -- A retry of the same activation changes nothing.
  if status == ACTIVE then return {'OK', encode(with_position(s, item)), ''} end
  if status ~= PENDING and status ~= SKIPPED then refuse('PENDING or SKIPPED') end
  local previous_json = ''
  local previous_id = redis.call('GET', active_key(s))
  if previous_id and previous_id ~= id then
    local stored = redis.call('HGET', items_key(s), previous_id)
    if stored then
      local previous = cjson.decode(stored)
      previous.status = DONE
      previous.actualEndTime = now
      previous = save_item(s, previous)
      feed('agenda.item.completed', previous_id, 'item', previous, now)
      previous_json = encode(previous)
    end
  end
  item.status = ACTIVE
  item.actualStartTime = now
  item.actualEndTime = nil
  redis.call('SET', active_key(s), id)
  item = save_item(s, item)
  feed('agenda.item.activated', id, 'item', item, now)
  return {'OK', encode(item), previous_json}
elseif action == 'complete' then
  if status ~= ACTIVE then refuse('ACTIVE') end
  item.status = DONE
  item.actualEndTime = now
  redis.call('DEL', active_key(s))
  item = save_item(s, item)
  feed('agenda.item.completed', id, 'item', item, now)
  return {'OK', encode(item), ''}
elseif action == 'skip' then
  if status ~= PENDING then refuse('PENDING') end
  item.status = SKIPPED
  item = save_item(s, item)
  feed('agenda.item.skipped', id, 'item', item, now)
  return {'OK', encode(item), ''}
end
th_fail('INTERNAL', 'unknown action ' .. action)
