#!lua flags=no-writes
-- Reads a session's attendance in order of first appearance.
-- KEYS[1] tenant prefix.
-- ARGV: session.
-- Returns {'OK', confirmed count, attendance...} (7 fields per record).
local s = ARGV[1]
local out = {'OK', redis.call('ZCARD', seats_key(s))}
for _, p in ipairs(redis.call('ZRANGE', atts_key(s), 0, -1)) do
  append_all(out, att_record(s, p))
end
return out
