-- Links the questions carried into the session to its FOLLOW_UP item: the
-- item's `questions` become ARGV[2] (read from the session's question queue
-- by read_carried.lua, in that queue's own slot). Idempotent: the same
-- links again change nothing and append nothing to the feed.
-- ARGV: session, FollowUpQuestion JSON array, now (RFC 3339).
-- Returns {'NONE'} (no follow-up item), {'SAME', item JSON} or
-- {'OK', item JSON}.
local s, links_json, now = ARGV[1], ARGV[2], ARGV[3]
local id = redis.call('GET', followup_key(s))
if not id then return {'NONE'} end
local stored = redis.call('HGET', items_key(s), id)
if not stored then return {'NONE'} end
local item = cjson.decode(stored)
local links = cjson.decode(links_json)

-- One link as a comparable string (cjson's key order is not stable).
local function key_of(link)
  return table.concat({link.questionId or '', link.status or '',
                       link.carriedFromSessionId or '', link.text or ''}, '\0')
end
local old = item.questions or {}
local same = #old == #links
if same then
  for k = 1, #links do
    if key_of(old[k]) ~= key_of(links[k]) then same = false; break end
  end
end
if same then return {'SAME', encode(with_position(s, item))} end
-- Stored as is, without a new etag: links are output only, and a
-- moderator editing the item meanwhile must not be refused for them.
item.questions = links
item.position = nil
redis.call('HSET', items_key(s), id, encode(item))
item = with_position(s, item)
feed('agenda.item.updated', item.id, 'item', item, now)
return {'OK', encode(item)}
