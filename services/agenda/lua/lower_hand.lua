-- Lowers a waiting hand (WAITING -> WITHDRAWN).
-- KEYS: agenda_store.h. ARGV: session, item, participant, now.
-- Returns {'OK', queue}.
local s, i, p, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_item(s, i)
local q = load_queue(s, i)
local _, sp = find(q, p)
if not sp or sp.state ~= WAITING then
  th_fail('FAILED_PRECONDITION',
          'participant ' .. p .. ' is not waiting to speak on item ' .. i)
end
sp.state = WITHDRAWN
sp.endTime = now
return {'OK', commit(s, i, q, now)}
