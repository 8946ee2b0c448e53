-- Reads (ARGV[1] = 'read') or marks carried ('mark') the session's
-- unanswered questions (PENDING, APPROVED, PINNED).
-- read ARGV: 'read'. Returns {'OK', id, hash json, voters json, ...}.
-- mark ARGV: 'mark', target session, actor, actor role, now, ids...
-- Returns {'OK', id...} (the ids marked now). Clears the undo stack: the
-- carried questions live on elsewhere.
local mode = ARGV[1]
local function unanswered()
  local out = {}
  for _, k in ipairs({'pending', 'new'}) do
    for _, id in ipairs(redis.call('ZRANGE', P .. k, 0, -1)) do
      out[#out + 1] = id
    end
  end
  return out
end
if mode == 'read' then
  local out = {'OK'}
  for _, id in ipairs(unanswered()) do
    local q = load(id)
    local voters = th_hgetall(voters_key(id))
    out[#out + 1] = id
    out[#out + 1] = cjson.encode(q)
    out[#out + 1] = voters and cjson.encode(voters) or '{}'
  end
  return out
end
local target, actor, role, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
keep_counts()
local marked, touched = {}, {}
for i = 6, #ARGV do
  local q = load(ARGV[i])
  if q and (q.status == PENDING or is_open(q.status)) then
    unindex(q)
    if q.status == PINNED then redis.call('DEL', P .. 'pinned') end
    q.status, q.carried_to, q.updated = CARRIED, target, now
    save_fields(q, MODERATION_FIELDS)
    redis.call('HSET', qkey(q.id), 'carried_to', target)
    index(q)
    marked[#marked + 1] = q.id
    touched[#touched + 1] = q
  end
end
if #marked > 0 then
  audit(actor, role, 'carry_over', marked, 'to session ' .. target, now)
  redis.call('DEL', P .. 'undo')
  feed('question.carried', marked[1], touched, now)
end
local out = {'OK'}
for _, id in ipairs(marked) do out[#out + 1] = id end
return out
