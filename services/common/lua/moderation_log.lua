-- The session's moderation audit log, prepended after prelude.lua by the
-- live services that write it (questions, polls). It lives in the session's
-- slot, `prefix` = KEYS[1] = "th:{s:<tenant>:<session>}:":
--   prefix audit     HASH   sequence -> ModerationAction JSON
--   prefix audit:n   STRING the newest sequence
-- QuestionService reads it (ListModerationLog, ExportModerationLog).

-- Appends a moderator action; `ids_field` names the ids' field
-- ('questionIds', 'pollIds'). Returns its sequence.
local function th_audit(prefix, actor, role, action, ids_field, ids, detail,
                        now)
  local n = redis.call('INCR', prefix .. 'audit:n')
  local entry = {sequence = n, time = now, actor = actor, actorRole = role,
                 action = action, detail = detail}
  if #ids > 0 then entry[ids_field] = ids end
  if detail == '' then entry.detail = nil end
  redis.call('HSET', prefix .. 'audit', n, cjson.encode(entry))
  return n
end
