-- Records joining or leaving the online session, or a check-in at the
-- venue, for a confirmed registration.
-- KEYS[1] tenant prefix.
-- ARGV: session, participant, action (1 JOIN, 2 LEAVE, 3 CHECK_IN), now
--       (unix µs), idempotency key ('' for none), refusal ('' or a
--       FAILED_PRECONDITION message, checked after the idempotency lookup).
-- Returns {'OK', attendance...} or {'EXISTING', attendance...} for a
-- repeated request; refusals: {'BAD_STATUS', status}, {'NOT_JOINED'}.
local s, p, action, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local idem, refusal = ARGV[5], ARGV[6]
local JOIN, LEAVE, CHECK_IN = 1, 2, 3

if idem ~= '' and redis.call('EXISTS', P .. idem) == 1 then
  return append_all({'EXISTING'}, att_record(s, p))
end
if refusal ~= '' then th_fail('FAILED_PRECONDITION', refusal) end

local status = redis.call('HGET', reg_key(s, p), 'status')
if not status then
  th_fail('NOT_FOUND', 'participant ' .. p .. ' is not registered for session ' .. s)
end
if tonumber(status) ~= CONFIRMED then return {'BAD_STATUS', status} end

local key = att_key(s, p)
local f = redis.call('HMGET', key, 'join_us', 'checkin_us')
local kind = nil
if action == JOIN then
  -- A second JOIN while online changes nothing.
  if not f[1] then
    redis.call('HSET', key, 'join_us', now)
    kind = 'attendance.joined'
  end
elseif action == LEAVE then
  if not f[1] then return {'NOT_JOINED'} end
  redis.call('HINCRBY', key, 'online_us', tonumber(now) - tonumber(f[1]))
  redis.call('HDEL', key, 'join_us')
  kind = 'attendance.left'
else
  if not f[2] then
    redis.call('HSET', key, 'checkin_us', now)
    kind = 'attendance.checked_in'
  end
end
if kind then
  if redis.call('HSETNX', key, 'first_us', now) == 1 then
    redis.call('ZADD', atts_key(s), now, p)
  end
  feed(kind, s, p, '')
end
if idem ~= '' then th_remember(P .. idem, '1', IDEM_TTL) end
return append_all({'OK'}, att_record(s, p))
