#!lua flags=no-writes
-- The questions carried into this session (carry_in.lua), oldest first, as
-- the agenda's FOLLOW_UP item links them (townhall.v1.FollowUpQuestion
-- JSON): id, status now, where they came from, and the text while every
-- participant may see it (APPROVED, PINNED, ANSWERED).
-- ARGV: none. Returns {'OK', json...}.
local out = {'OK'}
for _, id in ipairs(redis.call('ZRANGE', P .. 'carried', 0, -1)) do
  local q = load(id)
  if q then
    local link = {questionId = id, status = 'QUESTION_STATUS_' .. q.status}
    if q.carried_from and q.carried_from ~= '' then
      link.carriedFromSessionId = q.carried_from
    end
    if (is_open(q.status) or q.status == ANSWERED) and q.text and q.text ~= '' then
      link.text = q.text
    end
    out[#out + 1] = cjson.encode(link)
  end
end
return out
