-- Creates a poll in DRAFT.
-- ARGV: id, def (Poll JSON), kind, n, k, smin, smax, secrecy, change (0/1),
-- closes_at (RFC 3339 or ''), closes_ms, now (RFC 3339), idempotency key
-- suffix ('' for none; IdempotencyKey in C++), actor, role.
-- Returns {'OK' | 'EXISTING', view...} (append_view).
local id, def, kind, n, k, smin, smax, secrecy, change_ok, closes_at,
      closes_ms, now, idem, actor, role = unpack(ARGV)
local MAX_POLLS = 1000
if idem ~= '' then
  local prior = redis.call('GET', P .. idem)
  if prior then
    local p = load_poll(prior)
    if p then return append_view({'EXISTING'}, p, '', false) end
  end
end
if redis.call('ZCARD', P .. 'polls') >= MAX_POLLS then
  th_fail('RESOURCE_EXHAUSTED', 'a session holds at most ' .. MAX_POLLS ..
          ' polls')
end
local seq = redis.call('INCR', P .. 'polls:seq')
local p = {id = id, def = def, kind = kind, n = n, k = k, smin = smin,
           smax = smax, secrecy = secrecy, change = change_ok,
           state = 'DRAFT', closes_at = closes_at, closes_ms = closes_ms,
           reopens = '0', ballots = '0', seq = tostring(seq)}
local flat = {}
for field, v in pairs(p) do
  if field ~= 'id' then flat[#flat + 1] = field; flat[#flat + 1] = v end
end
redis.call('HSET', poll_key(id), unpack(flat))
redis.call('ZADD', P .. 'polls', seq, id)
if idem ~= '' then th_remember(P .. idem, id, IDEM_TTL) end
th_audit(P, actor, role, 'poll.create', 'pollIds', {id}, '', now)
change('poll.created', p)
return append_view({'OK'}, p, '', false)
