-- Submits a question.
-- ARGV: id, session, text, match, author, org, anon (0/1), lang, item,
-- venue, now (RFC 3339), now_ms, idempotency key suffix ('' for none;
-- IdempotencyKey in C++, per caller), rate_limited (0/1), with_pending
-- (0/1: the caller sees PENDING duplicate candidates).
-- Returns {'OK', json, id, match, text, ...}, {'EXISTING', json, id, match,
-- text, ...} (a retried request) or {'RATE_LIMITED', retry_ms, per_minute}:
-- the question and its duplicate candidates (duplicate_candidates, the new
-- question among them), so a submission is one round trip.
local id, session, text, match, author, org, anon, lang, item, venue, now,
      now_ms, idem, limited, with_pending = unpack(ARGV)
with_pending = with_pending == '1'
local MAX_QUESTIONS = 10000
if idem ~= '' then
  local prior = redis.call('GET', P .. idem)
  if prior then
    return duplicate_candidates(
        {'EXISTING', question_json(must_load(prior), author)}, with_pending)
  end
end
local s = settings()
if s.closed then
  th_fail('FAILED_PRECONDITION', 'submissions are closed for this session')
end
if tonumber(redis.call('GET', P .. 'seq') or '0') >= MAX_QUESTIONS then
  th_fail('RESOURCE_EXHAUSTED', 'a session holds at most ' .. MAX_QUESTIONS ..
          ' questions')
end
if limited == '1' then
  local wait = take_token('s', author, s.spm, tonumber(now_ms))
  if wait > 0 then return {'RATE_LIMITED', tostring(wait), tostring(s.spm)} end
end
keep_counts()
local seq = redis.call('INCR', P .. 'seq')
local q = {id = id, session = session, text = text, match = match,
           author = author, org = org, anon = anon, lang = lang, item = item,
           venue = venue, votes = '0', seq = tostring(seq),
           trend = fmt(weight(now_ms)), created = now, updated = now,
           status = (s.mode == 'MODERATION_MODE_POST') and APPROVED or PENDING}
local flat = {}
for k, v in pairs(q) do
  if v ~= '' then flat[#flat + 1] = k; flat[#flat + 1] = v end
end
redis.call('HSET', qkey(id), unpack(flat))
redis.call('ZADD', P .. 'all', seq, id)
if author ~= '' then redis.call('ZADD', P .. 'mine:' .. author, seq, id) end
index(q)
if idem ~= '' then th_remember(P .. idem, id, IDEM_TTL) end
feed('question.submitted', id, {q}, now)
return duplicate_candidates({'OK', question_json(q, author)}, with_pending)
