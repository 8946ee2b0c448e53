// Decoding the poll views the scripts return (append_view in
// lua/polls.lua): DecodePollView of poll_rules.h.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/polls/poll_rules.h"

namespace townhall::polls {
namespace {

absl::StatusOr<absl::Time> ParseTime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InternalError(
        absl::StrCat("stored time does not parse: ", text));
  }
  return t;
}

// A stored time into the field `mutable_field()` returns; '' (none) leaves
// the field unset.
template <typename MutableField>
absl::Status SetStoredTime(absl::string_view text, MutableField mutable_field) {
  if (text.empty()) return absl::OkStatus();
  TH_ASSIGN_OR_RETURN(absl::Time t, ParseTime(text));
  SetTime(t, mutable_field());
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseCount(const std::string& text) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(text, &n)) {
    return absl::InternalError(absl::StrCat("bad count in poll view: ", text));
  }
  return n;
}

// At most this many parsed definitions are kept (ParseDefinition).
constexpr size_t kMaxCachedDefinitions = 256;

// A poll's stored definition (Poll JSON) into `poll`. Definitions never
// change (there is no update RPC), and every read and ballot decodes one:
// each distinct definition is parsed once per process (JSON parsing was a
// fifth of a ballot's server CPU) and copied after. The cache is cleared
// when full.
absl::Status ParseDefinition(const std::string& def, v1::Poll* poll) {
  static absl::Mutex mu(absl::kConstInit);
  // Guarded by mu.
  static auto* const cache =
      new absl::flat_hash_map<std::string, std::shared_ptr<const v1::Poll>>();
  std::shared_ptr<const v1::Poll> parsed;
  {
    absl::MutexLock lock(&mu);
    auto it = cache->find(def);
    if (it != cache->end()) parsed = it->second;
  }
  if (parsed != nullptr) {
    *poll = *parsed;
    return absl::OkStatus();
  }
  TH_RETURN_IF_ERROR(ProtoFromJson(def, poll, "stored poll JSON"));
  auto entry = std::make_shared<const v1::Poll>(*poll);
  absl::MutexLock lock(&mu);
  if (cache->size() >= kMaxCachedDefinitions) cache->clear();
  cache->emplace(def, std::move(entry));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PollRecord> DecodePollView(
    const std::vector<std::string>& values, size_t* pos, absl::Time now) {
  size_t i = *pos;
  auto next = [&]() -> absl::StatusOr<std::string> {
    if (i >= values.size()) {
      return absl::InternalError("poll view is cut short");
    }
    return values[i++];
  };
  PollRecord record;
  v1::Poll& poll = record.poll;
  TH_ASSIGN_OR_RETURN(std::string def, next());
  TH_RETURN_IF_ERROR(ParseDefinition(def, &poll));
  TH_ASSIGN_OR_RETURN(std::string state, next());
  v1::PollState parsed_state;
  if (!v1::PollState_Parse(absl::StrCat("POLL_STATE_", state), &parsed_state)) {
    return absl::InternalError(absl::StrCat("stored poll state ", state));
  }
  poll.set_state(parsed_state);
  for (auto mutable_field : {&v1::Poll::mutable_closes_at,
                             &v1::Poll::mutable_open_time,
                             &v1::Poll::mutable_close_time,
                             &v1::Poll::mutable_publish_time}) {
    TH_ASSIGN_OR_RETURN(std::string time, next());
    TH_RETURN_IF_ERROR(
        SetStoredTime(time, [&] { return (poll.*mutable_field)(); }));
  }
  TH_ASSIGN_OR_RETURN(std::string reopens, next());
  TH_ASSIGN_OR_RETURN(int64_t reopen_count, ParseCount(reopens));
  poll.set_reopen_count(static_cast<int32_t>(reopen_count));
  TH_ASSIGN_OR_RETURN(std::string ballots, next());
  TH_ASSIGN_OR_RETURN(int64_t ballot_count, ParseCount(ballots));
  poll.set_ballot_count(ballot_count);
  TH_ASSIGN_OR_RETURN(std::string voted, next());
  poll.set_voted(voted == "1");
  Turnout turnout;
  for (int64_t* figure : {&turnout.eligible_count, &turnout.eligible_weight,
                          &turnout.present_count, &turnout.present_weight,
                          &turnout.ballot_weight}) {
    TH_ASSIGN_OR_RETURN(std::string text, next());
    TH_ASSIGN_OR_RETURN(*figure, ParseCount(text));
  }

  std::vector<std::pair<std::string, int64_t>> tally;
  TH_ASSIGN_OR_RETURN(std::string tally_size, next());
  TH_ASSIGN_OR_RETURN(int64_t tally_count, ParseCount(tally_size));
  for (int64_t n = 0; n < tally_count; ++n) {
    TH_ASSIGN_OR_RETURN(std::string field, next());
    TH_ASSIGN_OR_RETURN(std::string value, next());
    TH_ASSIGN_OR_RETURN(int64_t count, ParseCount(value));
    tally.emplace_back(std::move(field), count);
  }
  std::vector<std::pair<std::string, std::string>> words;
  TH_ASSIGN_OR_RETURN(std::string words_size, next());
  TH_ASSIGN_OR_RETURN(int64_t words_count, ParseCount(words_size));
  for (int64_t n = 0; n < words_count; ++n) {
    TH_ASSIGN_OR_RETURN(std::string key, next());
    TH_ASSIGN_OR_RETURN(std::string text, next());
    words.emplace_back(std::move(key), std::move(text));
  }
  TH_ASSIGN_OR_RETURN(std::string ballots_size, next());
  TH_ASSIGN_OR_RETURN(int64_t named_count, ParseCount(ballots_size));
  for (int64_t n = 0; n < named_count; ++n) {
    TH_ASSIGN_OR_RETURN(std::string participant, next());
    TH_ASSIGN_OR_RETURN(std::string stored, next());
    v1::NamedBallot named;
    named.set_participant_id(participant);
    struct {
      std::string ballot;
      int64_t ms = 0;
    } parsed;
    // The record is ours, {"f": [...], "b": "<Ballot JSON>", "t": ms}.
    google::protobuf::Value value;
    TH_RETURN_IF_ERROR(ProtoFromJson(stored, &value, "stored ballot"));
    const auto& fields = value.struct_value().fields();
    if (auto it = fields.find("b"); it != fields.end()) {
      parsed.ballot = it->second.string_value();
    }
    if (auto it = fields.find("t"); it != fields.end()) {
      parsed.ms = static_cast<int64_t>(it->second.number_value());
    }
    // ORGANIZATION polls key ballots by organization; "p" is who cast it.
    if (auto it = fields.find("p"); it != fields.end()) {
      named.set_organization_id(participant);
      named.set_participant_id(it->second.string_value());
    }
    TH_RETURN_IF_ERROR(
        ProtoFromJson(parsed.ballot, named.mutable_ballot(), "stored ballot"));
    SetTime(absl::FromUnixMillis(parsed.ms), named.mutable_cast_time());
    record.ballots.push_back(std::move(named));
  }
  *pos = i;

  if (poll.state() == v1::POLL_STATE_OPEN && poll.has_closes_at() &&
      ToTime(poll.closes_at()) <= now) {
    poll.set_state(v1::POLL_STATE_CLOSED);
    *poll.mutable_close_time() = poll.closes_at();
  }
  *poll.mutable_results() = CountResults(poll, tally, words, turnout);
  return record;
}

absl::Status DecodePollList(
    const std::vector<std::string>& values, absl::Time now, bool privileged,
    int64_t* head, google::protobuf::RepeatedPtrField<v1::Poll>* polls) {
  if (values.empty() || !absl::SimpleAtoi(values[0], head)) {
    return absl::InternalError("unexpected outcome of read_polls");
  }
  size_t pos = 1;
  while (pos < values.size()) {
    TH_ASSIGN_OR_RETURN(PollRecord record, DecodePollView(values, &pos, now));
    ApplyVisibility(privileged, &record.poll);
    *polls->Add() = std::move(record.poll);
  }
  return absl::OkStatus();
}

}  // namespace townhall::polls
