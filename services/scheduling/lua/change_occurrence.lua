-- Cancels or moves one occurrence of a series: records the EXDATE (and the
-- RDATE of a move) on the series and changes the occurrence's session, in
-- one atomic step. The session keeps its id, so its registrations, agenda
-- and questions stay attached.
-- KEYS[1] tenant prefix.
-- ARGV: series id, original start (unix seconds), 'cancel' or 'move',
--       new start, new end (for 'move'), allow_conflicts, now,
--       cancel reason (for 'cancel'; may be empty).
-- Returns {'OK', session id, session version}, {'NO_OCCURRENCE'},
-- {'BAD_STATE', state, session id}, {'START_TAKEN'} or
-- {'CONFLICTS', id, resource, ...}.
local series_id, orig, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local new_start, new_end = tonumber(ARGV[4]), tonumber(ARGV[5])
local allow, now = ARGV[6] == '1', ARGV[7]
local reason = ARGV[8] or ''
local series_key = P .. 'series:' .. series_id

if redis.call('EXISTS', series_key) == 0 then
  th_fail('NOT_FOUND', 'series ' .. series_id .. ' not found')
end
local ids = redis.call('ZRANGEBYSCORE', series_key .. ':sessions', orig, orig)
if #ids == 0 then return {'NO_OCCURRENCE'} end
local id = ids[1]
local key = session_key(id)
local f = redis.call('HMGET', key, 'state', 'start', 'end')
local state, current_start = tonumber(f[1]), tonumber(f[2])
if state ~= DRAFT and state ~= SCHEDULED then return {'BAD_STATE', state, id} end

-- EXDATE/RDATE are plain instants, so two occurrences of one series must
-- never share a start: moving onto another occurrence's original or moved
-- start would make the exported calendar drop one of them.
if mode == 'move' and new_start ~= orig and new_start ~= current_start then
  local taken = redis.call('ZRANGEBYSCORE', series_key .. ':sessions', new_start, new_start)
  if #taken > 0 or redis.call('ZSCORE', series_key .. ':rdates', new_start) then
    return {'START_TAKEN'}
  end
end

local resources = session_resources(id)
if mode == 'move' and not allow then
  local conflicts = {}
  find_conflicts(resources, new_start, new_end, id, conflicts)
  if #conflicts > 0 then
    table.insert(conflicts, 1, 'CONFLICTS')
    return conflicts
  end
end

-- A moved occurrence is EXDATE(original) + RDATE(new); moving it again
-- replaces the RDATE, and moving it back to the original removes both.
if current_start ~= orig then
  redis.call('ZREM', series_key .. ':rdates', current_start)
end
if mode == 'cancel' then
  redis.call('ZADD', series_key .. ':exdates', orig, orig)
  unbook(resources, id)
  redis.call('HSET', key, 'state', CANCELLED, 'updated', now,
             'cancel_reason', reason)
  feed('session.state', id, tostring(CANCELLED))
else
  if new_start == orig then
    redis.call('ZREM', series_key .. ':exdates', orig)
  else
    redis.call('ZADD', series_key .. ':exdates', orig, orig)
    redis.call('ZADD', series_key .. ':rdates', new_start, new_start)
  end
  unbook(resources, id)
  book(resources, id, new_start)
  redis.call('HSET', key, 'start', new_start, 'end', new_end, 'updated', now)
  redis.call('ZADD', P .. 'sessions', new_start, id)
  feed('session.moved', id, tostring(state))
end
local version = redis.call('HINCRBY', key, 'version', 1)
redis.call('HINCRBY', series_key, 'version', 1)
redis.call('HSET', series_key, 'updated', now)
feed('series.updated', series_id, '')
return {'OK', id, version}
