-- Replaces the queue settings; logged as a moderator action.
-- ARGV: mode, submissions per minute, votes per minute, closed (0/1),
-- actor, actor role, now (RFC 3339).
-- Returns {'OK', settings json}.
local mode, spm, vpm, closed, actor, role, now = unpack(ARGV)
redis.call('HSET', P .. 'settings', 'mode', mode, 'spm', spm, 'vpm', vpm,
           'closed', closed)
local json = settings_json(settings())
audit(actor, role, 'settings', {}, json, now)
th_feed_append(FEED_VERSION, FEED_EVENTS, 'queue.settings', '',
               '{"time":' .. cjson.encode(now) .. ',"settings":' .. json .. '}')
return {'OK', json}
