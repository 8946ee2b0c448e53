-- Cancels a registration (or rejects a pending one) and, in the same step,
-- gives a freed seat to the organization's earliest substitute (a freed
-- delegate seat) or else to the first on the waitlist, and revokes the
-- participant's join tokens.
-- KEYS[1] tenant prefix, KEYS[2] the tenant's revocation stream
-- (RevocationStreamKey).
-- ARGV: session, participant, reason, now (unix µs), capacity (0:
--       unlimited), revocation key, revocation stream MINID.
-- Returns {'OK', record..., promoted record...} (the promoted record only
-- when someone got the seat); {'BAD_STATUS', status} when already
-- cancelled.
local s, p, reason, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local capacity, revocation_key, min_id = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local key = reg_key(s, p)
local f = redis.call('HMGET', key, 'status', 'delegation', 'org')
if not f[1] then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' is not registered for session ' .. s)
end
local status, delegation, org = tonumber(f[1]), tonumber(f[2]), f[3] or ''
if status == CANCELLED then return {'BAD_STATUS', f[1]} end

local held_seat = redis.call('ZREM', seats_key(s), p) == 1
redis.call('ZREM', waitlist_key(s), p)
redis.call('ZREM', pending_key(s), p)
if org ~= '' then redis.call('ZREM', standby_key(s, org), p) end
-- Confirmed and waitlisted delegates hold a quota seat: release it.
if delegation == DELEGATE and (status == CONFIRMED or status == WAITLISTED) then
  redis.call('HINCRBY', invite_key(s, org), 'used', -1)
end
redis.call('HSET', key, 'status', CANCELLED, 'reason', reason, 'update_us', now)
local gen = redis.call('HINCRBY', key, 'gen', 1)
revoke(revocation_key, gen, min_id)
feed('registration.cancelled', s, p, tostring(CANCELLED))

local promoted = nil
if held_seat and delegation == DELEGATE and org ~= '' and
    seat_free(s, capacity) then
  local sub = redis.call('ZRANGE', standby_key(s, org), 0, 0)[1]
  if sub then
    redis.call('ZREM', standby_key(s, org), sub)
    redis.call('ZADD', seats_key(s), next_seq(s), sub)
    redis.call('HSET', reg_key(s, sub), 'status', CONFIRMED, 'delegation',
               DELEGATE, 'update_us', now)
    redis.call('HINCRBY', invite_key(s, org), 'used', 1)
    feed('registration.promoted', s, sub, tostring(CONFIRMED))
    promoted = sub
  end
end
local from_waitlist = promote_free(s, capacity, now)
if not promoted then promoted = from_waitlist[1] end

local out = append_all({'OK'}, reg_record(s, p))
if promoted then append_all(out, reg_record(s, promoted)) end
return out
