#include "services/common/change_feed.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace townhall {

absl::StatusOr<Change> ParseFeedEntry(const RedisReply& entry) {
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
    if (name == "kind")
      change.kind = value;
    else if (name == "id")
      change.entity_id = value;
    else if (name == "data")
      change.data = value;
  }
  return change;
}

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
  // One round trip: the current version, the oldest retained entry and the
  // entries we want. The version is read first: every change up to it was
  // appended before the XRANGEs run, so if the stream no longer holds the
  // change after `after_version`, it was trimmed (not yet to come).
  std::vector<std::vector<std::string>> commands = {
      {"GET", keys.version},
      {"XRANGE", keys.events, "-", "+", "COUNT", "1"},
      {"XRANGE", keys.events, absl::StrCat("(", after_version, "-0"), "+",
       "COUNT", absl::StrCat(limit)},
  };
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    if (reply.type == RedisReply::Type::kError) {
      return absl::InternalError(
          absl::StrCat("reading feed ", keys.events, ": ", reply.str));
    }
  }
  int64_t version = 0;
  if (!(*replies)[0].is_nil()) {
    absl::StatusOr<int64_t> parsed = (*replies)[0].AsInteger();
    if (!parsed.ok()) return parsed.status();
    version = *parsed;
  }
  if (after_version > version) {
    // The feed is behind the reader (it lost data, or the position is
    // bogus): the changes after the feed's version would be skipped.
    return absl::OutOfRangeError(absl::StrCat(
        "version ", after_version, " is newer than the feed's version ",
        version, "; take a fresh snapshot"));
  }
  // With nothing retained, the next change the stream could hold is
  // version + 1.
  int64_t oldest_version = version + 1;
  const RedisReply& oldest = (*replies)[1];
  if (oldest.is_array() && !oldest.elements.empty()) {
    absl::StatusOr<Change> first = ParseFeedEntry(oldest.elements[0]);
    if (!first.ok()) return first.status();
    oldest_version = first->version;
  }
  if (oldest_version > after_version + 1) {
    return absl::OutOfRangeError(
        absl::StrCat("changes after version ", after_version,
                     " were trimmed; take a fresh snapshot"));
  }
  std::vector<Change> changes;
  for (const RedisReply& entry : (*replies)[2].elements) {
    absl::StatusOr<Change> change = ParseFeedEntry(entry);
    if (!change.ok()) return change.status();
    changes.push_back(*std::move(change));
  }
  return changes;
}

}  // namespace townhall
