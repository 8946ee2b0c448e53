-- Approves a PENDING (self-)registration: CONFIRMED while seats remain,
-- else WAITLISTED in approval order; a substitute becomes STANDBY.
-- KEYS[1] tenant prefix.
-- ARGV: session, participant, capacity (0: unlimited), now (unix µs).
-- Returns {'OK', record...}; refusals: {'BAD_STATUS', status}, and those
-- of delegation_refusal for the organization the participant registered
-- with: {'NOT_INVITED', org}, {'QUOTA_FULL', quota, org},
-- {'STANDBY_FULL', quota, org}.
local s, p, capacity, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local key = reg_key(s, p)
local f = redis.call('HMGET', key, 'status', 'delegation', 'org')
if not f[1] then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' is not registered for session ' .. s)
end
if tonumber(f[1]) ~= PENDING then return {'BAD_STATUS', f[1]} end
local delegation, org = tonumber(f[2]), f[3] or ''
local refused = delegation_refusal(s, org, delegation, true)
if refused then return refused end

promote_free(s, capacity, now)
redis.call('ZREM', pending_key(s), p)
local status = take_place(s, p, org, delegation, capacity, next_seq(s))
redis.call('HSET', key, 'status', status, 'update_us', now)
feed('registration.approved', s, p, tostring(status))
return append_all({'OK'}, reg_record(s, p))
