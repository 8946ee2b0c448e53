-- Creates a participant, unless it duplicates one: with an email, another
-- participant with that email; without, another participant of the same
-- organization with a matching name. Check and writes are one atomic step.
-- KEYS: tenant prefix, participant:<id>, participants, participants:match,
-- directory:match_version, and with an organization org:<org>,
-- org:<org>:participants (DirectoryKeys).
-- ARGV: idempotency key suffix ('' for none), id, serialized
--       townhall.v1.Participant, organization id ('' for none), email field
--       ('' without email), match key version, then the name fields (see
--       DirectoryStore for both).
-- Returns {'OK', id}, {'EXISTING', id} for a repeated request,
-- {'DUPLICATE', other_id, 'email' or 'name'}, or {'REINDEX', version} (see
-- create_organization.lua). Fails NOT_FOUND when the organization does not
-- exist.
local idem, id, data, org = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local email_field, version = ARGV[5], ARGV[6]
local FIRST_NAME_FIELD = 7

local earlier = earlier_result(idem)
if earlier then return {'EXISTING', earlier} end

local record, all, match, match_version, org_record, members =
  KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if org ~= '' and redis.call('EXISTS', org_record) == 0 then
  th_fail('NOT_FOUND', 'organization ' .. org .. ' not found')
end
if redis.call('GET', match_version) ~= version then
  return {'REINDEX', version}
end
if email_field ~= '' then
  local other = redis.call('HGET', match, email_field)
  if other then return {'DUPLICATE', other, 'email'} end
else
  for i = FIRST_NAME_FIELD, #ARGV do
    local other = redis.call('HGET', match, ARGV[i])
    if other then return {'DUPLICATE', other, 'name'} end
  end
end

redis.call('SET', record, data)
redis.call('ZADD', all, 0, id)
if org ~= '' then redis.call('ZADD', members, 0, id) end
if email_field ~= '' then redis.call('HSET', match, email_field, id) end
-- The first participant of a name in an organization keeps the name fields:
-- later ones (with other emails) are different people of the same name.
for i = FIRST_NAME_FIELD, #ARGV do
  redis.call('HSETNX', match, ARGV[i], id)
end
feed('participant.created', id, org)
if idem ~= '' then th_remember(P .. idem, id, IDEMPOTENCY_TTL_SECONDS) end
return {'OK', id}
