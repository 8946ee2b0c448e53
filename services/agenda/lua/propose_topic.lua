-- Stores a topic proposal.
-- ARGV: session, proposal JSON (id, participant, title, ..., PENDING),
--       idempotency key, now (RFC 3339).
-- Returns {'OK'|'EXISTING', proposal JSON}.
local s, json, idem, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local earlier = idem_lookup(idem)
if earlier then
  local stored = redis.call('HGET', proposals_key(s), earlier)
  if stored then return {'EXISTING', stored} end
end
local proposal = cjson.decode(json)
local encoded = encode(proposal)
redis.call('HSET', proposals_key(s), proposal.id, encoded)
redis.call('RPUSH', proposal_ids_key(s), proposal.id)
feed('agenda.proposal.created', proposal.id, 'proposal', proposal, now)
remember(idem, proposal.id)
return {'OK', encoded}
