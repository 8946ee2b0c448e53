-- PollService's core, prepended to every polls script after the common
-- preludes (prelude.lua, rate_limit.lua, moderation_log.lua). Every key of
-- a session's polls shares the session's hash tag, so every script touches
-- one Redis Cluster slot (the question queue's):
--   KEYS[1] P = "th:{s:<tenant>:<session>}:"   (poll_store.h)
--   P polls:version, P polls:events   the session's poll feed (FeedKeys)
--   P polls               ZSET   poll ids by creation order (seq)
--   P polls:seq           STRING poll counter
--   P polls:open          SET    the OPEN polls (at most max_open)
--   P polls:rl            HASH   participant -> ballot token bucket
--   P poll:<id>           HASH   one poll (fields below)
--   P poll:<id>:voters    per voting unit (the participant, or the
--                         organization of ORGANIZATION polls): NAMED: HASH
--                         unit -> {f = tally fields, b = Ballot JSON,
--                         t = unix ms, p = who cast it (ORGANIZATION
--                         only)}; ANONYMOUS and SECRET: SET of units (who
--                         voted, nothing else: no time, no order, no
--                         choice)
--   P poll:<id>:elig      HASH   participant -> unit: who may vote, taken
--                                from the registrations at the first open
--   P poll:<id>:inelig    HASH   participant -> why not (OBSERVER,
--                                STANDBY, ABSENT, NOT_DELEGATE,
--                                DELEGATE_PRESENT), for the refusal
--   P poll:<id>:units     HASH   unit -> weight
--   P poll:<id>:tally     HASH   o:<option> | r:<value> | k:<ranking> |
--                                w:<word key> -> ballots
--   P poll:<id>:words     HASH   word key -> the first spelling entered
--   P audit, P audit:n    the session's moderation log (moderation_log.lua)
--   P idem:PollService/<Method>:...  STRING, a day; the suffix is ARGV,
--                         from IdempotencyKey (per caller): a poll id, or
--                         '1' for a ballot (never the choice)
-- Poll hash fields: def (the definition, Poll JSON without state, times
-- and results), kind, n (options), k (max choices), smin, smax, secrecy
-- (NAMED, ANONYMOUS, SECRET), change (0/1), state (DRAFT, OPEN, CLOSED,
-- PUBLISHED), closes_at (RFC 3339 or ''), closes_ms, open_time,
-- close_time, publish_time (RFC 3339), reopens, ballots, seq; from the
-- first open: unit (PARTICIPANT, ORGANIZATION), eligible, eligible_w,
-- present, present_w; ballots_w (the weight of the ballots).
local P = KEYS[1]
local FEED_VERSION, FEED_EVENTS = P .. 'polls:version', P .. 'polls:events'
local IDEM_TTL = 86400
local OPEN_SET = P .. 'polls:open'

local function poll_key(id) return P .. 'poll:' .. id end
local function voters_key(id) return P .. 'poll:' .. id .. ':voters' end
local function tally_key(id) return P .. 'poll:' .. id .. ':tally' end
local function words_key(id) return P .. 'poll:' .. id .. ':words' end
local function elig_key(id) return P .. 'poll:' .. id .. ':elig' end
local function inelig_key(id) return P .. 'poll:' .. id .. ':inelig' end
local function units_key(id) return P .. 'poll:' .. id .. ':units' end

-- The poll's hash as a table, or nil.
local function load_poll(id)
  local p = th_hgetall(poll_key(id))
  if p then p.id = id end
  return p
end

local function must_poll(id)
  local p = load_poll(id)
  if not p then th_fail('NOT_FOUND', 'poll ' .. id .. ' not found') end
  return p
end

-- Appends a change of poll `p` to the session's poll feed: its kind and
-- the poll's id, nothing else. WatchPolls reads the poll itself when it
-- delivers the change (poll_watch.h), so the feed never holds a tally:
-- tallies after each ballot, in stream order, next to the voters'
-- rate-limit times, would tell which voter added which choice
-- (polls_secrecy_test reads every key, the feed included).
local function change(kind, p)
  th_feed_append(FEED_VERSION, FEED_EVENTS, kind, p.id, '{}')
end

-- OPEN -> CLOSED at `at` (RFC 3339), logged as done by actor/role.
local function close_poll(p, at, actor, role, detail)
  redis.call('HSET', poll_key(p.id), 'state', 'CLOSED', 'close_time', at)
  redis.call('SREM', OPEN_SET, p.id)
  p.state, p.close_time = 'CLOSED', at
  th_audit(P, actor, role, 'poll.close', 'pollIds', {p.id}, detail, at)
  change('poll.closed', p)
end

-- Whether `p` is OPEN and its closes_at has passed at `now_ms`.
local function close_due(p, now_ms)
  return p.state == 'OPEN' and (p.closes_ms or '') ~= '' and
      tonumber(p.closes_ms) <= now_ms
end

-- Closes `p` if close_due: the timer needs no background job, every script
-- that depends on the state settles it.
local function settle_one(p, now_ms)
  if close_due(p, now_ms) then
    close_poll(p, p.closes_at, 'timer', 'system', 'closes_at reached')
  end
end

-- settle_one for every OPEN poll of the session (at most max_open).
local function settle(now_ms)
  for _, id in ipairs(redis.call('SMEMBERS', OPEN_SET)) do
    local p = load_poll(id)
    if p then settle_one(p, now_ms) end
  end
end

-- Whether `participant`'s voting unit (themselves, or their organization)
-- has a ballot in `p`.
local function has_voted(p, participant)
  if participant == '' then return false end
  local unit = redis.call('HGET', elig_key(p.id), participant)
  if not unit then return false end
  if p.secrecy == 'NAMED' then
    return redis.call('HEXISTS', voters_key(p.id), unit) == 1
  end
  return redis.call('SISMEMBER', voters_key(p.id), unit) == 1
end

-- The tally and the words of `p` as append_view appends them (count,
-- field, value..., then count, key, text...). A batch of ballots reads
-- them once per poll and passes them to append_view as `results`.
local function read_results(p)
  local out = {}
  for _, key in ipairs({tally_key(p.id), words_key(p.id)}) do
    local flat = redis.call('HGETALL', key)
    out[#out + 1] = tostring(#flat / 2)
    for _, v in ipairs(flat) do out[#out + 1] = v end
  end
  return out
end

-- Appends poll `p` as C++ decodes it (DecodePollViews, poll_rules.h) to
-- `out`: def, state, closes_at, open_time, close_time, publish_time,
-- reopens, ballots, voted (0/1), eligible, eligible_w, present,
-- present_w, ballots_w, then the tally (count, field, value...),
-- the words (count, key, text...) and, when `with_ballots` and the poll is
-- NAMED, the ballots (count, participant, ballot record...).
-- `results`: read_results(p), when the caller has it.
local function append_view(out, p, participant, with_ballots, results)
  local function add(v) out[#out + 1] = v end
  add(p.def); add(p.state); add(p.closes_at or ''); add(p.open_time or '')
  add(p.close_time or ''); add(p.publish_time or ''); add(p.reopens or '0')
  add(p.ballots or '0'); add(has_voted(p, participant) and '1' or '0')
  add(p.eligible or '0'); add(p.eligible_w or '0'); add(p.present or '0')
  add(p.present_w or '0'); add(p.ballots_w or '0')
  for _, v in ipairs(results or read_results(p)) do add(v) end
  if with_ballots and p.secrecy == 'NAMED' then
    local flat = redis.call('HGETALL', voters_key(p.id))
    add(tostring(#flat / 2))
    for _, v in ipairs(flat) do add(v) end
  else
    add('0')
  end
  return out
end
