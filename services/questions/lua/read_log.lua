#!lua flags=no-writes
-- The moderation log, oldest first: ARGV offset, count.
-- Returns {'OK', total, action json...}.
local offset, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local total = tonumber(redis.call('GET', P .. 'audit:n') or '0')
local out = {'OK', tostring(total)}
for n = offset + 1, math.min(total, offset + count) do
  out[#out + 1] = redis.call('HGET', P .. 'audit', n) or ''
end
return out
