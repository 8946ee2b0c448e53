-- Replaces the queue's options (validated by the caller).
-- KEYS: agenda_store.h. ARGV: session, item, options JSON, now.
-- Returns {'OK', queue}.
local s, i, options, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
require_item(s, i)
local q = load_queue(s, i)
q.options = cjson.decode(options)
return {'OK', commit(s, i, q, now)}
