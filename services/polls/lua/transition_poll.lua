-- Moves a poll along its lifecycle: 'open' (DRAFT -> OPEN, or a reopen:
-- CLOSED -> OPEN with a reason, which clears closes_at), 'close' (OPEN ->
-- CLOSED), 'publish' (CLOSED -> PUBLISHED). Settles every expired timer
-- of the session first.
-- ARGV: id, action, reason, now_ms, now (RFC 3339), actor, role, max_open,
-- with_registrations (0/1), then when 1 the session's CONFIRMED and
-- STANDBY registrations, 6 values each: participant, status, role,
-- delegation (the numbers of registration.proto's enums), organization
-- ('' for none), present (0/1: joined online or checked in now). The first
-- open (DRAFT -> OPEN) takes the eligible voters from them (snapshot
-- below): without them it answers NEED_REGISTRATIONS, so C++ reads the
-- registrations only for a first open; a reopen keeps the snapshot.
-- Returns {'OK', view...}, {'BAD_STATE', state}, {'TOO_MANY', max_open},
-- {'NEED_REASON'}, {'NEED_REGISTRATIONS'} or {'CLOSES_PAST', closes_at}.
local id, action, reason, now_ms, now, actor, role, max_open,
    with_registrations = unpack(ARGV, 1, 9)
local FIRST_REGISTRATION = 10
now_ms, max_open = tonumber(now_ms), tonumber(max_open)
local CONFIRMED, OBSERVER, DELEGATE, SUBSTITUTE = '2', '5', '2', '3'

-- Who may vote in `p`, from the registrations in ARGV[10..]: writes the
-- elig, inelig and units hashes and the poll's eligible, eligible_w,
-- present, present_w. PARTICIPANT polls: every CONFIRMED registration
-- but observers. ORGANIZATION polls: per organization, its CONFIRMED
-- delegates, and its STANDBY substitutes when none of its delegates is
-- present; one unit of the organization's weight, present when one of its
-- delegates is. `present_only` keeps only the delegates present.
local function snapshot(p)
  local d = cjson.decode(p.def)
  local by_org = d.ballotUnit == 'BALLOT_UNIT_ORGANIZATION'
  local present_only = d.presentOnly == true
  local weights = d.organizationWeights or {}
  local regs = {}
  for i = FIRST_REGISTRATION, #ARGV, 6 do
    regs[#regs + 1] = {id = ARGV[i], status = ARGV[i + 1],
                       role = ARGV[i + 2], delegation = ARGV[i + 3],
                       org = ARGV[i + 4], present = ARGV[i + 5] == '1'}
  end
  local eligible, eligible_w, present, present_w = 0, 0, 0, 0
  local function refuse(r, why) redis.call('HSET', inelig_key(p.id), r.id, why) end
  local function admit(unit, voters, weight, here)
    for _, r in ipairs(voters) do
      redis.call('HSET', elig_key(p.id), r.id, unit)
    end
    redis.call('HSET', units_key(p.id), unit, weight)
    eligible, eligible_w = eligible + 1, eligible_w + weight
    if here then present, present_w = present + 1, present_w + weight end
  end
  if not by_org then
    for _, r in ipairs(regs) do
      if r.status ~= CONFIRMED then refuse(r, 'STANDBY')
      elseif r.role == OBSERVER then refuse(r, 'OBSERVER')
      elseif present_only and not r.present then refuse(r, 'ABSENT')
      else admit(r.id, {r}, 1, r.present) end
    end
  else
    local orgs, order = {}, {}
    for _, r in ipairs(regs) do
      local o = orgs[r.org]
      if r.org ~= '' and not o then
        o = {delegates = {}, substitutes = {}, here = false}
        orgs[r.org] = o
        order[#order + 1] = r.org
      end
      if r.org ~= '' and r.delegation == DELEGATE and r.status == CONFIRMED then
        o.delegates[#o.delegates + 1] = r
        if r.present then o.here = true end
      elseif r.org ~= '' and r.delegation == SUBSTITUTE then
        o.substitutes[#o.substitutes + 1] = r
      else
        refuse(r, 'NOT_DELEGATE')
      end
    end
    for _, org in ipairs(order) do
      local o, voters = orgs[org], {}
      for _, r in ipairs(o.delegates) do
        if present_only and not r.present then refuse(r, 'ABSENT')
        else voters[#voters + 1] = r end
      end
      -- A substitute holds no seat, so RegistrationService records no
      -- attendance for one: a substitute stands in whenever no delegate
      -- of the organization is present.
      for _, r in ipairs(o.substitutes) do
        if o.here then refuse(r, 'DELEGATE_PRESENT')
        else voters[#voters + 1] = r end
      end
      if #voters > 0 then
        admit(org, voters, tonumber(weights[org] or 1), o.here)
      end
    end
  end
  local unit = by_org and 'ORGANIZATION' or 'PARTICIPANT'
  redis.call('HSET', poll_key(p.id), 'unit', unit, 'eligible', eligible,
             'eligible_w', eligible_w, 'present', present,
             'present_w', present_w)
  p.unit, p.eligible, p.eligible_w, p.present, p.present_w = unit,
      tostring(eligible), tostring(eligible_w), tostring(present),
      tostring(present_w)
end

must_poll(id)
settle(now_ms)
local p = must_poll(id)
if action == 'open' then
  if p.state == 'DRAFT' then
    if (p.closes_ms or '') ~= '' and tonumber(p.closes_ms) <= now_ms then
      return {'CLOSES_PAST', p.closes_at}
    end
  elseif p.state == 'CLOSED' then
    if reason == '' then return {'NEED_REASON'} end
  else
    return {'BAD_STATE', p.state}
  end
  if redis.call('SCARD', OPEN_SET) >= max_open then
    return {'TOO_MANY', tostring(max_open)}
  end
  if p.state == 'DRAFT' and with_registrations ~= '1' then
    return {'NEED_REGISTRATIONS'}
  end
  redis.call('SADD', OPEN_SET, id)
  if p.state == 'DRAFT' then
    snapshot(p)
    redis.call('HSET', poll_key(id), 'state', 'OPEN', 'open_time', now)
    p.state, p.open_time = 'OPEN', now
    th_audit(P, actor, role, 'poll.open', 'pollIds', {id}, '', now)
    change('poll.opened', p)
  else
    local reopens = redis.call('HINCRBY', poll_key(id), 'reopens', 1)
    redis.call('HSET', poll_key(id), 'state', 'OPEN', 'close_time', '',
               'closes_at', '', 'closes_ms', '')
    p.state, p.close_time, p.closes_at, p.closes_ms, p.reopens =
        'OPEN', '', '', '', tostring(reopens)
    th_audit(P, actor, role, 'poll.reopen', 'pollIds', {id}, reason, now)
    change('poll.reopened', p)
  end
elseif action == 'close' then
  if p.state ~= 'OPEN' then return {'BAD_STATE', p.state} end
  close_poll(p, now, actor, role, '')
elseif action == 'publish' then
  if p.state ~= 'CLOSED' then return {'BAD_STATE', p.state} end
  redis.call('HSET', poll_key(id), 'state', 'PUBLISHED', 'publish_time', now)
  p.state, p.publish_time = 'PUBLISHED', now
  th_audit(P, actor, role, 'poll.publish', 'pollIds', {id}, '', now)
  change('poll.published', p)
else
  th_fail('INVALID_ARGUMENT', 'unknown action ' .. action)
end
return append_view({'OK'}, p, '', false)
