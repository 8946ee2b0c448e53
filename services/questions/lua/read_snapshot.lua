#!lua flags=no-writes
-- The queue as one watcher may see it, with the feed version, atomically.
-- ARGV: privileged (0/1), viewer participant ('' for none), agenda item
-- ('' for all).
-- Returns {'OK', version, pinned id, settings json, counts json ('' when
-- not privileged), question json...}:
-- open questions in the top order, then (privileged) PENDING oldest
-- first, then ANSWERED newest first, then the viewer's own questions in
-- other statuses.
local privileged, viewer, item = ARGV[1] == '1', ARGV[2], ARGV[3]
local version = redis.call('GET', FEED_VERSION) or '0'
local out = {'OK', version, redis.call('GET', P .. 'pinned') or '',
             settings_json(settings()), privileged and counts_json() or ''}
local seen = {}
local function add(id, check_item)
  if seen[id] then return end
  local q = load(id)
  if not q then return end
  if check_item and item ~= '' and q.item ~= item then return end
  seen[id] = true
  out[#out + 1] = question_json(q, viewer)
end
local top = item ~= '' and ('top:' .. item) or 'top'
for _, id in ipairs(redis.call('ZREVRANGE', P .. top, 0, -1)) do add(id, false) end
if privileged then
  for _, id in ipairs(redis.call('ZRANGE', P .. 'pending', 0, -1)) do add(id, true) end
end
for _, id in ipairs(redis.call('ZREVRANGE', P .. 'answered', 0, -1)) do add(id, true) end
if viewer ~= '' then
  for _, id in ipairs(redis.call('ZRANGE', P .. 'mine:' .. viewer, 0, -1)) do
    add(id, true)
  end
end
return out
