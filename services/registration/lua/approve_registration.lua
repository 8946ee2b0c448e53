-- Approves a PENDING (self-)registration: CONFIRMED while seats remain,
-- else WAITLISTED in approval order; a substitute becomes STANDBY.
-- KEYS[1] tenant prefix.
-- ARGV: session, participant, capacity (0: unlimited), now (unix µs).
-- Returns {'OK', record...}; refusals: {'BAD_STATUS', status},
-- {'NOT_INVITED'}, {'QUOTA_FULL', quota}, {'STANDBY_FULL', quota}.
local s, p, capacity, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local key = reg_key(s, p)
local f = redis.call('HMGET', key, 'status', 'delegation', 'org')
if not f[1] then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' is not registered for session ' .. s)
end
if tonumber(f[1]) ~= PENDING then return {'BAD_STATUS', f[1]} end
local delegation, org = tonumber(f[2]), f[3] or ''
if delegation == DELEGATE or delegation == SUBSTITUTE then
  local inv = redis.call('HMGET', invite_key(s, org), 'quota', 'used')
  if org == '' or not inv[1] then return {'NOT_INVITED'} end
  local quota, used = tonumber(inv[1]), tonumber(inv[2] or '0')
  if delegation == DELEGATE and used >= quota then
    return {'QUOTA_FULL', quota}
  end
  if delegation == SUBSTITUTE and
      redis.call('ZCARD', standby_key(s, org)) >= quota then
    return {'STANDBY_FULL', quota}
  end
end

promote_free(s, capacity, now)
redis.call('ZREM', pending_key(s), p)
local seq = next_seq(s)
local status
if delegation == SUBSTITUTE then
  status = STANDBY
  redis.call('ZADD', standby_key(s, org), seq, p)
elseif seat_free(s, capacity) then
  status = CONFIRMED
  redis.call('ZADD', seats_key(s), seq, p)
else
  status = WAITLISTED
  redis.call('ZADD', waitlist_key(s), seq, p)
end
if delegation == DELEGATE then
  redis.call('HINCRBY', invite_key(s, org), 'used', 1)
end
redis.call('HSET', key, 'status', status, 'update_us', now)
feed('registration.approved', s, p, tostring(status))
return append_all({'OK'}, reg_record(s, p))
