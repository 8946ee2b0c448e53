-- Adds (once) a FOLLOW_UP item at position 0 holding the series' OPEN and
-- IN_PROGRESS action items that were created in other sessions.
-- ARGV: session, series, item JSON (id, title, kind FOLLOW_UP, PENDING),
--       now (RFC 3339).
-- Returns {'OK'|'EXISTING', item JSON, action JSON...}.
local s, series, json, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function reply(kind, item)
  local out = {kind, encode(item)}
  for _, action_id in ipairs(item.actionItemIds or {}) do
    local action = redis.call('GET', action_key(action_id))
    if action then table.insert(out, action) end
  end
  return out
end

local existing = redis.call('GET', followup_key(s))
if existing then
  local stored = redis.call('HGET', items_key(s), existing)
  if stored then return reply('EXISTING', with_position(s, cjson.decode(stored))) end
end
local item = cjson.decode(json)
local carried = {}
for _, action_id in ipairs(redis.call('LRANGE', series_actions_key(series), 0, -1)) do
  local stored = redis.call('GET', action_key(action_id))
  if stored then
    local action = cjson.decode(stored)
    if action.sessionId ~= s and (action.status == 'ACTION_ITEM_STATUS_OPEN' or
        action.status == 'ACTION_ITEM_STATUS_IN_PROGRESS') then
      table.insert(carried, action_id)
    end
  end
end
item.actionItemIds = carried
insert_at(s, item.id, 0)
item = save_item(s, item)
redis.call('SET', followup_key(s), item.id)
feed('agenda.item.created', item.id, 'item', item, now)
return reply('OK', item)
