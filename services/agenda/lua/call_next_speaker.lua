-- Whoever is SPEAKING becomes DONE; then the chosen waiting participant, or
-- the next by the fairness rules, takes the floor.
-- KEYS: agenda_store.h. ARGV: session, item, chosen participant (or ''),
-- now.
-- Returns {'OK', queue, new speaker JSON or ''}.
local s, i, chosen, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_item(s, i)
local q = load_queue(s, i)
local next_sp = nil
if chosen ~= '' then
  local _, sp = find(q, chosen)
  if not sp or sp.state ~= WAITING then
    th_fail('FAILED_PRECONDITION',
            'participant ' .. chosen .. ' is not waiting to speak on item ' .. i)
  end
  next_sp = sp
end
local changed = false
for _, sp in ipairs(q.speakers) do
  if sp.state == SPEAKING then
    sp.state = DONE
    sp.endTime = now
    changed = true
  end
end
local spoken = spoken_set(s)
if not next_sp then
  local order, callable = call_order(q, spoken)
  if callable > 0 then next_sp = order[1] end
end
if next_sp then
  next_sp.state = SPEAKING
  next_sp.startTime = now
  redis.call('SADD', spoken_key(s), next_sp.participantId)
  changed = true
end
local queue
if changed then
  queue = commit(s, i, q, now)
else
  queue = cjson.encode(presented(q, spoken))
end
return {'OK', queue, next_sp and cjson.encode(next_sp) or ''}
