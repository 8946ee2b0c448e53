#!lua flags=no-writes
-- Reads a session's agenda in one step, so the version matches the state.
-- ARGV: session, what: 'agenda' | 'item' (ARGV[3]: the item) | 'proposals'
--       | 'series_actions' (ARGV[3]: the series).
-- 'agenda' returns {'OK', version, active id, #items, item JSON...,
--   #outcomes, outcome JSON..., #actions, action JSON...}; 'item'
--   {'OK', item JSON} (NOT_FOUND when absent); 'proposals'
--   {'OK', proposal JSON...}; 'series_actions' {'OK', #actions,
--   action JSON...}.
local s, what = ARGV[1], ARGV[2]

local function push_actions(out, ids)
  local found = {}
  for _, id in ipairs(ids) do
    local action = redis.call('GET', action_key(id))
    if action then table.insert(found, action) end
  end
  table.insert(out, tostring(#found))
  for _, a in ipairs(found) do table.insert(out, a) end
end

if what == 'item' then
  local item = redis.call('HGET', items_key(s), ARGV[3])
  if not item then
    th_fail('NOT_FOUND', 'agenda item ' .. ARGV[3] .. ' not found in session ' .. s)
  end
  return {'OK', item}
elseif what == 'proposals' then
  local out = {'OK'}
  for _, id in ipairs(redis.call('LRANGE', proposal_ids_key(s), 0, -1)) do
    local p = redis.call('HGET', proposals_key(s), id)
    if p then table.insert(out, p) end
  end
  return out
elseif what == 'series_actions' then
  local out = {'OK'}
  push_actions(out, redis.call('LRANGE', series_actions_key(ARGV[3]), 0, -1))
  return out
end

local out = {'OK', tostring(redis.call('GET', FEED_VERSION) or '0'),
             redis.call('GET', active_key(s)) or ''}
local order = redis.call('LRANGE', order_key(s), 0, -1)
local items = {}
for _, id in ipairs(order) do
  local item = redis.call('HGET', items_key(s), id)
  if item then table.insert(items, item) end
end
table.insert(out, tostring(#items))
for _, item in ipairs(items) do table.insert(out, item) end
local outcomes = {}
for _, id in ipairs(redis.call('LRANGE', outcome_ids_key(s), 0, -1)) do
  local o = redis.call('HGET', outcomes_key(s), id)
  if o then table.insert(outcomes, o) end
end
table.insert(out, tostring(#outcomes))
for _, o in ipairs(outcomes) do table.insert(out, o) end
push_actions(out, redis.call('LRANGE', session_actions_key(s), 0, -1))
return out
