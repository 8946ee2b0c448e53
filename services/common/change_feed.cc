#include "services/common/change_feed.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace townhall {
namespace {

absl::StatusOr<Change> ParseEntry(const RedisReply& entry) {
  if (!entry.is_array() || entry.elements.size() != 2) {
    return absl::InternalError("malformed feed entry");
  }
  Change change;
  const std::string& id = entry.elements[0].str;
  if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &change.version)) {
    return absl::InternalError(absl::StrCat("malformed feed id ", id));
  }
  const auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    const std::string& value = fields[i + 1].str;
    if (name == "kind") change.kind = value;
    else if (name == "id") change.entity_id = value;
    else if (name == "data") change.data = value;
  }
  return change;
}

}  // namespace

FeedKeys FeedKeys::ForScope(const std::string& scope_prefix) {
  return FeedKeys{absl::StrCat(scope_prefix, ":version"),
                  absl::StrCat(scope_prefix, ":events")};
}

absl::StatusOr<int64_t> ReadFeedVersion(RedisConnection& redis,
                                        const FeedKeys& keys) {
  absl::StatusOr<RedisReply> reply = redis.Command({"GET", keys.version});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return 0;
  return reply->AsInteger();
}

absl::StatusOr<std::vector<Change>> ReadChangesSince(RedisConnection& redis,
                                                     const FeedKeys& keys,
                                                     int64_t after_version,
                                                     int limit) {
  // One round trip: the oldest retained entry and the entries we want.
  std::vector<std::vector<std::string>> commands = {
      {"XRANGE", keys.events, "-", "+", "COUNT", "1"},
      {"XRANGE", keys.events, absl::StrCat("(", after_version, "-0"), "+",
       "COUNT", absl::StrCat(limit)},
  };
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  const RedisReply& oldest = (*replies)[0];
  if (oldest.is_array() && !oldest.elements.empty()) {
    absl::StatusOr<Change> first = ParseEntry(oldest.elements[0]);
    if (!first.ok()) return first.status();
    if (first->version > after_version + 1) {
      return absl::OutOfRangeError(absl::StrCat(
          "changes after version ", after_version,
          " were trimmed; take a fresh snapshot"));
    }
  }
  std::vector<Change> changes;
  for (const RedisReply& entry : (*replies)[1].elements) {
    absl::StatusOr<Change> change = ParseEntry(entry);
    if (!change.ok()) return change.status();
    changes.push_back(*std::move(change));
  }
  return changes;
}

}  // namespace townhall
