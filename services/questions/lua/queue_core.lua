-- The question queue's core, prepended to every questions script after the
-- common prelude (the vote script needs no more; lua/questions.lua adds
-- the rest for the others). Every key of a session's queue shares one hash tag:
--   KEYS[1] P = "th:{s:<tenant>:<session>}:"   (questions_keys.h)
--   P version, P events        the session's question feed (FeedKeys)
--   P q:<id>                   HASH   one question (fields below)
--   P q:<id>:voters            HASH   participant -> vote time (unix ms)
--   P seq                      STRING question counter (arrival order)
--   P top, P trend, P new      ZSET   open (APPROVED, PINNED) questions by
--                                     votes+age / trending key / seq
--   P top:<item>, trend:<item>, new:<item>   the same per agenda item
--   P pending                  ZSET   PENDING by seq
--   P answered                 ZSET   ANSWERED by answer time (unix ms)
--   P counts                   HASH   status -> questions in it (questions.lua)
--   P visible                  ZSET   APPROVED, PINNED, ANSWERED by seq
--   P all                      ZSET   every question by seq
--   P carried                  ZSET   questions carried in (carry_in) by seq
--   P mine:<participant>       ZSET   a participant's questions by seq
--   P match                    HASH   id -> matching form (PENDING and open)
--   P pinned                   STRING the PINNED question's id
--   P settings                 HASH   QueueSettings
--   P audit                    HASH   sequence -> ModerationAction JSON
--   P audit:n                  STRING the newest audit sequence
--   P undo                     LIST   undo records, newest last
--   P rl:<kind>                HASH   participant -> token bucket
--                                     "<tokens> <unix ms>" (kind s, v)
--   P idem:<method>:...        STRING question id of a submission, audit
--                              sequence an undo undid (a day); the suffix
--                              is ARGV, from IdempotencyKey (per caller)
-- Question hash fields: id, session, text, orig, match (matching form),
-- author, org, anon (0/1), lang, item, venue, status, votes, seq, trend,
-- created, updated (RFC 3339),
-- reason, answer, answered (RFC 3339), answered_ms, merged_into,
-- merged_from (space-separated), carried_to, carried_from.
local P = KEYS[1]
local FEED_VERSION, FEED_EVENTS = P .. 'version', P .. 'events'
local IDEM_TTL = 86400

local PENDING, APPROVED, PINNED = 'PENDING', 'APPROVED', 'PINNED'
local ANSWERED, REJECTED, ARCHIVED = 'ANSWERED', 'REJECTED', 'ARCHIVED'
local MERGED, CARRIED = 'MERGED', 'CARRIED'

-- Trending: a vote at unix ms t weighs 2^((t - EPOCH_MS) / HALF_LIFE_MS);
-- a question's trending key is log2 of the sum of its weights (the
-- submission counts as one vote). All weights decay alike, so the order of
-- the stored keys is the order of the decayed scores at any moment.
local EPOCH_MS, HALF_LIFE_MS = 1767225600000, 600000  -- 2026-01-01, 10 min
local function weight(ms) return (tonumber(ms) - EPOCH_MS) / HALF_LIFE_MS end

local function qkey(id) return P .. 'q:' .. id end
local function voters_key(id) return P .. 'q:' .. id .. ':voters' end

local function is_open(status) return status == APPROVED or status == PINNED end

-- Ranking keys. top: more votes first, then the earlier question (seq
-- fills the low 32 bits, inverted); exact in a double up to 2^20 votes.
local function top_score(q)
  return tonumber(q.votes) * 4294967296 + (4294967295 - tonumber(q.seq))
end

local function fmt(x) return string.format('%.17g', x) end

-- log2(2^a + 2^b) without overflow: trending keys are log2 of a sum of
-- 2^(t / half-life) weights.
local function log2addexp(a, b)
  if a < b then a, b = b, a end
  return a + math.log(1 + 2 ^ (b - a)) / math.log(2)
end

-- log2(2^a - 2^b) for b < a; `floor` when b is (numerically) a.
local function log2subexp(a, b, floor)
  if b >= a - 1e-9 then return floor end
  return a + math.log(1 - 2 ^ (b - a)) / math.log(2)
end

-- Rate limits (services/common/lua/rate_limit.lua): one bucket per
-- participant and kind in the session's HASH P rl:<kind>.
local function read_buckets(kind, participants, per_minute)
  return th_read_buckets(P .. 'rl:' .. kind, participants, per_minute)
end
local take_from = th_take_from
local function write_buckets(kind, buckets)
  th_write_buckets(P .. 'rl:' .. kind, buckets)
end
local function take_token(kind, participant, per_minute, now_ms)
  return th_take_token(P .. 'rl:' .. kind, participant, per_minute, now_ms)
end
