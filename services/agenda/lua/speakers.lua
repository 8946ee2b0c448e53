-- Helpers of the speakers' queue scripts (prepended after prelude.lua).
--
-- KEYS (agenda_store.h): KEYS[1] the tenant prefix P; KEYS[2], KEYS[3]
-- the session's feed (AgendaFeedKeys: version, events). Keys derived from P:
--   <P>agenda:<s>:items        HASH item id -> AgendaItem JSON (ItemsLogic)
--   <P>agenda:<s>:queue:<id>   SpeakersQueue JSON, speakers in arrival order
--   <P>agenda:<s>:spoken       SET of participants who took the floor in the
--                              session (on any item), for first-time rules
local P = KEYS[1]
local FEED_VERSION, FEED_EVENTS = KEYS[2], KEYS[3]
local WAITING = 'SPEAKER_STATE_WAITING'
local SPEAKING = 'SPEAKER_STATE_SPEAKING'
local DONE = 'SPEAKER_STATE_DONE'
local WITHDRAWN = 'SPEAKER_STATE_WITHDRAWN'
-- Only in what is read: a held speaker is stored WAITING.
local HELD = 'SPEAKER_STATE_HELD'

local function items_key(s) return P .. 'agenda:' .. s .. ':items' end
local function queue_key(s, i) return P .. 'agenda:' .. s .. ':queue:' .. i end
local function spoken_key(s) return P .. 'agenda:' .. s .. ':spoken' end

local function require_item(s, i)
  if redis.call('HEXISTS', items_key(s), i) == 0 then
    th_fail('NOT_FOUND', 'agenda item ' .. i .. ' not found in session ' .. s)
  end
end

local function load_queue(s, i)
  local raw = redis.call('GET', queue_key(s, i))
  local q = {}
  if raw then q = cjson.decode(raw) end
  if type(q.options) ~= 'table' then q.options = {} end
  if type(q.speakers) ~= 'table' then q.speakers = {} end
  q.sessionId, q.agendaItemId = s, i
  return q
end

local function spoken_set(s)
  local set = {}
  for _, p in ipairs(redis.call('SMEMBERS', spoken_key(s))) do set[p] = true end
  return set
end

local function find(q, p)
  for k, sp in ipairs(q.speakers) do
    if sp.participantId == p then return k, sp end
  end
  return nil, nil
end

-- Waiting speakers in the order they will be called: a simulation of
-- successive calls (first-time speakers first when asked, then arrival
-- order, skipping organizations at their limit). Returns that order (the
-- ones no call can reach last, in arrival order) and how many are callable.
local function call_order(q, spoken)
  local waiting = {}
  for _, sp in ipairs(q.speakers) do
    if sp.state == WAITING then waiting[#waiting + 1] = sp end
  end
  local ftf = q.options.firstTimeSpeakersFirst == true
  local max = tonumber(q.options.maxSpeakersPerOrganization or 0) or 0
  local counts = {}
  for _, sp in ipairs(q.speakers) do
    local org = sp.organizationId or ''
    if (sp.state == SPEAKING or sp.state == DONE) and org ~= '' then
      counts[org] = (counts[org] or 0) + 1
    end
  end
  local order, used = {}, {}
  while true do
    local pick = nil
    for pass = 1, (ftf and 2 or 1) do
      for k, sp in ipairs(waiting) do
        if not used[k] then
          local first = not spoken[sp.participantId]
          local org = sp.organizationId or ''
          if (not ftf or (pass == 1) == first) and
              (max == 0 or org == '' or (counts[org] or 0) < max) then
            pick = k
            break
          end
        end
      end
      if pick then break end
    end
    if not pick then break end
    used[pick] = true
    order[#order + 1] = waiting[pick]
    local org = waiting[pick].organizationId or ''
    if org ~= '' then counts[org] = (counts[org] or 0) + 1 end
  end
  local callable = #order
  for k, sp in ipairs(waiting) do
    if not used[k] then order[#order + 1] = sp end
  end
  return order, callable
end

-- A waiting speaker no call reaches, as the API shows them: HELD, with
-- the reason (the per-organization limit is the only one: first-time
-- speakers first only reorders).
local function held(sp, max)
  local out = {}
  for k, v in pairs(sp) do out[k] = v end
  out.state = HELD
  out.holdReason = 'SPEAKER_HOLD_REASON_ORGANIZATION_LIMIT'
  out.holdDetail = 'organization ' .. (sp.organizationId or '') ..
      ' is at its limit of ' .. max .. ' speaker' ..
      (max == 1 and '' or 's') .. ' on this item, counting those called before'
  return out
end

-- The queue as the API shows it: speaking, waiting in call order, held,
-- done, withdrawn. cjson writes an empty table as {}: empty arrays are
-- dropped.
local function presented(q, spoken)
  local out = {sessionId = q.sessionId, agendaItemId = q.agendaItemId,
               options = q.options}
  local list = {}
  for _, sp in ipairs(q.speakers) do
    if sp.state == SPEAKING then list[#list + 1] = sp end
  end
  local order, callable = call_order(q, spoken)
  local max = tonumber(q.options.maxSpeakersPerOrganization or 0) or 0
  for k, sp in ipairs(order) do
    list[#list + 1] = k <= callable and sp or held(sp, max)
  end
  for _, state in ipairs({DONE, WITHDRAWN}) do
    for _, sp in ipairs(q.speakers) do
      if sp.state == state then list[#list + 1] = sp end
    end
  end
  if #list > 0 then out.speakers = list end
  return out
end

local function save_queue(s, i, q)
  local stored = {sessionId = s, agendaItemId = i, options = q.options}
  if #q.speakers > 0 then stored.speakers = q.speakers end
  redis.call('SET', queue_key(s, i), cjson.encode(stored))
end

-- Saves the queue, appends agenda.speakers.changed and returns the
-- presented queue as JSON.
local function commit(s, i, q, now)
  save_queue(s, i, q)
  local shown = presented(q, spoken_set(s))
  th_feed_append(FEED_VERSION, FEED_EVENTS, 'agenda.speakers.changed', i,
                 cjson.encode({speakersQueue = shown, time = now}))
  return cjson.encode(shown)
end
