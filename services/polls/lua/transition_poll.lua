-- Moves a poll along its lifecycle: 'open' (DRAFT -> OPEN, or a reopen:
-- CLOSED -> OPEN with a reason, which clears closes_at), 'close' (OPEN ->
-- CLOSED), 'publish' (CLOSED -> PUBLISHED). Settles every expired timer
-- of the session first.
-- ARGV: id, action, reason, now_ms, now (RFC 3339), actor, role, max_open.
-- Returns {'OK', view...}, {'BAD_STATE', state}, {'TOO_MANY', max_open},
-- {'NEED_REASON'} or {'CLOSES_PAST', closes_at}.
local id, action, reason, now_ms, now, actor, role, max_open = unpack(ARGV)
now_ms, max_open = tonumber(now_ms), tonumber(max_open)
must_poll(id)
settle(now_ms)
local p = must_poll(id)
if action == 'open' then
  if p.state == 'DRAFT' then
    if (p.closes_ms or '') ~= '' and tonumber(p.closes_ms) <= now_ms then
      return {'CLOSES_PAST', p.closes_at}
    end
  elseif p.state == 'CLOSED' then
    if reason == '' then return {'NEED_REASON'} end
  else
    return {'BAD_STATE', p.state}
  end
  if redis.call('SCARD', OPEN_SET) >= max_open then
    return {'TOO_MANY', tostring(max_open)}
  end
  redis.call('SADD', OPEN_SET, id)
  if p.state == 'DRAFT' then
    redis.call('HSET', poll_key(id), 'state', 'OPEN', 'open_time', now)
    p.state, p.open_time = 'OPEN', now
    th_audit(P, actor, role, 'poll.open', 'pollIds', {id}, '', now)
    change('poll.opened', p)
  else
    local reopens = redis.call('HINCRBY', poll_key(id), 'reopens', 1)
    redis.call('HSET', poll_key(id), 'state', 'OPEN', 'close_time', '',
               'closes_at', '', 'closes_ms', '')
    p.state, p.close_time, p.closes_at, p.closes_ms, p.reopens =
        'OPEN', '', '', '', tostring(reopens)
    th_audit(P, actor, role, 'poll.reopen', 'pollIds', {id}, reason, now)
    change('poll.reopened', p)
  end
elseif action == 'close' then
  if p.state ~= 'OPEN' then return {'BAD_STATE', p.state} end
  close_poll(p, now, actor, role, '')
elseif action == 'publish' then
  if p.state ~= 'CLOSED' then return {'BAD_STATE', p.state} end
  redis.call('HSET', poll_key(id), 'state', 'PUBLISHED', 'publish_time', now)
  p.state, p.publish_time = 'PUBLISHED', now
  th_audit(P, actor, role, 'poll.publish', 'pollIds', {id}, '', now)
  change('poll.published', p)
else
  th_fail('INVALID_ARGUMENT', 'unknown action ' .. action)
end
return append_view({'OK'}, p, '', false)
