-- Casts or changes participants' ballots in OPEN polls; the tally is kept
-- exactly, in the same step. The hot path of polls: it takes a batch of
-- calls (RedisEventLoop::EvalBatched), eleven ARGV each:
--   id, participant, option ids (space-separated), rating, ballot JSON
--   (stored for NAMED polls only), now_ms, idempotency key suffix ('' for
--   none), limited (0/1), per_minute, words ('' or word key and spelling
--   pairs, every part followed by \31, a control character no word holds),
--   view (1: the reply carries the voter's view; 0: a receipt, no view).
-- Returns one reply per call, in order: {'OK' | 'UNCHANGED' | 'EXISTING',
-- view...} (the voter's view, append_view, when asked), {'NOT_FOUND'},
-- {'INVALID_ARGUMENT', message}, {'BAD_STATE', state}, {'NOT_ELIGIBLE',
-- why} (why: the inelig reason, or NOT_REGISTERED), {'ALREADY_VOTED',
-- secrecy}, {'UNIT_VOTED', organization} or {'RATE_LIMITED', retry_ms,
-- per_minute}.
-- The calls take effect one after another, exactly as if each were its own
-- script. What they share: each poll is read once, gets one 'poll.ballot'
-- feed entry for all its new ballots, and the views in the replies are of
-- the polls after the whole batch (the tally and words read once a poll).
-- A ballot counts for the voter's unit (elig: themselves, or their
-- organization) with the unit's weight (units).
local ARITY = 11

local polls = {}    -- id -> the poll (a table), or false when there is none
local pending = {}  -- id -> true: new ballots not yet in the feed
local touched = {}  -- ids of the polls with new ballots, in order

-- The 'poll.ballot' feed entry for `p`'s new ballots, if it has any.
local function flush(p)
  if pending[p.id] then
    pending[p.id] = nil
    change('poll.ballot', p)
  end
end

-- The poll `id`, settled at `now_ms` (a timer close comes after the
-- ballots before it in the feed).
local function poll(id, now_ms)
  local p = polls[id]
  if p == nil then
    p = load_poll(id) or false
    polls[id] = p
  end
  if p and close_due(p, now_ms) then
    flush(p)
    settle_one(p, now_ms)
  end
  return p
end

local function split_words(packed)
  local words, parts = {}, {}
  for part in string.gmatch(packed, '([^\31]*)\31') do parts[#parts + 1] = part end
  for i = 1, #parts - 1, 2 do words[#words + 1] = {parts[i], parts[i + 1]} end
  return words
end

-- The tally fields of a ballot, or nil and why it does not fit the poll.
local function ballot_fields(p, options, rating, words)
  local kind, n, k = p.kind, tonumber(p.n), tonumber(p.k)
  local function check_option(o)
    if kind == 'POLL_KIND_MOTION' then
      if o == 'yes' or o == 'no' or o == 'abstain' then return true end
    else
      local i = tonumber(o)
      if i and i >= 1 and i <= n and tostring(i) == o then return true end
    end
    return false
  end
  if kind == 'POLL_KIND_RATING_SCALE' then
    if #options > 0 or #words > 0 then
      return nil, 'ballot: a rating scale takes rating only'
    end
    local r = tonumber(rating)
    if r < tonumber(p.smin) or r > tonumber(p.smax) then
      return nil, 'ballot.rating: must be ' .. p.smin .. ' to ' .. p.smax
    end
    return {'r:' .. r}
  end
  if kind == 'POLL_KIND_WORD_CLOUD' then
    if #options > 0 or rating ~= '0' then
      return nil, 'ballot: a word cloud takes words only'
    end
    if #words < 1 or #words > k then
      return nil, 'ballot.words: 1 to ' .. k .. ' entries'
    end
    local fields = {}
    for _, w in ipairs(words) do fields[#fields + 1] = 'w:' .. w[1] end
    return fields
  end
  if #words > 0 or rating ~= '0' then
    return nil, 'ballot: this poll takes option_ids only'
  end
  local most = 1
  if kind == 'POLL_KIND_MULTIPLE_CHOICE' then most = k end
  if kind == 'POLL_KIND_RANKED_CHOICE' then most = n end
  if #options < 1 or #options > most then
    return nil, 'ballot.option_ids: 1 to ' .. most .. ' options'
  end
  for _, o in ipairs(options) do
    if not check_option(o) then
      return nil, 'ballot.option_ids: ' .. o .. ' is not an option of this poll'
    end
  end
  if kind == 'POLL_KIND_RANKED_CHOICE' then
    return {'k:' .. table.concat(options, ',')}
  end
  local fields = {}
  for _, o in ipairs(options) do fields[#fields + 1] = 'o:' .. o end
  return fields
end

-- One call. Returns its reply, or {kind} and the poll when the reply is
-- the voter's view (made once the batch is done).
local function cast(id, participant, option_list, rating, ballot_json, now_ms,
                    idem, limited, per_minute, packed_words)
  now_ms = tonumber(now_ms)
  local p = poll(id, now_ms)
  if not p then return {'NOT_FOUND'} end
  if idem ~= '' and redis.call('EXISTS', P .. idem) == 1 then
    return {'EXISTING'}, p
  end

  -- The ballot's shape for the poll's kind, checked before any write.
  local options = {}
  for o in string.gmatch(option_list, '%S+') do options[#options + 1] = o end
  local words = split_words(packed_words)
  local fields, why = ballot_fields(p, options, rating, words)
  if not fields then return {'INVALID_ARGUMENT', why} end

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
        return {'UNCHANGED'}, p
      end
      if p.change ~= '1' then return {'ALREADY_VOTED', p.secrecy} end
    end
  elseif redis.call('SISMEMBER', voters_key(id), unit) == 1 then
    if by_org then return {'UNIT_VOTED', unit} end
    return {'ALREADY_VOTED', p.secrecy}
  end
  if limited == '1' then
    local wait = th_take_token(P .. 'polls:rl', participant,
                               tonumber(per_minute), now_ms)
    if wait > 0 then return {'RATE_LIMITED', tostring(wait), per_minute} end
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
  if not pending[id] then
    pending[id] = true
    touched[#touched + 1] = id
  end
  return {'OK'}, p
end

local replies, viewed = {}, {}
for base = 0, #ARGV - 1, ARITY do
  local i = #replies + 1
  local reply, p = cast(unpack(ARGV, base + 1, base + ARITY - 1))
  replies[i] = reply
  if p and ARGV[base + ARITY] == '1' then viewed[i] = {p, ARGV[base + 2]} end
end
for _, id in ipairs(touched) do flush(polls[id]) end
local results = {}  -- poll id -> read_results, once a poll
for i, v in pairs(viewed) do
  local p, participant = v[1], v[2]
  results[p.id] = results[p.id] or read_results(p)
  append_view(replies[i], p, participant, false, results[p.id])
end
return replies
