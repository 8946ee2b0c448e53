-- Receives carried questions in the next occurrence (KEYS[1] is its
-- prefix). Idempotent: a question already here is left alone. Copies keep
-- their id, text, author, votes and voters; PINNED arrives APPROVED.
-- ARGV: from session, this session, now (RFC 3339), then per question: its hash as
-- JSON, its voters as JSON ({participant: ms}).
-- Returns {'OK', n created}.
local from, to, now = ARGV[1], ARGV[2], ARGV[3]
keep_counts()
local created = 0
for i = 4, #ARGV, 2 do
  local q = cjson.decode(ARGV[i])
  if redis.call('EXISTS', qkey(q.id)) == 0 then
    local seq = redis.call('INCR', P .. 'seq')
    q.seq, q.carried_from, q.updated = tostring(seq), from, now
    q.session = to
    if q.status == PINNED then q.status = APPROVED end
    q.carried_to, q.merged_into = nil, nil
    local flat = {}
    for k, v in pairs(q) do
      if v ~= '' then flat[#flat + 1] = k; flat[#flat + 1] = v end
    end
    redis.call('HSET', qkey(q.id), unpack(flat))
    local voters = cjson.decode(ARGV[i + 1])
    local vflat = {}
    for p, ms in pairs(voters) do vflat[#vflat + 1] = p; vflat[#vflat + 1] = ms end
    if #vflat > 0 then redis.call('HSET', voters_key(q.id), unpack(vflat)) end
    q.votes = tostring(redis.call('HLEN', voters_key(q.id)))
    redis.call('HSET', qkey(q.id), 'votes', q.votes)
    redis.call('ZADD', P .. 'all', seq, q.id)
    redis.call('ZADD', P .. 'carried', seq, q.id)
    if q.author and q.author ~= '' then
      redis.call('ZADD', P .. 'mine:' .. q.author, seq, q.id)
    end
    index(q)
    feed('question.carried', q.id, {q}, now)
    created = created + 1
  end
end
return {'OK', tostring(created)}
