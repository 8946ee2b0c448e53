-- Merges duplicates into a surviving question: the duplicates become
-- MERGED and point to it; their voters are added to it, each counted once.
-- ARGV: target, actor, actor role, now (RFC 3339), duplicate ids...
-- Returns {'OK', target json, duplicate json...} or
-- {'BAD_STATE', question id, status}.
local target_id, actor, role, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
keep_counts()
local mergeable = {PENDING = true, APPROVED = true, PINNED = true}
local target = must_load(target_id)
if not mergeable[target.status] then return {'BAD_STATE', target_id, target.status} end
local dups, ids, seen = {}, {target_id}, {[target_id] = true}
for i = 5, #ARGV do
  local id = ARGV[i]
  if seen[id] then
    th_fail('INVALID_ARGUMENT', 'duplicate_question_ids: ' .. id ..
            ' is the target or listed twice')
  end
  seen[id] = true
  local d = must_load(id)
  if not mergeable[d.status] then return {'BAD_STATE', id, d.status} end
  dups[#dups + 1] = d
  ids[#ids + 1] = id
end
local touched = {target}
for _, d in ipairs(dups) do touched[#touched + 1] = d end
local seq = audit(actor, role, 'merge', ids, '', now)
-- Voters the survivor gains, so that an undo can take them back.
local added = {}
local tvoters = voters_key(target_id)
local trend = tonumber(target.trend)
for _, d in ipairs(dups) do
  local flat = redis.call('HGETALL', voters_key(d.id))
  for i = 1, #flat, 2 do
    if redis.call('HSETNX', tvoters, flat[i], flat[i + 1]) == 1 then
      added[flat[i]] = flat[i + 1]
      trend = log2addexp(trend, weight(flat[i + 1]))
    end
  end
end
push_undo(seq, 'merge', touched, {target = target_id, added = added})
for _, t in ipairs(touched) do unindex(t) end
local pinned = redis.call('GET', P .. 'pinned')
for _, d in ipairs(dups) do
  if pinned == d.id then redis.call('DEL', P .. 'pinned') end
  d.status, d.merged_into, d.updated = MERGED, target_id, now
  save_fields(d, MODERATION_FIELDS)
  index(d)
end
local from = target.merged_from or ''
for i = 2, #ids do from = (from == '' and '' or (from .. ' ')) .. ids[i] end
target.merged_from, target.updated = from, now
target.votes = tostring(redis.call('HLEN', tvoters))
target.trend = fmt(trend)
save_fields(target, MODERATION_FIELDS)
redis.call('HSET', qkey(target_id), 'votes', target.votes, 'trend', target.trend)
index(target)
feed('question.merged', target_id, touched, now)
local out = {'OK'}
for _, t in ipairs(touched) do out[#out + 1] = question_json(t) end
return out
