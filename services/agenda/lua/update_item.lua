-- Replaces an item's editable fields if its etag is still `base_etag`
-- (the C++ side merged the field mask into the version it read).
-- ARGV: session, item id, base etag, merged item JSON, now (RFC 3339).
-- Returns {'OK', item JSON}; ABORTED when the item changed meanwhile.
local s, id, base, json, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local current = load_item(s, id)
if (current.etag or '') ~= base then
  th_fail('ABORTED', 'agenda item ' .. id .. ' was changed meanwhile (etag ' ..
          (current.etag or '') .. '); read it again')
end
local merged = cjson.decode(json)
-- Output-only fields always come from the stored item.
for _, f in ipairs({'id', 'sessionId', 'status', 'kind', 'actualStartTime',
                    'actualEndTime', 'actionItemIds', 'topicProposalId',
                    'questions', 'etag'}) do
  merged[f] = current[f]
end
local item = save_item(s, merged)
feed('agenda.item.updated', id, 'item', item, now)
return {'OK', encode(item)}
