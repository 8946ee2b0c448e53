-- Rate limits, prepended after prelude.lua by the services that limit
-- participants (questions: submissions and votes; polls: ballots). A token
-- bucket of `per_minute` tokens (also the burst) per participant, stored as
-- "<tokens> <unix ms>" in a field of one HASH per session and kind (`key`,
-- passed by the caller's own helper: one hash, so that a batch reads and
-- writes all its participants' buckets in one command each). In memory a
-- bucket is {tokens = n, ms = t}.

-- The stored buckets of `participants` (a list), full ones for those
-- without, by participant.
local function th_read_buckets(key, participants, per_minute)
  local states = redis.call('HMGET', key, unpack(participants))
  local buckets = {}
  for i, participant in ipairs(participants) do
    local bucket = {tokens = per_minute, ms = 0}
    if states[i] then
      local t, ms = string.match(states[i], '^(%S+) (%S+)$')
      bucket.tokens, bucket.ms = tonumber(t), tonumber(ms)
    end
    buckets[participant] = bucket
  end
  return buckets
end

-- Takes a token from `bucket` at `now_ms`: 0 when taken (the bucket is
-- updated), else the milliseconds until one is available.
local function th_take_from(bucket, per_minute, now_ms)
  local rate = per_minute / 60000
  local tokens = math.min(per_minute,
                          bucket.tokens + math.max(0, now_ms - bucket.ms) * rate)
  if tokens < 1 then return math.ceil((1 - tokens) / rate) end
  bucket.tokens, bucket.ms = tokens - 1, math.max(bucket.ms, now_ms)
  return 0
end

-- Stores `buckets` (participant -> bucket; only those given) in `key`.
local function th_write_buckets(key, buckets)
  local args = {}
  for participant, bucket in pairs(buckets) do
    args[#args + 1] = participant
    args[#args + 1] = string.format('%.17g', bucket.tokens) .. ' ' .. bucket.ms
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
end

-- One token for one call: one read, one write. Returns 0 when a token was
-- taken, else the milliseconds until one is available.
local function th_take_token(key, participant, per_minute, now_ms)
  if participant == '' or per_minute <= 0 then return 0 end
  local buckets = th_read_buckets(key, {participant}, per_minute)
  local wait = th_take_from(buckets[participant], per_minute, now_ms)
  if wait == 0 then th_write_buckets(key, buckets) end
  return wait
end
