-- Ends the current speaker's turn (SPEAKING -> DONE).
-- KEYS: agenda_store.h. ARGV: session, item, now.
-- Returns {'OK', queue, speaker JSON}.
local s, i, now = ARGV[1], ARGV[2], ARGV[3]
require_item(s, i)
local q = load_queue(s, i)
local current = nil
for _, sp in ipairs(q.speakers) do
  if sp.state == SPEAKING then current = sp end
end
if not current then
  th_fail('FAILED_PRECONDITION', 'nobody is speaking on item ' .. i)
end
current.state = DONE
current.endTime = now
return {'OK', commit(s, i, q, now), cjson.encode(current)}
