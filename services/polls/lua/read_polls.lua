-- Reads polls without writing (an expired timer is applied by C++ when it
-- decodes; the next script that depends on the state stores it).
-- ARGV: 'get', id, participant, with_ballots (0/1)
--    or 'page', offset, count, participant
--    or 'watch', id ('' for every poll), participant.
-- Returns {'OK', view...}: 'get' one view (append_view), 'page' the total
-- number of polls then one view per poll, 'watch' the poll feed's version
-- then one view per poll (a WatchPolls snapshot, read with its version).
local mode = ARGV[1]
-- Appends the views of the polls ranked first..last (ZRANGE) to `out`.
local function append_polls(out, first, last, participant)
  for _, id in ipairs(redis.call('ZRANGE', P .. 'polls', first, last)) do
    local p = load_poll(id)
    if p then append_view(out, p, participant, false) end
  end
  return out
end
if mode == 'get' then
  local p = must_poll(ARGV[2])
  return append_view({'OK'}, p, ARGV[3], ARGV[4] == '1')
end
if mode == 'watch' then
  local out = {'OK', redis.call('GET', FEED_VERSION) or '0'}
  if ARGV[2] ~= '' then
    return append_view(out, must_poll(ARGV[2]), ARGV[3], false)
  end
  return append_polls(out, 0, -1, ARGV[3])
end
local offset, count, participant = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
return append_polls({'OK', tostring(redis.call('ZCARD', P .. 'polls'))},
                    offset, offset + count - 1, participant)
