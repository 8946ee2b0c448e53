#!lua flags=no-writes
-- Reads, for each given occurrence, which organizations have registered
-- members and which had a member attend.
-- KEYS[1] tenant prefix.
-- ARGV: occurrence session ids.
-- Returns {'OK', then per occurrence: n registered orgs, orgs..., m
-- attending orgs, orgs...} (each org once per list).
local out = {'OK'}
for _, s in ipairs(ARGV) do
  local registered, attended = {}, {}
  for _, p in ipairs(redis.call('ZRANGE', regs_key(s), 0, -1)) do
    local f = redis.call('HMGET', reg_key(s, p), 'status', 'org')
    if f[2] and f[2] ~= '' and tonumber(f[1]) ~= CANCELLED then
      registered[f[2]] = true
    end
  end
  for _, p in ipairs(redis.call('ZRANGE', atts_key(s), 0, -1)) do
    local org = redis.call('HGET', reg_key(s, p), 'org')
    if org and org ~= '' then attended[org] = true end
  end
  for _, set in ipairs({registered, attended}) do
    local orgs = {}
    for org in pairs(set) do table.insert(orgs, org) end
    table.sort(orgs)
    table.insert(out, #orgs)
    append_all(out, orgs)
  end
end
return out
