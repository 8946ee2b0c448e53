-- Registers a participant for a session: every arrival-order decision
-- (seat, waitlist, quota, standby) is taken here, atomically, and the
-- participant's organization and name are read here too, so that Register
-- is one round trip.
-- KEYS[1] tenant prefix, KEYS[2] the participant's directory record
-- (townhall.v1.Participant bytes; DirectoryStore's key).
-- ARGV: session, participant, role, delegation, self ('1' for a
--       self-registration: PENDING), capacity (0: unlimited), now (unix
--       µs), idempotency key ('' for none), refusal ('' or a
--       FAILED_PRECONDITION message, checked after the idempotency lookup
--       so that a retry still gets its first answer).
-- Returns {'OK', record...} or {'EXISTING', record...} for a repeated
-- request; refusals: {'REGISTERED', status}, {'NOT_INVITED', org},
-- {'QUOTA_FULL', quota, org}, {'STANDBY_FULL', quota, org}. Fails NOT_FOUND when the
-- participant does not exist.
local s, p, role, delegation = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local self, capacity, now = ARGV[5] == '1', tonumber(ARGV[6]), ARGV[7]
local idem, refusal = ARGV[8], ARGV[9]

-- townhall.v1.Participant field numbers.
local DISPLAY_NAME, ORGANIZATION_ID = 3, 4
local participant = redis.call('GET', KEYS[2])
if not participant then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' not found')
end
local fields = pb_string_fields(participant,
                                {[DISPLAY_NAME] = true, [ORGANIZATION_ID] = true})
if not fields then th_fail('INTERNAL', 'corrupt participant') end
local org, name = fields[ORGANIZATION_ID], fields[DISPLAY_NAME]

if idem ~= '' then
  local earlier = redis.call('GET', P .. idem)
  if earlier then
    local record = reg_record(s, earlier)
    if record then return append_all({'EXISTING'}, record) end
  end
end
if refusal ~= '' then th_fail('FAILED_PRECONDITION', refusal) end

-- Preconditions first: nothing is written if one fails.
local key = reg_key(s, p)
local current = redis.call('HGET', key, 'status')
if current and tonumber(current) ~= CANCELLED then
  return {'REGISTERED', current}
end
local refused = delegation_refusal(s, org, delegation, not self)
if refused then return refused end

-- Seats freed by a grown capacity go to those already waiting.
promote_free(s, capacity, now)

local seq = next_seq(s)
local status
if self then
  status = PENDING
  redis.call('ZADD', pending_key(s), seq, p)
else
  status = take_place(s, p, org, delegation, capacity, seq)
end

-- A re-registration keeps its generation (the cancellation already bumped
-- it past every older token).
redis.call('HSET', key, 'status', status, 'role', role, 'delegation',
           delegation, 'org', org, 'name', name, 'self', self and 1 or 0,
           'seq', seq, 'create_us', now, 'update_us', now, 'reason', '')
redis.call('HSETNX', key, 'gen', 1)
redis.call('ZADD', regs_key(s), seq, p)
feed('registration.created', s, p, tostring(status))
if idem ~= '' then th_remember(P .. idem, p, IDEM_TTL) end
return append_all({'OK'}, reg_record(s, p))
