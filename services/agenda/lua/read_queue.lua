#!lua flags=no-writes
-- Reads one item's queue as the API shows it.
-- KEYS: agenda_store.h. ARGV: session, item.
-- Returns {'OK', queue}.
local s, i = ARGV[1], ARGV[2]
require_item(s, i)
return {'OK', cjson.encode(presented(load_queue(s, i), spoken_set(s)))}
