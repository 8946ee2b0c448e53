-- Registers a participant for a session: every arrival-order decision
-- (seat, waitlist, quota, standby) is taken here, atomically.
-- KEYS[1] tenant prefix.
-- ARGV: session, participant, role, delegation, organization id, display
--       name, self ('1' for a self-registration: PENDING), capacity (0:
--       unlimited), now (unix µs), idempotency key ('' for none), refusal
--       ('' or a FAILED_PRECONDITION message, checked after the idempotency
--       lookup so that a retry still gets its first answer).
-- Returns {'OK', record...} or {'EXISTING', record...} for a repeated
-- request; refusals: {'REGISTERED', status}, {'NOT_INVITED'},
-- {'QUOTA_FULL', quota}, {'STANDBY_FULL', quota}.
local s, p, role, delegation = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local org, name, self = ARGV[5], ARGV[6], ARGV[7] == '1'
local capacity, now, idem, refusal = tonumber(ARGV[8]), ARGV[9], ARGV[10], ARGV[11]

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
if delegation == DELEGATE or delegation == SUBSTITUTE then
  local inv = redis.call('HMGET', invite_key(s, org), 'quota', 'used')
  if org == '' or not inv[1] then return {'NOT_INVITED'} end
  local quota, used = tonumber(inv[1]), tonumber(inv[2] or '0')
  if delegation == DELEGATE and used >= quota then
    return {'QUOTA_FULL', quota}
  end
  if delegation == SUBSTITUTE and not self and
      redis.call('ZCARD', standby_key(s, org)) >= quota then
    return {'STANDBY_FULL', quota}
  end
end

-- Seats freed by a grown capacity go to those already waiting.
promote_free(s, capacity, now)

local seq = next_seq(s)
local status
if self then
  status = PENDING
  redis.call('ZADD', pending_key(s), seq, p)
elseif delegation == SUBSTITUTE then
  status = STANDBY
  redis.call('ZADD', standby_key(s, org), seq, p)
elseif seat_free(s, capacity) then
  status = CONFIRMED
  redis.call('ZADD', seats_key(s), seq, p)
else
  status = WAITLISTED
  redis.call('ZADD', waitlist_key(s), seq, p)
end
if delegation == DELEGATE and not self then
  redis.call('HINCRBY', invite_key(s, org), 'used', 1)
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
