-- Duplicate candidates: every PENDING and open question's matching form.
-- Returns {'OK', id, match, status, id, match, status, ...}.
local flat = redis.call('HGETALL', P .. 'match')
local out = {'OK'}
for i = 1, #flat, 2 do
  out[#out + 1] = flat[i]
  out[#out + 1] = flat[i + 1]
  out[#out + 1] = redis.call('HGET', qkey(flat[i]), 'status') or ''
end
return out
