// DirectoryStore: the Redis keys of a tenant's organizations and
// participants, and the reads and scripts over them. One store per call (it
// wraps the worker's connection and the caller's tenant). Key schema:
//
//   th:{t:<tenant>}:org:<id>               STRING Organization bytes
//   th:{t:<tenant>}:orgs                   ZSET   organization ids, score 0
//                                                 (ordered by id)
//   th:{t:<tenant>}:orgs:country:<CC>      ZSET   ids of one country, score 0
//   th:{t:<tenant>}:orgs:match             HASH   "<CC>:<match key>" -> id:
//                                                 the duplicate rule
//   th:{t:<tenant>}:orgs:names             HASH   "<match key>" -> ids
//                                                 (space-separated): import
//                                                 finds organizations by name
//   th:{t:<tenant>}:directory:match_version
//                                          STRING the version of the match
//                                                 keys in the three hashes
//                                                 (kMatchKeyVersion)
//   th:{t:<tenant>}:participant:<id>       STRING Participant bytes
//   th:{t:<tenant>}:participants           ZSET   participant ids, score 0
//   th:{t:<tenant>}:org:<id>:participants  ZSET   member ids, score 0
//   th:{t:<tenant>}:participants:match     HASH   "email:<email>" -> id, and
//                                                 "name:<org id>:<match key>"
//                                                 -> first id with that name
//   th:{t:<tenant>}:idem:...               STRING created id, 24 h TTL (the
//                                                 suffix: IdempotencyKey)
//   th:{t:<tenant>}:version, :events       the tenant's change feed
//                                          (organization.created,
//                                          participant.created)
//
// A match key is a name folded by MatchKeys (directory_validation.h):
// "t:<latin>" so that "Oʻzbekiston", "O'zbekiston" and "Ўзбекистон" are one
// key, and "s:<skeleton>" so that "Кazakh" with a Cyrillic К and "Kazakh"
// are. The hashes are written by the same script as the record
// (lua/create_*.lua), so they never disagree.
//
// Stored keys and a new normalization: keys of version 1 (before ICU and
// skeletons) had no "t:"/"s:" prefix, so old and new fields never collide.
// When kMatchKeyVersion differs from the tenant's directory:match_version,
// the create scripts answer REINDEX; Reindex() then adds the new keys of
// every stored record and sets the version (once per tenant and version),
// and the create is retried. Old fields stay, unread.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/registration/directory_validation.h"
#include "townhall/v1/registration.pb.h"

namespace townhall::registration {

// The directory's keys of one tenant (the schema above): the one place
// they are built. Scripts get the ones they touch in KEYS, the directory's
// own (lua/create_*.lua) and other aggregates' (register.lua and
// invite_organization.lua read a record).
class DirectoryKeys {
 public:
  explicit DirectoryKeys(absl::string_view tenant_id);

  // th:{t:<tenant>}:, KEYS[1] of every directory script.
  const std::string& prefix() const { return prefix_; }
  std::string Organization(absl::string_view id) const;
  std::string Organizations() const;
  std::string OrganizationsOfCountry(absl::string_view country_code) const;
  std::string OrganizationMatch() const;
  std::string OrganizationNames() const;
  // org:<id>:participants.
  std::string Members(absl::string_view organization_id) const;
  std::string Participant(absl::string_view id) const;
  std::string Participants() const;
  std::string ParticipantMatch() const;
  std::string MatchVersion() const;

 private:
  std::string prefix_;
};

// One page of ids, in id order.
struct IdPage {
  std::vector<std::string> ids;
  // Token of the next page ("" at the end).
  std::string next_page_token;
};

// Organization names by id.
using OrganizationNames = absl::flat_hash_map<std::string, std::string>;

// What import lookups found, in the order asked; "" where nothing matched.
struct OrganizationLookup {
  // By OrganizationMatchField: the organization id.
  std::vector<std::string> by_match_field;
  // By match key alone (any country): the ids.
  std::vector<std::vector<std::string>> by_name;
};

class DirectoryStore {
 public:
  DirectoryStore(RedisConnection& redis, absl::string_view tenant_id);

  // NOT_FOUND when absent in this tenant.
  absl::StatusOr<v1::Organization> GetOrganization(absl::string_view id);
  absl::StatusOr<v1::Participant> GetParticipant(absl::string_view id);
  // One round trip; missing ids are skipped.
  absl::StatusOr<std::vector<v1::Organization>> GetOrganizations(
      const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<v1::Participant>> GetParticipants(
      const std::vector<std::string>& ids);
  // The organizations' names (`name`) by id, in one round trip; ids that
  // are empty or not in the directory have no entry.
  absl::StatusOr<OrganizationNames> GetOrganizationNames(
      const std::vector<std::string>& ids);

  // Organization ids after `page_token`, of one country when `country_code`
  // is set; at most `limit`.
  absl::StatusOr<IdPage> ListOrganizationIds(absl::string_view country_code,
                                             absl::string_view page_token,
                                             int limit);
  // Participant ids after `page_token`, of one organization when
  // `organization_id` is set (NOT_FOUND when it does not exist).
  absl::StatusOr<IdPage> ListParticipantIds(absl::string_view organization_id,
                                            absl::string_view page_token,
                                            int limit);

  // Makes sure the tenant's match indexes hold keys of kMatchKeyVersion:
  // reads the version and, if it differs, runs Reindex. Imports call it
  // before their lookups.
  absl::Status EnsureIndexed();
  // Adds the current version's match keys of every stored organization and
  // participant to the indexes, in batches, then sets the version (see the
  // key schema above). Safe to run concurrently and repeatedly.
  absl::Status Reindex();

  // Both lookups in one round trip.
  absl::StatusOr<OrganizationLookup> LookupOrganizations(
      const std::vector<std::string>& match_fields,
      const std::vector<std::string>& match_keys);
  // Participant ids by ParticipantMatchFields field ("" where none).
  absl::StatusOr<std::vector<std::string>> LookupParticipants(
      const std::vector<std::string>& match_fields);

  // Runs create_organization.lua / create_participant.lua with the keys
  // they write in KEYS. `idempotency_key` is "" or the key suffix
  // remembered for request retries. A REINDEX outcome is handled here
  // (Reindex, then the script once more), so callers never see it.
  absl::StatusOr<ScriptOutcome> CreateOrganization(
      absl::string_view idempotency_key, const v1::Organization& org);
  absl::StatusOr<ScriptOutcome> CreateParticipant(
      absl::string_view idempotency_key, const v1::Participant& participant);

  // Creates many, each atomic on its own, pipelined in batches (imports).
  // One result per record: an outcome, or the script's failure (such as
  // NOT_FOUND). Fails as a whole only when Redis does (UNAVAILABLE,
  // DEADLINE_EXCEEDED, INTERNAL); records before the failure may be stored.
  absl::StatusOr<std::vector<absl::StatusOr<ScriptOutcome>>>
  CreateOrganizations(const std::vector<v1::Organization>& orgs);
  absl::StatusOr<std::vector<absl::StatusOr<ScriptOutcome>>> CreateParticipants(
      const std::vector<v1::Participant>& participants);

 private:
  // One script call: its KEYS and ARGV.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  ScriptCall OrganizationCall(absl::string_view idempotency_key,
                              const v1::Organization& org) const;
  ScriptCall ParticipantCall(absl::string_view idempotency_key,
                             const v1::Participant& participant) const;

  absl::StatusOr<IdPage> PageOfIndex(const std::string& index,
                                     absl::string_view page_token, int limit,
                                     const std::string& must_exist);
  // Eval of `call` with one Reindex and retry on a REINDEX outcome.
  absl::StatusOr<ScriptOutcome> EvalCreate(const LuaScript& script,
                                           const ScriptCall& call);
  absl::StatusOr<std::vector<absl::StatusOr<ScriptOutcome>>> RunScripts(
      const LuaScript& script, const std::vector<ScriptCall>& calls);

  RedisConnection& redis_;
  DirectoryKeys keys_;
};

}  // namespace townhall::registration
