-- Creates a participant, unless it duplicates one: with an email, another
-- participant with that email; without, another participant of the same
-- organization with the same folded name. Check and writes are one atomic
-- step.
-- KEYS: tenant prefix, participant:<id>, participants, participants:match,
-- and with an organization org:<org>, org:<org>:participants
-- (DirectoryKeys).
-- ARGV: idempotency key suffix ('' for none), id, serialized
--       townhall.v1.Participant, organization id ('' for none), email field
--       ('' without email), name field (see DirectoryStore for both).
-- Returns {'OK', id}, {'EXISTING', id} for a repeated request, or
-- {'DUPLICATE', other_id, 'email' or 'name'}. Fails NOT_FOUND when the
-- organization does not exist.
local idem, id, data, org = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local email_field, name_field = ARGV[5], ARGV[6]

local earlier = earlier_result(idem)
if earlier then return {'EXISTING', earlier} end

local record, all, match, org_record, members =
  KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if org ~= '' and redis.call('EXISTS', org_record) == 0 then
  th_fail('NOT_FOUND', 'organization ' .. org .. ' not found')
end
local by_email = email_field ~= ''
local other = redis.call('HGET', match, by_email and email_field or name_field)
if other then return {'DUPLICATE', other, by_email and 'email' or 'name'} end

redis.call('SET', record, data)
redis.call('ZADD', all, 0, id)
if org ~= '' then redis.call('ZADD', members, 0, id) end
if by_email then redis.call('HSET', match, email_field, id) end
-- The first participant of a name in an organization keeps the name field:
-- later ones (with other emails) are different people of the same name.
redis.call('HSETNX', match, name_field, id)
feed('participant.created', id, org)
if idem ~= '' then th_remember(P .. idem, id, IDEMPOTENCY_TTL_SECONDS) end
return {'OK', id}
