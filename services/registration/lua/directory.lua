-- Directory helpers, prepended to every directory script after the common
-- prelude.
--
-- KEYS[1] of every directory script is the tenant prefix "th:{t:<tenant>}:";
-- the records and indexes a script writes follow in KEYS[2..], built by
-- DirectoryKeys (services/registration/directory_store.h), never here. Only
-- the tenant's feed and idempotency records are derived by appending to
-- KEYS[1], as in every service (docs/architecture.md).
local P = KEYS[1]

-- Requests remembered for retries (request_id) are kept this long.
local IDEMPOTENCY_TTL_SECONDS = 86400

-- Appends to the tenant's change feed, in the same step as the change.
local function feed(kind, id, data)
  return th_feed_append(P .. 'version', P .. 'events', kind, id, data)
end

-- The id an earlier request with idempotency key suffix `idem` created, or
-- nil ('' means the request has no request_id).
local function earlier_result(idem)
  if idem == '' then return nil end
  local id = redis.call('GET', P .. idem)
  if id then return id end
  return nil
end

-- Adds `id` to the space-separated ids of match key `key` in orgs:names
-- (the same name may be taken in other countries: every id is kept), once.
local function add_name(names, key, id)
  local ids = redis.call('HGET', names, key)
  if not ids then
    redis.call('HSET', names, key, id)
  elseif not (' ' .. ids .. ' '):find(' ' .. id .. ' ', 1, true) then
    redis.call('HSET', names, key, ids .. ' ' .. id)
  end
end
