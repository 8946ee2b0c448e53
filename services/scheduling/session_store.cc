#include "services/scheduling/session_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/proto_time.h"
#include "services/common/server/session_cache.h"
#include "services/common/status.h"

namespace townhall::scheduling {
namespace {

using townhall::v1::Series;
using townhall::v1::Session;
using townhall::v1::Venue;

// HMGET field order for sessions; DecodeSession relies on it.
const std::vector<std::string>& SessionFields() {
  static const auto* kFields = new std::vector<std::string>{
      "data", "state", "version", "updated", "start", "end", "cancel_reason"};
  return *kFields;
}

std::vector<std::string> SessionHmget(const std::string& key) {
  std::vector<std::string> argv = {"HMGET", key};
  argv.insert(argv.end(), SessionFields().begin(), SessionFields().end());
  return argv;
}

int64_t FieldInt(const RedisReply& r) {
  int64_t v = 0;
  if (r.type == RedisReply::Type::kString) (void)absl::SimpleAtoi(r.str, &v);
  return v;
}

// Cursors are opaque to clients: base64url of "<score>:<member>".
std::string EncodeCursor(int64_t score, absl::string_view member) {
  return absl::WebSafeBase64Escape(absl::StrCat(score, ":", member));
}

bool DecodeCursor(absl::string_view cursor, int64_t* score,
                  std::string* member) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(cursor, &raw)) return false;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(raw, absl::MaxSplits(':', 1));
  *member = parts.second;
  return absl::SimpleAtoi(parts.first, score) && !member->empty();
}

}  // namespace

std::vector<std::string> SessionReadCommand(absl::string_view tenant_id,
                                            absl::string_view session_id) {
  return SessionHmget(
      absl::StrCat(TenantPrefix(tenant_id), "session:", session_id));
}

void SetScriptOwnedFields(townhall::v1::SessionState state, int64_t version,
                          int64_t updated_micros, Session* session) {
  session->set_state(state);
  session->set_etag(absl::StrCat(version));
  session->set_sequence(version - 1);
  SetTimestamp(updated_micros, session->mutable_update_time());
}

absl::StatusOr<Session> DecodeSession(const RedisReply& fields,
                                      absl::string_view id) {
  if (!fields.is_array() || fields.elements.size() != SessionFields().size() ||
      fields.elements[0].is_nil()) {
    return absl::NotFoundError(absl::StrCat("session ", id, " not found"));
  }
  const auto& f = fields.elements;
  Session session;
  if (!session.ParseFromString(f[0].str)) {
    return absl::InternalError(absl::StrCat("corrupt session record ", id));
  }
  // Fields that scripts change live beside the record; they win.
  SetScriptOwnedFields(static_cast<townhall::v1::SessionState>(FieldInt(f[1])),
                       FieldInt(f[2]), FieldInt(f[3]), &session);
  int64_t start = FieldInt(f[4]);
  session.mutable_start_time()->set_seconds(start);
  session.mutable_start_time()->set_nanos(0);
  session.mutable_duration()->set_seconds(FieldInt(f[5]) - start);
  session.mutable_duration()->set_nanos(0);
  if (f[6].type == RedisReply::Type::kString) {
    session.set_cancel_reason(f[6].str);
  }
  return session;
}

SessionStore::SessionStore(RedisConnection& redis, absl::string_view tenant_id)
    : redis_(redis), tenant_id_(tenant_id), prefix_(TenantPrefix(tenant_id)) {}

absl::StatusOr<Session> SessionStore::GetSession(absl::string_view id) {
  TH_ASSIGN_OR_RETURN(RedisReply reply,
                      redis_.Command(SessionReadCommand(tenant_id_, id)));
  return DecodeSession(reply, id);
}

absl::StatusOr<std::vector<Session>> SessionStore::GetSessions(
    const std::vector<std::string>& ids) {
  std::vector<Session> sessions;
  if (ids.empty()) return sessions;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(ids.size());
  for (const std::string& id : ids) {
    commands.push_back(SessionHmget(absl::StrCat(prefix_, "session:", id)));
  }
  TH_ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                      redis_.Pipeline(commands));
  sessions.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<Session> session = DecodeSession(replies[i], ids[i]);
    if (session.ok()) {
      sessions.push_back(*std::move(session));
    } else if (session.status().code() != absl::StatusCode::kNotFound) {
      return session.status();
    }
  }
  return sessions;
}

absl::StatusOr<IdPage> SessionStore::PageByScore(const std::string& key,
                                                 absl::string_view cursor,
                                                 int64_t from, int64_t to,
                                                 int limit) {
  int64_t after_score = from;
  std::string after_member;
  if (!cursor.empty() && !DecodeCursor(cursor, &after_score, &after_member)) {
    return absl::InvalidArgumentError(
        "page_token: is not a token from this list");
  }
  // Entries are ordered by (score, member). Fetch from the cursor's score
  // and skip entries up to the cursor itself; ties on one score are rare
  // (equal start times), so few are skipped.
  std::vector<std::pair<int64_t, std::string>> taken;
  const int batch = limit + 1;
  for (int offset = 0; static_cast<int>(taken.size()) <= limit;
       offset += batch) {
    TH_ASSIGN_OR_RETURN(
        RedisReply reply,
        redis_.Command({"ZRANGE", key, absl::StrCat(after_score),
                        absl::StrCat("(", to), "BYSCORE", "LIMIT",
                        absl::StrCat(offset), absl::StrCat(batch),
                        "WITHSCORES"}));
    const auto& e = reply.elements;
    for (size_t i = 0;
         i + 1 < e.size() && static_cast<int>(taken.size()) <= limit; i += 2) {
      int64_t score = 0;
      (void)absl::SimpleAtoi(e[i + 1].str, &score);
      bool at_or_before_cursor = !after_member.empty() &&
                                 score == after_score &&
                                 e[i].str <= after_member;
      if (!at_or_before_cursor) taken.emplace_back(score, e[i].str);
    }
    if (static_cast<int>(e.size() / 2) < batch) break;  // index exhausted
  }
  IdPage page;
  if (static_cast<int>(taken.size()) > limit) {
    taken.resize(limit);
    page.next_cursor = EncodeCursor(taken.back().first, taken.back().second);
  }
  for (auto& [score, id] : taken) page.ids.push_back(std::move(id));
  return page;
}

absl::StatusOr<IdPage> SessionStore::ListSessionIds(int64_t from, int64_t to,
                                                    absl::string_view cursor,
                                                    int limit) {
  return PageByScore(absl::StrCat(prefix_, "sessions"), cursor, from, to,
                     limit);
}

absl::StatusOr<IdPage> SessionStore::ListSeriesSessionIds(
    absl::string_view series_id, absl::string_view cursor, int limit) {
  return PageByScore(absl::StrCat(prefix_, "series:", series_id, ":sessions"),
                     cursor, std::numeric_limits<int64_t>::min() / 2,
                     std::numeric_limits<int64_t>::max() / 2, limit);
}

absl::StatusOr<Venue> SessionStore::GetVenue(absl::string_view id) {
  TH_ASSIGN_OR_RETURN(std::vector<Venue> venues, GetVenues({std::string(id)}));
  if (venues.empty())
    return absl::NotFoundError(absl::StrCat("venue ", id, " not found"));
  return venues[0];
}

absl::StatusOr<std::vector<Venue>> SessionStore::GetVenues(
    const std::vector<std::string>& ids) {
  std::vector<Venue> venues;
  if (ids.empty()) return venues;
  std::vector<std::string> argv = {"MGET"};
  for (const std::string& id : ids)
    argv.push_back(absl::StrCat(prefix_, "venue:", id));
  TH_ASSIGN_OR_RETURN(RedisReply reply, redis_.Command(argv));
  for (const RedisReply& r : reply.elements) {
    if (r.is_nil()) continue;
    Venue venue;
    if (!venue.ParseFromString(r.str))
      return absl::InternalError("corrupt venue record");
    venues.push_back(std::move(venue));
  }
  return venues;
}

absl::StatusOr<IdPage> SessionStore::ListVenueIds(absl::string_view cursor,
                                                  int limit) {
  return PageByScore(absl::StrCat(prefix_, "venues"), cursor, 0, 1, limit);
}

absl::StatusOr<Series> SessionStore::GetSeries(absl::string_view id) {
  std::string key = absl::StrCat(prefix_, "series:", id);
  TH_ASSIGN_OR_RETURN(
      std::vector<RedisReply> replies,
      redis_.Pipeline({{"HMGET", key, "data", "version", "updated"},
                       {"ZRANGE", key + ":exdates", "0", "-1"},
                       {"ZRANGE", key + ":rdates", "0", "-1"},
                       {"ZRANGE", key + ":sessions", "0", "-1"}}));
  const auto& f = replies[0].elements;
  if (f.size() != 3 || f[0].is_nil()) {
    return absl::NotFoundError(absl::StrCat("series ", id, " not found"));
  }
  Series series;
  if (!series.ParseFromString(f[0].str)) {
    return absl::InternalError(absl::StrCat("corrupt series record ", id));
  }
  int64_t version = FieldInt(f[1]);
  series.set_etag(absl::StrCat(version));
  series.set_sequence(version - 1);
  SetTimestamp(FieldInt(f[2]), series.mutable_update_time());
  for (const RedisReply& r : replies[1].elements) {
    series.add_exception_dates()->set_seconds(FieldInt(r));
  }
  for (const RedisReply& r : replies[2].elements) {
    series.add_extra_dates()->set_seconds(FieldInt(r));
  }
  for (const RedisReply& r : replies[3].elements) series.add_session_ids(r.str);
  return series;
}

absl::StatusOr<ScriptOutcome> SessionStore::RunScript(
    const LuaScript& script, const std::vector<std::string>& args) {
  absl::StatusOr<ScriptOutcome> outcome =
      townhall::RunScript(redis_, script, {prefix_}, args);
  // Every script may have changed sessions (a failed or timed-out one too):
  // this process's session caches forget the tenant's before the caller
  // hears back, so that it reads its own write (session_cache.h).
  SessionCache::InvalidateTenantInProcess(tenant_id_);
  return outcome;
}

}  // namespace townhall::scheduling
