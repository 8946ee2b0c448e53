-- Agenda helpers, prepended to every agenda script after the common
-- prelude. Key schema (see agenda_store.h and docs/architecture.md):
--   KEYS[1] tenant prefix P = "th:{t:<tenant>}:"
--   KEYS[2], KEYS[3] the session's feed (AgendaFeedKeys: version, events)
--   P agenda:<s>:order        LIST   item ids in agenda order
--   P agenda:<s>:items        HASH   item id -> AgendaItem JSON
--   P agenda:<s>:active       STRING the ACTIVE item's id
--   P agenda:<s>:proposal_ids LIST   proposal ids, oldest first
--   P agenda:<s>:proposals    HASH   proposal id -> TopicProposal JSON
--   P agenda:<s>:outcome_ids  LIST   outcome ids, oldest first
--   P agenda:<s>:outcomes     HASH   outcome id -> Outcome JSON
--   P agenda:<s>:actions      LIST   ids of action items created here
--   P agenda:<s>:followup     STRING the follow-up item's id
--   P action:<id>             STRING ActionItem JSON (shared by a series)
--   P actions:series:<series> LIST   ids of the series' action items
--   P idem:...                STRING entity id of a request (a day); the
--                                    suffix is ARGV, from IdempotencyKey
-- Entities are proto3 JSON; `position` and `overrun` are not stored (the
-- order list and the reader's clock decide them).
local P = KEYS[1]
local FEED_VERSION, FEED_EVENTS = KEYS[2], KEYS[3]
local IDEM_TTL = 86400

local function order_key(s) return P .. 'agenda:' .. s .. ':order' end
local function items_key(s) return P .. 'agenda:' .. s .. ':items' end
local function active_key(s) return P .. 'agenda:' .. s .. ':active' end
local function proposal_ids_key(s) return P .. 'agenda:' .. s .. ':proposal_ids' end
local function proposals_key(s) return P .. 'agenda:' .. s .. ':proposals' end
local function outcome_ids_key(s) return P .. 'agenda:' .. s .. ':outcome_ids' end
local function outcomes_key(s) return P .. 'agenda:' .. s .. ':outcomes' end
local function session_actions_key(s) return P .. 'agenda:' .. s .. ':actions' end
local function followup_key(s) return P .. 'agenda:' .. s .. ':followup' end
local function action_key(id) return P .. 'action:' .. id end
local function series_actions_key(series) return P .. 'actions:series:' .. series end

-- cjson turns an empty table into {}, which the proto JSON parser refuses
-- for repeated fields: drop empty tables before encoding.
local function prune(t)
  for k, v in pairs(t) do
    if type(v) == 'table' then
      if next(v) == nil then t[k] = nil else prune(v) end
    end
  end
  return t
end

local function encode(t) return cjson.encode(prune(t)) end

-- Appends one change: `field` names the AgendaChange entity ("item",
-- "order", ...), `value` its content.
local function feed(kind, entity_id, field, value, now_rfc)
  local change = {}
  change[field] = value
  change['time'] = now_rfc
  return th_feed_append(FEED_VERSION, FEED_EVENTS, kind, entity_id,
                        encode(change))
end

-- Looks up an idempotency record; returns the remembered id or nil.
local function idem_lookup(idem)
  if idem == '' then return nil end
  return redis.call('GET', P .. idem) or nil
end

local function remember(idem, id) th_remember(idem ~= '' and (P .. idem) or '', id, IDEM_TTL) end

-- The item as a table, or fails NOT_FOUND.
local function load_item(s, id)
  local json = redis.call('HGET', items_key(s), id)
  if not json then th_fail('NOT_FOUND', 'agenda item ' .. id .. ' not found in session ' .. s) end
  return cjson.decode(json)
end

-- The item with its position, for replies and feed entries.
local function with_position(s, item)
  local pos = redis.call('LPOS', order_key(s), item.id)
  item.position = pos or 0
  return item
end

-- Stores an item (without position) and bumps its etag.
local function save_item(s, item)
  item.position = nil
  item.etag = tostring((tonumber(item.etag or '0') or 0) + 1)
  redis.call('HSET', items_key(s), item.id, encode(item))
  return with_position(s, item)
end

-- Inserts `id` at 0-based `pos` of the order (at the end when pos < 0 or
-- beyond it).
local function insert_at(s, id, pos)
  local key = order_key(s)
  local n = redis.call('LLEN', key)
  if pos < 0 or pos >= n then
    redis.call('RPUSH', key, id)
  elseif pos == 0 then
    redis.call('LPUSH', key, id)
  else
    local pivot = redis.call('LINDEX', key, pos)
    redis.call('LINSERT', key, 'BEFORE', pivot, id)
  end
end

local function status_of(item) return item.status or 'AGENDA_ITEM_STATUS_UNSPECIFIED' end
