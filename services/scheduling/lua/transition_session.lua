-- Moves a session to another state if its current state allows it (the
-- transition table lives in C++: session_state.cc).
-- KEYS[1] tenant prefix.
-- ARGV: id, allowed current states (csv of numbers), new state, now,
--       cancel reason (kept when the new state is CANCELLED; may be empty).
-- Returns {'OK', new version} or {'BAD_STATE', current state}.
local id, allowed, to, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local reason = ARGV[5] or ''
local key = session_key(id)
local state = redis.call('HGET', key, 'state')
if not state then th_fail('NOT_FOUND', 'session ' .. id .. ' not found') end
local ok = false
for _, s in ipairs(split_csv(allowed)) do
  if s == state then ok = true end
end
if not ok then return {'BAD_STATE', tonumber(state)} end

if to == CANCELLED then
  unbook(session_resources(id), id)
  redis.call('HSET', key, 'cancel_reason', reason)
end
redis.call('HSET', key, 'state', to, 'updated', now)
local version = redis.call('HINCRBY', key, 'version', 1)
feed('session.state', id, tostring(to))
return {'OK', version}
