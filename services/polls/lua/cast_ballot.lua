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
-- The request ids, rate buckets, voting units, weights and earlier
-- ballots of the whole batch are read with one command each, and its
-- tally, counts, voters and buckets written with one command each (a
-- dozen commands per ballot became about one: the idempotency record).
-- A ballot counts for the voter's unit (elig: themselves, or their
-- organization) with the unit's weight (units).
local ARITY = 11
local RATE_KEY = P .. 'polls:rl'

local polls = {}    -- id -> the poll (a table), or false when there is none
local pending = {}  -- id -> true: new ballots not yet in the feed
local touched = {}  -- ids of the polls with new ballots, in order

-- What the batch reads once and writes once. Its calls see each other's
-- effects through these tables; write_back stores them after the last call.
local voters_of = {}  -- poll id -> its calls' participants (no repeats)
local boxes = {}      -- poll id -> ballot_box(): the poll's voting state
local remembered = {} -- idempotency key suffix -> true: an earlier result
local buckets, taken = {}, {}  -- participant -> rate bucket (rate_limit.lua)

-- One pass over the calls before any runs: who votes in which poll, which
-- request ids to look up, whose rate buckets to read. Each is one command
-- for the batch instead of one per call.
do
  local seen_voter, seen_idem, seen_limited = {}, {}, {}
  local idems, idem_keys, limited = {}, {}, {}
  for base = 0, #ARGV - 1, ARITY do
    local id, participant = ARGV[base + 1], ARGV[base + 2]
    local idem = ARGV[base + 7]
    if not voters_of[id] then
      voters_of[id], seen_voter[id] = {}, {}
    end
    if not seen_voter[id][participant] then
      seen_voter[id][participant] = true
      table.insert(voters_of[id], participant)
    end
    if idem ~= '' and not seen_idem[idem] then
      seen_idem[idem] = true
      idems[#idems + 1] = idem
      idem_keys[#idem_keys + 1] = P .. idem
    end
    if ARGV[base + 8] == '1' and participant ~= '' and
        not seen_limited[participant] then
      seen_limited[participant] = true
      limited[#limited + 1] = participant
    end
  end
  if #idem_keys > 0 then
    local found = redis.call('MGET', unpack(idem_keys))
    for i, idem in ipairs(idems) do
      if found[i] then remembered[idem] = true end
    end
  end
  -- A bucket without a stored state is full at any call's per_minute:
  -- th_take_from caps the tokens at the call's own.
  if #limited > 0 then
    buckets = th_read_buckets(RATE_KEY, limited, math.huge)
  end
end

-- Records request `idem` (if any) as done, for a retry in a later batch
-- (th_remember) and in this one.
local function remember(idem)
  if idem ~= '' then
    th_remember(P .. idem, '1', IDEM_TTL)
    remembered[idem] = true
  end
end

-- The poll's voting state for the batch's voters, read at its first
-- ballot: unit (participant -> voting unit, or false: not eligible),
-- weight (unit -> weight), voted (unit -> NAMED: the stored ballot record,
-- a string until decoded; else true; false: no ballot), and the batch's
-- writes: delta (tally field -> change), fields (in order), new_ballots,
-- new_weight, records (NAMED: unit -> record JSON) with record_units (in
-- order), added (ANONYMOUS and SECRET: the new voting units).
local function ballot_box(p)
  local box = boxes[p.id]
  if box then return box end
  local id = p.id
  box = {unit = {}, weight = {}, voted = {}, delta = {}, fields = {},
         new_ballots = 0, new_weight = 0, records = {}, record_units = {},
         added = {}}
  boxes[id] = box
  local participants = voters_of[id]
  local units, seen = {}, {}
  for i, u in ipairs(redis.call('HMGET', elig_key(id), unpack(participants))) do
    box.unit[participants[i]] = u
    if u and not seen[u] then
      seen[u] = true
      units[#units + 1] = u
    end
  end
  if #units == 0 then return box end
  for i, w in ipairs(redis.call('HMGET', units_key(id), unpack(units))) do
    box.weight[units[i]] = tonumber(w or '1')
  end
  if p.secrecy == 'NAMED' then
    for i, r in ipairs(redis.call('HMGET', voters_key(id), unpack(units))) do
      box.voted[units[i]] = r
    end
  else
    for i, m in ipairs(redis.call('SMISMEMBER', voters_key(id),
                                  unpack(units))) do
      box.voted[units[i]] = m == 1
    end
  end
  return box
end

-- Adds `d` to tally field `f` in the batch's writes.
local function add(box, f, d)
  local was = box.delta[f]
  if was == nil then
    box.fields[#box.fields + 1] = f
    was = 0
  end
  box.delta[f] = was + d
end

-- Stores the batch's writes to poll `p`: tally, ballot counts, voters.
-- A tally field never goes below zero (a change takes back exactly what
-- the unit's earlier ballot added, with the weight fixed at the first
-- open), so adding each field's sum once ends where the calls one by one
-- would.
local function write_back(p)
  local box, id = boxes[p.id], p.id
  local tally = tally_key(id)
  for _, f in ipairs(box.fields) do
    local d = box.delta[f]
    if d ~= 0 and redis.call('HINCRBY', tally, f, d) <= 0 then
      redis.call('HDEL', tally, f)
    end
  end
  if box.new_ballots > 0 then
    p.ballots = tostring(redis.call('HINCRBY', poll_key(id), 'ballots',
                                    box.new_ballots))
    p.ballots_w = tostring(redis.call('HINCRBY', poll_key(id), 'ballots_w',
                                      box.new_weight))
  end
  if #box.record_units > 0 then
    local args = {}
    for _, unit in ipairs(box.record_units) do
      args[#args + 1] = unit
      args[#args + 1] = box.records[unit]
    end
    redis.call('HSET', voters_key(id), unpack(args))
  end
  if #box.added > 0 then redis.call('SADD', voters_key(id), unpack(box.added)) end
end

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
  if idem ~= '' and remembered[idem] then return {'EXISTING'}, p end

  -- The ballot's shape for the poll's kind, checked before any write.
  local options = {}
  for o in string.gmatch(option_list, '%S+') do options[#options + 1] = o end
  local words = split_words(packed_words)
  local fields, why = ballot_fields(p, options, rating, words)
  if not fields then return {'INVALID_ARGUMENT', why} end

  if p.state ~= 'OPEN' then return {'BAD_STATE', p.state} end

  local box = ballot_box(p)
  local unit = box.unit[participant]
  if not unit then
    return {'NOT_ELIGIBLE',
            redis.call('HGET', inelig_key(id), participant) or 'NOT_REGISTERED'}
  end
  local by_org = p.unit == 'ORGANIZATION'
  local weight = box.weight[unit]

  local old
  if p.secrecy == 'NAMED' then
    old = box.voted[unit]
    if type(old) == 'string' then  -- as stored: decoded once a batch
      old = cjson.decode(old)
      box.voted[unit] = old
    end
    if old then
      -- One ballot per organization: only who cast it may change it.
      if by_org and old.p ~= participant then return {'UNIT_VOTED', unit} end
      if table.concat(old.f, ' ') == table.concat(fields, ' ') then
        remember(idem)
        return {'UNCHANGED'}, p
      end
      if p.change ~= '1' then return {'ALREADY_VOTED', p.secrecy} end
    end
  elseif box.voted[unit] then
    if by_org then return {'UNIT_VOTED', unit} end
    return {'ALREADY_VOTED', p.secrecy}
  end
  per_minute = tonumber(per_minute)
  if limited == '1' and participant ~= '' and per_minute > 0 then
    local wait = th_take_from(buckets[participant], per_minute, now_ms)
    if wait > 0 then
      return {'RATE_LIMITED', tostring(wait), tostring(per_minute)}
    end
    taken[participant] = buckets[participant]
  end

  if old then
    for _, f in ipairs(old.f) do add(box, f, -weight) end
  else
    box.new_ballots = box.new_ballots + 1
    box.new_weight = box.new_weight + weight
  end
  if p.secrecy == 'NAMED' then
    local record = {f = fields, b = ballot_json, t = now_ms}
    if by_org then record.p = participant end
    if not box.records[unit] then
      box.record_units[#box.record_units + 1] = unit
    end
    box.records[unit] = cjson.encode(record)
    box.voted[unit] = record
  else
    box.voted[unit] = true
    box.added[#box.added + 1] = unit
  end
  for _, f in ipairs(fields) do add(box, f, weight) end
  for _, w in ipairs(words) do redis.call('HSETNX', words_key(id), w[1], w[2]) end
  remember(idem)
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
for _, id in ipairs(touched) do
  write_back(polls[id])
  flush(polls[id])
end
th_write_buckets(RATE_KEY, taken)
local results = {}  -- poll id -> read_results, once a poll
for i, v in pairs(viewed) do
  local p, participant = v[1], v[2]
  results[p.id] = results[p.id] or read_results(p)
  append_view(replies[i], p, participant, false, results[p.id])
end
return replies
