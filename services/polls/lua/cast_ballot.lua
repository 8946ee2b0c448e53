-- Casts or changes a participant's ballot in an OPEN poll; the tally is
-- kept exactly, in the same step.
-- ARGV: id, participant, option ids (space-separated), rating, ballot JSON
-- (stored for NAMED polls only), now_ms, idempotency key suffix ('' for
-- none), limited (0/1), per_minute, then word key and spelling pairs.
-- Returns {'OK' | 'UNCHANGED' | 'EXISTING', view...} (the voter's view),
-- {'BAD_STATE', state}, {'NOT_ELIGIBLE', why} (why: the inelig reason, or
-- NOT_REGISTERED), {'ALREADY_VOTED', secrecy}, {'UNIT_VOTED', organization}
-- or {'RATE_LIMITED', retry_ms, per_minute}.
-- The ballot counts for the voter's unit (elig: themselves, or their
-- organization) with the unit's weight (units).
local id, participant, option_list, rating, ballot_json, now_ms, idem,
      limited, per_minute = unpack(ARGV, 1, 9)
now_ms, per_minute = tonumber(now_ms), tonumber(per_minute)
local p = must_poll(id)
if idem ~= '' and redis.call('EXISTS', P .. idem) == 1 then
  return append_view({'EXISTING'}, p, participant, false)
end

-- The ballot's shape for the poll's kind, checked before any write.
local options = {}
for o in string.gmatch(option_list, '%S+') do options[#options + 1] = o end
local words = {}
for i = 10, #ARGV, 2 do words[#words + 1] = {ARGV[i], ARGV[i + 1]} end
local kind, n, k = p.kind, tonumber(p.n), tonumber(p.k)
local function bad(msg) th_fail('INVALID_ARGUMENT', msg) end
local function check_option(o)
  if kind == 'POLL_KIND_MOTION' then
    if o == 'yes' or o == 'no' or o == 'abstain' then return end
  else
    local i = tonumber(o)
    if i and i >= 1 and i <= n and tostring(i) == o then return end
  end
  bad('ballot.option_ids: ' .. o .. ' is not an option of this poll')
end
if kind == 'POLL_KIND_RATING_SCALE' then
  if #options > 0 or #words > 0 then bad('ballot: a rating scale takes rating only') end
  local r = tonumber(rating)
  if r < tonumber(p.smin) or r > tonumber(p.smax) then
    bad('ballot.rating: must be ' .. p.smin .. ' to ' .. p.smax)
  end
elseif kind == 'POLL_KIND_WORD_CLOUD' then
  if #options > 0 or rating ~= '0' then bad('ballot: a word cloud takes words only') end
  if #words < 1 or #words > k then bad('ballot.words: 1 to ' .. k .. ' entries') end
else
  if #words > 0 or rating ~= '0' then bad('ballot: this poll takes option_ids only') end
  local most = 1
  if kind == 'POLL_KIND_MULTIPLE_CHOICE' then most = k end
  if kind == 'POLL_KIND_RANKED_CHOICE' then most = n end
  if #options < 1 or #options > most then
    bad('ballot.option_ids: 1 to ' .. most .. ' options')
  end
  for _, o in ipairs(options) do check_option(o) end
end
local fields = {}
if kind == 'POLL_KIND_RATING_SCALE' then
  fields[1] = 'r:' .. tonumber(rating)
elseif kind == 'POLL_KIND_WORD_CLOUD' then
  for _, w in ipairs(words) do fields[#fields + 1] = 'w:' .. w[1] end
elseif kind == 'POLL_KIND_RANKED_CHOICE' then
  fields[1] = 'k:' .. table.concat(options, ',')
else
  for _, o in ipairs(options) do fields[#fields + 1] = 'o:' .. o end
end

settle_one(p, now_ms)
if p.state ~= 'OPEN' then return {'BAD_STATE', p.state} end

local unit = redis.call('HGET', elig_key(id), participant)
if not unit then
  return {'NOT_ELIGIBLE',
          redis.call('HGET', inelig_key(id), participant) or 'NOT_REGISTERED'}
end
local by_org = p.unit == 'ORGANIZATION'
local weight = tonumber(redis.call('HGET', units_key(id), unit) or '1')

local old
if p.secrecy == 'NAMED' then
  local stored = redis.call('HGET', voters_key(id), unit)
  if stored then
    old = cjson.decode(stored)
    -- One ballot per organization: only who cast it may change it.
    if by_org and old.p ~= participant then return {'UNIT_VOTED', unit} end
    if table.concat(old.f, ' ') == table.concat(fields, ' ') then
      if idem ~= '' then th_remember(P .. idem, '1', IDEM_TTL) end
      return append_view({'UNCHANGED'}, p, participant, false)
    end
    if p.change ~= '1' then return {'ALREADY_VOTED', p.secrecy} end
  end
elseif redis.call('SISMEMBER', voters_key(id), unit) == 1 then
  if by_org then return {'UNIT_VOTED', unit} end
  return {'ALREADY_VOTED', p.secrecy}
end
if limited == '1' then
  local wait = th_take_token(P .. 'polls:rl', participant, per_minute, now_ms)
  if wait > 0 then
    return {'RATE_LIMITED', tostring(wait), tostring(per_minute)}
  end
end

local tally = tally_key(id)
if old then
  for _, f in ipairs(old.f) do
    if redis.call('HINCRBY', tally, f, -weight) <= 0 then
      redis.call('HDEL', tally, f)
    end
  end
else
  p.ballots = tostring(redis.call('HINCRBY', poll_key(id), 'ballots', 1))
  p.ballots_w = tostring(redis.call('HINCRBY', poll_key(id), 'ballots_w',
                                    weight))
end
if p.secrecy == 'NAMED' then
  local record = {f = fields, b = ballot_json, t = now_ms}
  if by_org then record.p = participant end
  redis.call('HSET', voters_key(id), unit, cjson.encode(record))
else
  redis.call('SADD', voters_key(id), unit)
end
for _, f in ipairs(fields) do redis.call('HINCRBY', tally, f, weight) end
for _, w in ipairs(words) do redis.call('HSETNX', words_key(id), w[1], w[2]) end
if idem ~= '' then th_remember(P .. idem, '1', IDEM_TTL) end
change('poll.ballot', p)
return append_view({'OK'}, p, participant, false)
