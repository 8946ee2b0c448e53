-- Changes an action item's status and appends to its history. The item
-- must belong to the calling session's series (or, without a series, to
-- the session itself); the change goes to this session's feed.
-- ARGV: session, series ('' for none), action id, new status name, note,
--       actor, etag ('' for any), now (RFC 3339).
-- Returns {'OK', action JSON}.
local s, series, id, status, note, actor, etag, now =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local stored = redis.call('GET', action_key(id))
local action = stored and cjson.decode(stored)
local visible = action and ((series ~= '' and action.seriesId == series) or
                            (series == '' and action.sessionId == s))
if not visible then
  th_fail('NOT_FOUND', 'action item ' .. id .. ' not found for session ' .. s)
end
if etag ~= '' and etag ~= action.etag then
  th_fail('ABORTED', 'action item ' .. id .. ' was changed meanwhile (etag ' ..
          (action.etag or '') .. '); read it again')
end
local OPEN, IN_PROGRESS = 'ACTION_ITEM_STATUS_OPEN', 'ACTION_ITEM_STATUS_IN_PROGRESS'
local DONE, CANCELLED = 'ACTION_ITEM_STATUS_DONE', 'ACTION_ITEM_STATUS_CANCELLED'
local rank = {[OPEN] = 1, [IN_PROGRESS] = 2, [DONE] = 3}
local from = action.status
if from == DONE or from == CANCELLED then
  th_fail('FAILED_PRECONDITION', 'action item ' .. id .. ' is ' .. from ..
          ' and can no longer change')
end
-- Forward only (OPEN -> IN_PROGRESS -> DONE, OPEN -> DONE), a note on the
-- same open status, or CANCELLED from any open status.
if status ~= CANCELLED and rank[status] < rank[from] then
  th_fail('FAILED_PRECONDITION', 'action item ' .. id .. ' cannot go from ' ..
          from .. ' back to ' .. status)
end
action.status = status
action.history = action.history or {}
local entry = {time = now, actor = actor, status = status, sessionId = s}
if note ~= '' then entry.note = note end
table.insert(action.history, entry)
action.etag = tostring((tonumber(action.etag or '0') or 0) + 1)
local encoded = encode(action)
redis.call('SET', action_key(id), encoded)
feed('agenda.action.updated', id, 'actionItem', action, now)
return {'OK', encoded}
