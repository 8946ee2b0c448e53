-- Undoes the session's newest moderator action not undone yet.
-- ARGV: actor, actor role, now (RFC 3339), idempotency key suffix ('' for
-- none; IdempotencyKey in C++, per caller).
-- Returns {'OK', action json, question json...} (a retried request: the
-- action it undid, its questions as they are now); FAILED_PRECONDITION
-- when there is nothing to undo.
local actor, role, now, idem = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if idem ~= '' then
  local prior = redis.call('GET', P .. idem)
  if prior then
    local entry = cjson.decode(redis.call('HGET', P .. 'audit', prior))
    local out = {'OK', cjson.encode(entry)}
    for _, id in ipairs(entry.questionIds or {}) do
      local q = load(id)
      if q then out[#out + 1] = question_json(q) end
    end
    return out
  end
end
keep_counts()
local raw = redis.call('RPOP', P .. 'undo')
if not raw then th_fail('FAILED_PRECONDITION', 'there is no moderator action to undo') end
local record = cjson.decode(raw)
local restored = {}
for id, fields in pairs(record.before) do
  local q = must_load(id)
  unindex(q)
  for f, v in pairs(fields) do q[f] = v end
  restored[#restored + 1] = q
end
-- A merge also gave the survivor its duplicates' voters: take them back.
local extra = record.extra or {}
if extra.target and type(extra.added) == 'table' then
  local target
  for _, q in ipairs(restored) do if q.id == extra.target then target = q end end
  local trend = tonumber(target.trend)
  for voter, ms in pairs(extra.added) do
    if redis.call('HDEL', voters_key(target.id), voter) == 1 then
      trend = log2subexp(trend, weight(ms), trend)
    end
  end
  target.votes = tostring(redis.call('HLEN', voters_key(target.id)))
  target.trend = fmt(trend)
  redis.call('HSET', qkey(target.id), 'votes', target.votes, 'trend', target.trend)
end
table.sort(restored, function(a, b) return tonumber(a.seq) < tonumber(b.seq) end)
for _, q in ipairs(restored) do
  q.updated = now
  save_fields(q, MODERATION_FIELDS)
  index(q)
end
if record.pinned ~= '' then
  redis.call('SET', P .. 'pinned', record.pinned)
else
  redis.call('DEL', P .. 'pinned')
end
-- Mark the undone entry and log the undo itself.
local entry_json = redis.call('HGET', P .. 'audit', record.sequence)
local entry = cjson.decode(entry_json)
entry.undone = true
redis.call('HSET', P .. 'audit', record.sequence, cjson.encode(entry))
local ids = {}
for i, q in ipairs(restored) do ids[i] = q.id end
audit(actor, role, 'undo', ids, 'undid #' .. record.sequence .. ' (' ..
      record.action .. ')', now)
feed('question.restored', ids[1] or '', restored, now)
if idem ~= '' then th_remember(P .. idem, record.sequence, IDEM_TTL) end
local out = {'OK', cjson.encode(entry)}
for _, q in ipairs(restored) do out[#out + 1] = question_json(q) end
return out
