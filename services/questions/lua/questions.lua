-- Question queue helpers for every script but vote, after queue_core.lua.
-- The moderation fields an undo restores (votes and voters are not).
local MODERATION_FIELDS = {'text', 'orig', 'match', 'status', 'reason', 'answer',
                           'answered', 'answered_ms', 'merged_into',
                           'merged_from', 'updated'}

-- The question as a table of its hash fields, or nil.
local function load(id)
  return th_hgetall(qkey(id))
end

local function must_load(id)
  local q = load(id)
  if not q then th_fail('NOT_FOUND', 'question ' .. id .. ' not found') end
  return q
end

-- Questions by status (P counts, HASH status -> n) are a status index
-- too: index and unindex keep them. A session from before P counts has
-- none: status_counts counts P all instead, and every script that changes
-- a status first calls keep_counts, which stores that count.
local COUNTED = {PENDING, APPROVED, PINNED, ANSWERED, REJECTED, ARCHIVED,
                 MERGED, CARRIED}

-- Status -> n (absent: 0); the second result is whether it was stored.
local function status_counts()
  local flat = redis.call('HGETALL', P .. 'counts')
  local counts = {}
  for i = 1, #flat, 2 do counts[flat[i]] = tonumber(flat[i + 1]) end
  if #flat > 0 then return counts, true end
  for _, id in ipairs(redis.call('ZRANGE', P .. 'all', 0, -1)) do
    local status = redis.call('HGET', qkey(id), 'status')
    if status then counts[status] = (counts[status] or 0) + 1 end
  end
  return counts, false
end

-- Stores the counts of a session from before P counts; call it before the
-- script changes any question.
local function keep_counts()
  local counts, stored = status_counts()
  if stored or next(counts) == nil then return end
  local flat = {}
  for status, n in pairs(counts) do
    flat[#flat + 1] = status
    flat[#flat + 1] = n
  end
  redis.call('HSET', P .. 'counts', unpack(flat))
end

-- The proto3 JSON of QueueCounts (townhall.v1.QueueCounts).
local function counts_json()
  local counts = status_counts()
  local out = {}
  for _, status in ipairs(COUNTED) do
    local n = counts[status] or 0
    if n ~= 0 then out[string.lower(status)] = n end
  end
  return cjson.encode(out)
end

-- Removes a question from every status index (not all / mine).
local function unindex(q)
  local id = q.id
  redis.call('HINCRBY', P .. 'counts', q.status, -1)
  for _, k in ipairs({'top', 'trend', 'new', 'pending', 'answered',
                      'visible'}) do
    redis.call('ZREM', P .. k, id)
  end
  if q.item and q.item ~= '' then
    for _, k in ipairs({'top:', 'trend:', 'new:'}) do
      redis.call('ZREM', P .. k .. q.item, id)
    end
  end
  redis.call('HDEL', P .. 'match', id)
end

-- Adds a question to the indexes of its status (every status is counted);
-- its matching form is in P match only while it may still be a duplicate
-- target.
local function index(q)
  local id, status = q.id, q.status
  redis.call('HINCRBY', P .. 'counts', status, 1)
  if is_open(status) then
    local top, trend, seq = fmt(top_score(q)), q.trend, q.seq
    redis.call('ZADD', P .. 'top', top, id)
    redis.call('ZADD', P .. 'trend', trend, id)
    redis.call('ZADD', P .. 'new', seq, id)
    if q.item and q.item ~= '' then
      redis.call('ZADD', P .. 'top:' .. q.item, top, id)
      redis.call('ZADD', P .. 'trend:' .. q.item, trend, id)
      redis.call('ZADD', P .. 'new:' .. q.item, seq, id)
    end
  elseif status == PENDING then
    redis.call('ZADD', P .. 'pending', q.seq, id)
  elseif status == ANSWERED then
    redis.call('ZADD', P .. 'answered', q.answered_ms or '0', id)
  end
  if is_open(status) or status == ANSWERED then
    redis.call('ZADD', P .. 'visible', q.seq, id)
  end
  if (is_open(status) or status == PENDING) and q.match and q.match ~= '' then
    redis.call('HSET', P .. 'match', id, q.match)
  end
end

-- Writes the given fields of `q` (a list of names) to its hash; empty
-- values delete the field.
local function save_fields(q, fields)
  for _, f in ipairs(fields) do
    local v = q[f]
    if v == nil or v == '' then
      redis.call('HDEL', qkey(q.id), f)
    else
      redis.call('HSET', qkey(q.id), f, v)
    end
  end
end

-- The proto3 JSON of a Question (townhall.v1.Question) from its hash. The
-- author stays in, also for anonymous questions: the C++ side redacts per
-- caller (and the feed codec for watchers). `voter` (may be nil): sets
-- votedByCaller.
local function question_json(q, voter)
  local out = {
    id = q.id, sessionId = q.session, text = q.text,
    originalText = q.orig, authorParticipantId = q.author,
    authorOrganizationId = q.org, anonymous = (q.anon == '1'),
    language = q.lang, agendaItemId = q.item, venueId = q.venue,
    status = 'QUESTION_STATUS_' .. q.status, votes = tonumber(q.votes),
    rejectReason = q.reason, answer = q.answer, answerTime = q.answered,
    mergedIntoQuestionId = q.merged_into, carriedToSessionId = q.carried_to,
    carriedFromSessionId = q.carried_from, createTime = q.created,
    updateTime = q.updated, trendingScore = tonumber(q.trend)
  }
  if q.merged_from and q.merged_from ~= '' then
    local ids = {}
    for m in string.gmatch(q.merged_from, '%S+') do ids[#ids + 1] = m end
    out.mergedQuestionIds = ids
  end
  if voter and voter ~= '' and
      redis.call('HEXISTS', voters_key(q.id), voter) == 1 then
    out.votedByCaller = true
  end
  for k, v in pairs(out) do
    if v == '' or v == false then out[k] = nil end
  end
  return cjson.encode(out)
end

-- Appends a change to the session's feed, with the counts after it.
-- `questions`: tables to include.
local function feed(kind, entity_id, questions, now)
  local parts = {}
  for i, q in ipairs(questions) do parts[i] = question_json(q) end
  local data = '{"time":' .. cjson.encode(now) .. ',"counts":' .. counts_json()
  if #parts > 0 then
    data = data .. ',"questions":[' .. table.concat(parts, ',') .. ']'
  end
  return th_feed_append(FEED_VERSION, FEED_EVENTS, kind, entity_id,
                        data .. '}')
end

-- Settings with defaults: {mode, submissions_per_minute, votes_per_minute,
-- closed}.
local function settings()
  local s = redis.call('HMGET', P .. 'settings', 'mode', 'spm', 'vpm',
                       'closed')
  return {mode = s[1] or 'MODERATION_MODE_PRE',
          spm = tonumber(s[2]) or 5, vpm = tonumber(s[3]) or 120,
          closed = s[4] == '1'}
end

local function settings_json(s)
  return cjson.encode({moderationMode = s.mode,
                       submissionsPerMinute = s.spm, votesPerMinute = s.vpm,
                       submissionsClosed = s.closed})
end

-- Appends a moderator action to the audit log
-- (services/common/lua/moderation_log.lua); returns its sequence.
local function audit(actor, role, action, ids, detail, now)
  return th_audit(P, actor, role, action, 'questionIds', ids, detail, now)
end

-- Records how to undo action `sequence`: the moderation fields of
-- `questions` before it, the pinned id before it, and `extra` (merge:
-- voters added to the survivor).
local function push_undo(sequence, action, questions, extra)
  local before = {}
  for _, q in ipairs(questions) do
    local fields = {}
    for _, f in ipairs(MODERATION_FIELDS) do fields[f] = q[f] or '' end
    before[q.id] = fields
  end
  local pinned = redis.call('GET', P .. 'pinned') or ''
  redis.call('RPUSH', P .. 'undo', cjson.encode(
      {sequence = sequence, action = action, before = before,
       pinned = pinned, extra = extra or {}}))
  -- Undo reaches back 100 actions.
  redis.call('LTRIM', P .. 'undo', -100, -1)
end

-- A moderator's transition of one question: checks `allowed[status]`,
-- applies `change(q)` (which sets fields), re-indexes, logs, remembers the
-- undo and feeds. Returns the question, or nil and the question when its
-- status does not allow the action.
local function moderate(id, allowed, action, kind, change, actor, role,
                        detail, now)
  local q = must_load(id)
  if not allowed[q.status] then return nil, q end
  local seq = audit(actor, role, action, {id}, detail, now)
  push_undo(seq, action, {q})
  local was = q.status
  unindex(q)
  change(q)
  q.updated = now
  if was == PINNED and q.status ~= PINNED then
    redis.call('DEL', P .. 'pinned')
  end
  save_fields(q, MODERATION_FIELDS)
  index(q)
  feed(kind, id, {q}, now)
  return q
end

-- Appends the duplicate candidates to `out`: (id, matching form, text) of
-- every open question, and of every PENDING one when `with_pending`
-- (moderators see those; others do not).
local function duplicate_candidates(out, with_pending)
  local flat = redis.call('HGETALL', P .. 'match')
  for i = 1, #flat, 2 do
    local f = redis.call('HMGET', qkey(flat[i]), 'status', 'text')
    if f[1] and (with_pending or f[1] ~= PENDING) then
      out[#out + 1] = flat[i]
      out[#out + 1] = flat[i + 1]
      out[#out + 1] = f[2] or ''
    end
  end
  return out
end
