#!lua flags=no-writes
-- Reads questions (no writes).
-- ARGV[1] = 'get': id, viewer -> {'OK', json}; NOT_FOUND when missing.
-- ARGV[1] = 'page': index (suffix of P, e.g. 'top' or 'mine:<p>'), reverse
--   (1: highest score first), offset, count, viewer, status filter
--   (space-separated statuses; '' for all) -> {'OK', total, json...}.
--   With a filter the whole index is scanned (only for the small
--   per-participant indexes). An 8th argument names a second index whose
--   questions join the first (a participant's own in VIEW_ALL; both by
--   seq; the union is read whole).
local mode = ARGV[1]
if mode == 'get' then
  return {'OK', question_json(must_load(ARGV[2]), ARGV[3])}
end
local key, reverse, offset, count, viewer, filter =
    P .. ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5]),
    ARGV[6], ARGV[7]
local ids, total
local also = ARGV[8] or ''
if also ~= '' then
  local union = redis.call('ZUNION', 2, key, P .. also, 'AGGREGATE', 'MAX')
  total = #union
  ids = {}
  for i = offset + 1, math.min(total, offset + count) do
    ids[#ids + 1] = reverse and union[total - i + 1] or union[i]
  end
elseif filter == '' then
  total = redis.call('ZCARD', key)
  local stop = offset + count - 1
  ids = reverse and redis.call('ZREVRANGE', key, offset, stop) or
        redis.call('ZRANGE', key, offset, stop)
else
  local wanted = {}
  for s in string.gmatch(filter, '%S+') do wanted[s] = true end
  local all = reverse and redis.call('ZREVRANGE', key, 0, -1) or
              redis.call('ZRANGE', key, 0, -1)
  local matching = {}
  for _, id in ipairs(all) do
    if wanted[redis.call('HGET', qkey(id), 'status')] then
      matching[#matching + 1] = id
    end
  end
  total = #matching
  ids = {}
  for i = offset + 1, math.min(#matching, offset + count) do
    ids[#ids + 1] = matching[i]
  end
end
local out = {'OK', tostring(total)}
for _, id in ipairs(ids) do
  local q = load(id)
  if q then out[#out + 1] = question_json(q, viewer) end
end
return out
