-- Adds (ARGV[4] = '1') or withdraws ('0') a participant's vote. The hot
-- path: its prelude is only queue_core.lua, and it sends as few commands
-- as it can.
-- ARGV: id, voter, now_ms, up, rate_limited (0/1), now (RFC 3339).
-- Returns {'OK', votes}, {'UNCHANGED', votes}, {'BAD_STATE', status} or
-- {'RATE_LIMITED', retry_ms, per_minute}.
local id, voter, now_ms, up, limited, now = unpack(ARGV)
local key = qkey(id)
local f = redis.call('HMGET', key, 'status', 'votes', 'seq', 'trend', 'item')
local status, votes, seq, trend, item = f[1], tonumber(f[2]), f[3], tonumber(f[4]), f[5]
if not status then th_fail('NOT_FOUND', 'question ' .. id .. ' not found') end
if not is_open(status) then return {'BAD_STATE', status} end
local vkey = voters_key(id)
local voted_at = redis.call('HGET', vkey, voter)
if (up == '1') == (voted_at ~= false) then return {'UNCHANGED', tostring(votes)} end
if limited == '1' then
  local per_minute = tonumber(redis.call('HGET', P .. 'settings', 'vpm') or '120')
  local wait = take_token('v', voter, per_minute, tonumber(now_ms))
  if wait > 0 then return {'RATE_LIMITED', tostring(wait), tostring(per_minute)} end
end
if up == '1' then
  redis.call('HSET', vkey, voter, now_ms)
  votes = votes + 1
  trend = log2addexp(trend, weight(now_ms))
else
  redis.call('HDEL', vkey, voter)
  votes = votes - 1
  trend = log2subexp(trend, weight(voted_at), trend)
end
local t = fmt(trend)
redis.call('HSET', key, 'votes', votes, 'trend', t)
local top = fmt(top_score({votes = votes, seq = seq}))
redis.call('ZADD', P .. 'top', top, id)
redis.call('ZADD', P .. 'trend', t, id)
if item and item ~= '' then
  redis.call('ZADD', P .. 'top:' .. item, top, id)
  redis.call('ZADD', P .. 'trend:' .. item, t, id)
end
th_feed_append(FEED_VERSION, FEED_EVENTS, 'question.votes', id,
               '{"time":"' .. now .. '","votes":[{"questionId":"' .. id ..
               '","votes":' .. votes .. ',"trendingScore":' .. t ..
               ',"agendaItemId":"' .. (item or '') .. '"}]}')
return {'OK', tostring(votes)}
