-- Creates an action item, indexed by its session and its series.
-- ARGV: session, action JSON (id, sessionId, seriesId, ..., status OPEN,
--       first history entry, etag), idempotency key, now (RFC 3339).
-- Returns {'OK'|'EXISTING', action JSON}.
local s, json, idem, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local earlier = idem_lookup(idem)
if earlier then
  local stored = redis.call('GET', action_key(earlier))
  if stored then return {'EXISTING', stored} end
end
local action = cjson.decode(json)
if action.agendaItemId and action.agendaItemId ~= '' then
  load_item(s, action.agendaItemId)
end
local encoded = encode(action)
redis.call('SET', action_key(action.id), encoded)
redis.call('RPUSH', session_actions_key(s), action.id)
if action.seriesId and action.seriesId ~= '' then
  redis.call('RPUSH', series_actions_key(action.seriesId), action.id)
end
feed('agenda.action.created', action.id, 'actionItem', action, now)
remember(idem, action.id)
return {'OK', encoded}
