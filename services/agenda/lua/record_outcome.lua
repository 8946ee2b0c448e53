-- Records an outcome on an existing item.
-- ARGV: session, outcome JSON (id, agendaItemId, kind, text, createTime),
--       idempotency key, now (RFC 3339).
-- Returns {'OK'|'EXISTING', outcome JSON}.
local s, json, idem, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local earlier = idem_lookup(idem)
if earlier then
  local stored = redis.call('HGET', outcomes_key(s), earlier)
  if stored then return {'EXISTING', stored} end
end
local outcome = cjson.decode(json)
load_item(s, outcome.agendaItemId)
local encoded = encode(outcome)
redis.call('HSET', outcomes_key(s), outcome.id, encoded)
redis.call('RPUSH', outcome_ids_key(s), outcome.id)
feed('agenda.outcome.recorded', outcome.id, 'outcome', outcome, now)
remember(idem, outcome.id)
return {'OK', encoded}
