-- Raises a hand; a raise while WAITING or SPEAKING changes nothing.
-- KEYS: agenda_store.h. ARGV: session, item, participant, organization,
-- now (RFC 3339).
-- Returns {'OK', queue} or {'UNCHANGED', queue}.
local s, i, p, org, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
require_item(s, i)
local q = load_queue(s, i)
local spoken = spoken_set(s)
local k, sp = find(q, p)
if sp and (sp.state == WAITING or sp.state == SPEAKING) then
  return {'UNCHANGED', cjson.encode(presented(q, spoken))}
end
-- Raising again after speaking (or withdrawing) queues at the end.
if k then table.remove(q.speakers, k) end
q.speakers[#q.speakers + 1] = {participantId = p, organizationId = org,
                               state = WAITING, raiseTime = now,
                               firstTime = not spoken[p]}
return {'OK', commit(s, i, q, now)}
