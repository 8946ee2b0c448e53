-- Adds (up = '1') or withdraws ('0') participants' votes. The hot path: its
-- prelude is only queue_core.lua, and it takes a batch of calls
-- (RedisEventLoop::EvalBatched), six ARGV each:
--   id, voter, now_ms, up, rate_limited (0/1), now (RFC 3339).
-- Returns one reply per call, in order: {'OK', votes}, {'UNCHANGED', votes},
-- {'BAD_STATE', status}, {'NOT_FOUND', id} or
-- {'RATE_LIMITED', retry_ms, per_minute}.
-- The calls take effect one after another, exactly as if each were its own
-- script; what they share is read once and written once at the end: each
-- question's count and rankings, each voter's rate bucket, and one feed
-- entry per agenda item with the new counts.
local ARITY = 6

local questions = {}  -- id -> question state, or false when there is none
local changed = {}    -- ids of questions whose count changed, in order

-- The rate-limited voters' buckets (queue_core.lua), read in one command.
local votes_per_minute = 0
local buckets = {}
local limited_voters, seen = {}, {}
for base = 0, #ARGV - 1, ARITY do
  local voter, limited = ARGV[base + 2], ARGV[base + 5]
  if limited == '1' and voter ~= '' and not seen[voter] then
    seen[voter] = true
    limited_voters[#limited_voters + 1] = voter
  end
end
if #limited_voters > 0 then
  votes_per_minute = tonumber(redis.call('HGET', P .. 'settings', 'vpm') or
                              '120')
  if votes_per_minute > 0 then
    buckets = read_buckets('v', limited_voters, votes_per_minute)
  end
end
local taken = {}  -- voter -> bucket, for the buckets to write back

local function question(id)
  local q = questions[id]
  if q == nil then
    local f = redis.call('HMGET', qkey(id), 'status', 'votes', 'seq', 'trend',
                         'item')
    q = f[1] and {id = id, status = f[1], votes = tonumber(f[2]), seq = f[3],
                  trend = tonumber(f[4]), item = f[5] or ''} or false
    questions[id] = q
  end
  return q
end

-- 0 when the voter had a token, else the wait in milliseconds.
local function take_vote_token(voter, now_ms)
  local bucket = buckets[voter]
  if not bucket then return 0 end  -- not limited (no voter, or no limit)
  local wait = take_from(bucket, votes_per_minute, now_ms)
  if wait == 0 then taken[voter] = bucket end
  return wait
end

local function vote(id, voter, now_ms, up, limited, now)
  local q = question(id)
  if not q then return {'NOT_FOUND', id} end
  if not is_open(q.status) then return {'BAD_STATE', q.status} end
  local vkey = voters_key(id)
  local ms = tonumber(now_ms)
  if up == '1' then
    -- Recorded first (one command instead of a read and a write), taken
    -- back in the rare case the voter is over the limit.
    if redis.call('HSETNX', vkey, voter, now_ms) == 0 then
      return {'UNCHANGED', tostring(q.votes)}
    end
    if limited == '1' then
      local wait = take_vote_token(voter, ms)
      if wait > 0 then
        redis.call('HDEL', vkey, voter)
        return {'RATE_LIMITED', tostring(wait), tostring(votes_per_minute)}
      end
    end
    q.votes = q.votes + 1
    q.trend = log2addexp(q.trend, weight(ms))
  else
    local voted_at = redis.call('HGET', vkey, voter)
    if not voted_at then return {'UNCHANGED', tostring(q.votes)} end
    if limited == '1' then
      local wait = take_vote_token(voter, ms)
      if wait > 0 then
        return {'RATE_LIMITED', tostring(wait), tostring(votes_per_minute)}
      end
    end
    redis.call('HDEL', vkey, voter)
    q.votes = q.votes - 1
    q.trend = log2subexp(q.trend, weight(voted_at), q.trend)
  end
  if not q.now then changed[#changed + 1] = id end
  q.now = now
  return {'OK', tostring(q.votes)}
end

local replies = {}
for base = 0, #ARGV - 1, ARITY do
  replies[#replies + 1] = vote(unpack(ARGV, base + 1, base + ARITY))
end

if #changed > 0 then
  -- Rankings: one ZADD per ranking key for the whole batch.
  local ranked = {}  -- ranking key -> ZADD arguments
  local ranking_keys = {}
  local function rank(key, score, id)
    local args = ranked[key]
    if not args then
      args = {}
      ranked[key] = args
      ranking_keys[#ranking_keys + 1] = key
    end
    args[#args + 1] = score
    args[#args + 1] = id
  end
  -- Feed: one entry per agenda item (watchers of an item get its entries).
  local feed = {}  -- item -> {time, counts}
  local feed_items = {}
  for _, id in ipairs(changed) do
    local q = questions[id]
    local t = fmt(q.trend)
    local top = fmt(top_score(q))
    redis.call('HSET', qkey(id), 'votes', q.votes, 'trend', t)
    rank(P .. 'top', top, id)
    rank(P .. 'trend', t, id)
    if q.item ~= '' then
      rank(P .. 'top:' .. q.item, top, id)
      rank(P .. 'trend:' .. q.item, t, id)
    end
    local entry = feed[q.item]
    if not entry then
      entry = {id = id, counts = {}}
      feed[q.item] = entry
      feed_items[#feed_items + 1] = q.item
    end
    entry.time = q.now
    entry.counts[#entry.counts + 1] =
        '{"questionId":"' .. id .. '","votes":' .. q.votes ..
        ',"trendingScore":' .. t .. ',"agendaItemId":"' .. q.item .. '"}'
  end
  for _, key in ipairs(ranking_keys) do
    redis.call('ZADD', key, unpack(ranked[key]))
  end
  for _, item in ipairs(feed_items) do
    local entry = feed[item]
    th_feed_append(FEED_VERSION, FEED_EVENTS, 'question.votes', entry.id,
                   '{"time":"' .. entry.time .. '","votes":[' ..
                   table.concat(entry.counts, ',') .. ']}')
  end
end

write_buckets('v', taken)

return replies
