-- Directory helpers, prepended to every directory script after the common
-- prelude.
--
-- KEYS[1] of every directory script is the tenant prefix "th:{t:<tenant>}:".
-- Keys used here are derived only by appending to it, so they share its hash
-- tag and slot (see services/registration/directory_store.h for the keys).
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
