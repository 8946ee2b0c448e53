-- A moderator's action on one question.
-- ARGV: action (approve | reject | pin | unpin | answer | archive), id,
-- actor, actor role, now (RFC 3339), now_ms, text (edited text, reason or
-- answer; may be empty), match (the edited text's matching form).
-- Returns {'OK', json, [previously pinned json]}, {'UNCHANGED', json} or
-- {'BAD_STATE', status}.
local action, id, actor, role, now, now_ms, text, match = unpack(ARGV)

keep_counts()

local function set(t) local r = {} for _, v in ipairs(t) do r[v] = true end return r end

local q, bad
if action == 'approve' then
  local name = text ~= '' and 'edit_approve' or 'approve'
  q, bad = moderate(id, set({PENDING}), name, 'question.approved', function(q)
    if text ~= '' and text ~= q.text then
      if not q.orig or q.orig == '' then q.orig = q.text end
      q.text, q.match = text, match
    end
    q.status = APPROVED
  end, actor, role, text, now)
elseif action == 'reject' then
  q, bad = moderate(id, set({PENDING, APPROVED}), 'reject', 'question.rejected',
                    function(q) q.status, q.reason = REJECTED, text end,
                    actor, role, text, now)
elseif action == 'unpin' then
  q, bad = moderate(id, set({PINNED}), 'unpin', 'question.unpinned',
                    function(q) q.status = APPROVED end, actor, role, '', now)
elseif action == 'answer' then
  local current = must_load(id)
  if current.status == ANSWERED and (text == '' or text == current.answer) then
    return {'UNCHANGED', question_json(current)}
  end
  q, bad = moderate(id, set({APPROVED, PINNED, ANSWERED}), 'answer',
                    'question.answered', function(q)
    if q.status ~= ANSWERED then q.answered, q.answered_ms = now, now_ms end
    if text ~= '' then q.answer = text end
    q.status = ANSWERED
  end, actor, role, text, now)
elseif action == 'archive' then
  if must_load(id).status == ARCHIVED then
    return {'UNCHANGED', question_json(must_load(id))}
  end
  q, bad = moderate(id, set({PENDING, APPROVED, PINNED, ANSWERED, REJECTED}),
                    'archive', 'question.archived',
                    function(q) q.status = ARCHIVED end, actor, role, '', now)
elseif action == 'pin' then
  -- One pinned question: the previous one goes back to APPROVED in the
  -- same step (and the same undo record).
  local current = must_load(id)
  if current.status == PINNED then return {'UNCHANGED', question_json(current)} end
  if current.status ~= APPROVED then return {'BAD_STATE', current.status} end
  local previous_id = redis.call('GET', P .. 'pinned')
  local previous = previous_id and load(previous_id) or nil
  local touched = {current}
  if previous then touched[2] = previous end
  local ids = {id}
  if previous then ids[2] = previous.id end
  local seq = audit(actor, role, 'pin', ids, '', now)
  push_undo(seq, 'pin', touched)
  for _, t in ipairs(touched) do
    unindex(t)
    t.status = (t == current) and PINNED or APPROVED
    t.updated = now
    save_fields(t, MODERATION_FIELDS)
    index(t)
  end
  redis.call('SET', P .. 'pinned', id)
  feed('question.pinned', id, touched, now)
  if previous then
    return {'OK', question_json(current), question_json(previous)}
  end
  return {'OK', question_json(current)}
else
  th_fail('INVALID_ARGUMENT', 'unknown moderation action ' .. action)
end
if not q then return {'BAD_STATE', bad.status} end
return {'OK', question_json(q)}
