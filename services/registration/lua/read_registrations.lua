#!lua flags=no-writes
-- Reads registrations of a session in one consistent snapshot (waitlist
-- positions and counts agree with each other).
-- KEYS[1] tenant prefix.
-- ARGV: session, mode:
--   'get', participant: {'OK', record...} or {'NONE'};
--   'list', after (arrival seq cursor, '' from the start), page size,
--     statuses (csv of numbers, '' for all), scan limit:
--     {'OK', next cursor ('' at the end), confirmed, waitlisted,
--      record...} with records in arrival order.
local s, mode = ARGV[1], ARGV[2]
if mode == 'get' then
  local record = reg_record(s, ARGV[3])
  if not record then return {'NONE'} end
  return append_all({'OK'}, record)
end

local after, size, statuses_csv = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local scan_limit = tonumber(ARGV[6])
local wanted = {}
local filtered = false
for v in string.gmatch(statuses_csv, '[^,]+') do
  wanted[v] = true
  filtered = true
end
local out = {'OK', '', redis.call('ZCARD', seats_key(s)),
             redis.call('ZCARD', waitlist_key(s))}
local min = after == '' and '-inf' or '(' .. after
local found, scanned, cursor = 0, 0, ''
while found < size and scanned < scan_limit do
  local batch = redis.call('ZRANGEBYSCORE', regs_key(s), min, '+inf',
                           'WITHSCORES', 'LIMIT', 0, size)
  if #batch == 0 then
    cursor = ''
    break
  end
  for i = 1, #batch, 2 do
    local p, seq = batch[i], batch[i + 1]
    scanned = scanned + 1
    min = '(' .. seq
    cursor = seq
    local record = reg_record(s, p)
    if record and (not filtered or wanted[record[2]]) then
      append_all(out, record)
      found = found + 1
      if found >= size then break end
    end
  end
  if #batch < size * 2 and found < size then
    -- Fewer than asked: the end of the session's registrations.
    cursor = ''
    break
  end
end
-- A page that ended exactly at the last registration has no next page.
if cursor ~= '' and
    #redis.call('ZRANGEBYSCORE', regs_key(s), '(' .. cursor, '+inf', 'LIMIT', 0, 1) == 0 then
  cursor = ''
end
out[2] = cursor
return out
