-- Registration helpers, prepended to every registration script after the
-- common prelude.
--
-- KEYS[1] of every registration script is the tenant prefix
-- "th:{t:<tenant>}:". The registration keys (reg:, seats:, waitlist: ...)
-- are derived here by appending to it, so a script stays in the tenant's
-- slot; C++ never builds them. Keys that C++ also builds (a directory
-- record, the revocation stream) come in KEYS[2] from RegistrationStore
-- (registration_store.h). The key schema is in docs/architecture.md.
local P = KEYS[1]

-- Keep in sync with townhall.v1.RegistrationStatus / Delegation /
-- SessionRole.
local PENDING, CONFIRMED, WAITLISTED, STANDBY, CANCELLED = 1, 2, 3, 4, 5
local INDIVIDUAL, DELEGATE, SUBSTITUTE = 1, 2, 3

-- Idempotency records live a day, like scheduling's.
local IDEM_TTL = 86400

local function reg_key(s, p) return P .. 'reg:' .. s .. ':' .. p end
local function regs_key(s) return P .. 'regs:' .. s end
local function seats_key(s) return P .. 'seats:' .. s end
local function waitlist_key(s) return P .. 'waitlist:' .. s end
local function pending_key(s) return P .. 'pending:' .. s end
local function standby_key(s, org) return P .. 'standby:' .. s .. ':' .. org end
local function regseq_key(s) return P .. 'regseq:' .. s end
local function invite_key(s, org) return P .. 'invite:' .. s .. ':' .. org end
local function att_key(s, p) return P .. 'att:' .. s .. ':' .. p end
local function atts_key(s) return P .. 'atts:' .. s end

local function feed(kind, s, p, data)
  return th_feed_append(P .. 'version', P .. 'events', kind, s .. ':' .. p,
                        data)
end

-- The next value of the session's counter: arrival order and the order of
-- joining the waitlist (never wall clock, so servers' clocks do not matter).
local function next_seq(s) return redis.call('INCR', regseq_key(s)) end

-- True while the session has a free seat (capacity 0: unlimited).
local function seat_free(s, capacity)
  return capacity == 0 or redis.call('ZCARD', seats_key(s)) < capacity
end

-- Moves the first waitlisted entries into free seats (capacity may have
-- grown). Returns the promoted participant ids in order.
local function promote_free(s, capacity, now)
  local promoted = {}
  while seat_free(s, capacity) do
    local first = redis.call('ZRANGE', waitlist_key(s), 0, 0)[1]
    if not first then break end
    redis.call('ZREM', waitlist_key(s), first)
    redis.call('ZADD', seats_key(s), next_seq(s), first)
    redis.call('HSET', reg_key(s, first), 'status', CONFIRMED, 'update_us', now)
    feed('registration.promoted', s, first, tostring(CONFIRMED))
    table.insert(promoted, first)
  end
  return promoted
end

-- A registration as the flat list the C++ side decodes (kRecordFields in
-- registration_rules.h): participant, status, role, delegation, org,
-- name, self, create_us, update_us, reason, waitlist position, gen.
local REC_FIELDS = 12
local function reg_record(s, p)
  local f = redis.call('HMGET', reg_key(s, p), 'status', 'role', 'delegation',
                       'org', 'name', 'self', 'create_us', 'update_us',
                       'reason', 'gen')
  if not f[1] then return nil end
  local position = 0
  if tonumber(f[1]) == WAITLISTED then
    local rank = redis.call('ZRANK', waitlist_key(s), p)
    if rank then position = rank + 1 end
  end
  return {p, f[1], f[2], f[3], f[4] or '', f[5] or '', f[6] or '0',
          f[7] or '0', f[8] or '0', f[9] or '', tostring(position),
          f[10] or '0'}
end

-- Why a delegate or substitute of `org` cannot take a place in session `s`
-- ({'NOT_INVITED', org}, {'QUOTA_FULL', quota, org},
-- {'STANDBY_FULL', quota, org}: C++ names the organization), or nil. `standby_capped`: whether substitutes count against the quota (not
-- for a self-registration, which waits for approval).
local function delegation_refusal(s, org, delegation, standby_capped)
  if delegation ~= DELEGATE and delegation ~= SUBSTITUTE then return nil end
  local inv = redis.call('HMGET', invite_key(s, org), 'quota', 'used')
  if org == '' or not inv[1] then return {'NOT_INVITED', org} end
  local quota, used = tonumber(inv[1]), tonumber(inv[2] or '0')
  if delegation == DELEGATE and used >= quota then
    return {'QUOTA_FULL', quota, org}
  end
  if delegation == SUBSTITUTE and standby_capped and
      redis.call('ZCARD', standby_key(s, org)) >= quota then
    return {'STANDBY_FULL', quota, org}
  end
  return nil
end

-- Places participant `p` (not pending) in arrival order `seq`: a substitute
-- stands by for its organization, anyone else takes a free seat or joins
-- the waitlist; a delegate uses one of its organization's quota seats.
-- Returns the new status. The one seat rule of register and approve.
local function take_place(s, p, org, delegation, capacity, seq)
  local status
  if delegation == SUBSTITUTE then
    status = STANDBY
    redis.call('ZADD', standby_key(s, org), seq, p)
  elseif seat_free(s, capacity) then
    status = CONFIRMED
    redis.call('ZADD', seats_key(s), seq, p)
  else
    status = WAITLISTED
    redis.call('ZADD', waitlist_key(s), seq, p)
  end
  if delegation == DELEGATE then
    redis.call('HINCRBY', invite_key(s, org), 'used', 1)
  end
  return status
end

-- Appends `items` to `out`.
local function append_all(out, items)
  for _, v in ipairs(items) do table.insert(out, v) end
  return out
end

-- Revokes the registration's join tokens older than `gen` on every server.
local function revoke(revocation_key, gen, min_id)
  th_revoke(KEYS[2], revocation_key, gen, min_id)
end

-- One participant's attendance as the flat list the C++ side decodes
-- (kAttendanceFields in registration_rules.h): participant, name, org,
-- first_us, online_us (closed join/leave pairs), join_us (open join, ''
-- when offline), checkin_us ('' when not checked in).
local function att_record(s, p)
  local r = redis.call('HMGET', reg_key(s, p), 'name', 'org')
  local a = redis.call('HMGET', att_key(s, p), 'first_us', 'online_us',
                       'join_us', 'checkin_us')
  return {p, r[1] or '', r[2] or '', a[1] or '', a[2] or '0', a[3] or '',
          a[4] or ''}
end
