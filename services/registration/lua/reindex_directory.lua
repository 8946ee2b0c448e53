-- Adds the match keys of one version for a batch of stored organizations
-- and participants (DirectoryStore::Reindex), after a change of the
-- normalization (kMatchKeyVersion). Only adds fields (HSETNX, and ids to
-- orgs:names once), so concurrent reindexers and repeats are harmless;
-- fields of older versions stay and are never read again. The last batch
-- sets directory:match_version, after which the create scripts accept keys
-- of this version; until then they refuse (REINDEX), so no record lands
-- between the reindexer's reading of the records and this write.
-- KEYS: tenant prefix, orgs:match, orgs:names, participants:match,
-- directory:match_version (DirectoryKeys).
-- ARGV: version to set ('' for a batch that is not the last), then records:
--   'o', id, country code, key count, keys...   (an organization)
--   'p', id, field count, fields...             (a participant's name fields)
-- Returns {'OK', version or ''}.
local set_version = ARGV[1]
local match, names, participant_match, match_version =
  KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local i = 2
while i <= #ARGV do
  local kind, id = ARGV[i], ARGV[i + 1]
  if kind == 'o' then
    local country, count = ARGV[i + 2], tonumber(ARGV[i + 3])
    for k = i + 4, i + 3 + count do
      redis.call('HSETNX', match, country .. ':' .. ARGV[k], id)
      add_name(names, ARGV[k], id)
    end
    i = i + 4 + count
  else
    local count = tonumber(ARGV[i + 2])
    for k = i + 3, i + 2 + count do
      redis.call('HSETNX', participant_match, ARGV[k], id)
    end
    i = i + 3 + count
  end
end
if set_version ~= '' then redis.call('SET', match_version, set_version) end
return {'OK', set_version}
