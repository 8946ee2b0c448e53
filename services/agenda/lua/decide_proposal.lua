-- Accepts a PENDING proposal (a new item, linked both ways) or declines it
-- with a reason.
-- ARGV: session, proposal id, 'accept' or 'decline', item JSON (accept:
--       id, title, ...; the proposal link is set here) or the reason,
--       position (-1: at the end), now (RFC 3339).
-- Returns {'OK', proposal JSON, item JSON or ''}.
local s, id, decision, arg, pos, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local stored = redis.call('HGET', proposals_key(s), id)
if not stored then th_fail('NOT_FOUND', 'topic proposal ' .. id .. ' not found in session ' .. s) end
local proposal = cjson.decode(stored)
if proposal.status ~= 'TOPIC_PROPOSAL_STATUS_PENDING' then
  th_fail('FAILED_PRECONDITION', 'topic proposal ' .. id .. ' is already ' ..
          (proposal.status or 'UNSPECIFIED'))
end
local item_json = ''
if decision == 'accept' then
  local item = cjson.decode(arg)
  item.topicProposalId = id
  insert_at(s, item.id, pos)
  item = save_item(s, item)
  feed('agenda.item.created', item.id, 'item', item, now)
  item_json = encode(item)
  proposal.status = 'TOPIC_PROPOSAL_STATUS_ACCEPTED'
  proposal.agendaItemId = item.id
  redis.call('HSET', proposals_key(s), id, encode(proposal))
  feed('agenda.proposal.accepted', id, 'proposal', proposal, now)
else
  proposal.status = 'TOPIC_PROPOSAL_STATUS_DECLINED'
  proposal.declineReason = arg
  redis.call('HSET', proposals_key(s), id, encode(proposal))
  feed('agenda.proposal.declined', id, 'proposal', proposal, now)
end
return {'OK', encode(proposal), item_json}
