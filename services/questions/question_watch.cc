#include "services/questions/question_watch.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/common/auth/authorization.h"
#include "services/common/logging.h"
#include "services/common/proto_json.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/questions/question_logic.h"
#include "services/questions/question_store.h"
#include "services/questions/question_view.h"

namespace townhall::questions {
namespace {

constexpr char kVotesKind[] = "question.votes";

FeedEntry Entry(int64_t version, std::shared_ptr<v1::QueueChange> full,
                std::shared_ptr<v1::QueueChange> restricted, std::string owner,
                std::string scope,
                std::shared_ptr<v1::QueueChange> owned = nullptr) {
  FeedEntry entry;
  entry.version = version;
  entry.coalescable = full->kind() == kVotesKind;
  entry.full = std::move(full);
  entry.restricted = std::move(restricted);
  entry.owner = std::move(owner);
  entry.owned = std::move(owned);
  entry.scope = std::move(scope);
  return entry;
}

// The feed entry's data is a QueueChange without version and kind.
FeedEntry DecodeQueueChange(const Change& change) {
  std::shared_ptr<v1::QueueChange> full =
      DecodeFeedChange<v1::QueueChange>(change, "question change");
  if (full->questions().empty()) {
    // Votes and settings (they carry no counts): everyone's; votes belong
    // to their item.
    std::string scope =
        full->votes().empty() ? "" : full->votes(0).agenda_item_id();
    return Entry(change.version, full, full, "", std::move(scope));
  }
  // Owner: the author of a change about one question (they see its every
  // status). Scope: the agenda item all its questions share.
  std::string owner = full->questions_size() == 1
                          ? full->questions(0).author_participant_id()
                          : "";
  std::string scope = full->questions(0).agenda_item_id();
  for (v1::Question& question : *full->mutable_questions()) {
    if (question.agenda_item_id() != scope) scope.clear();
    if (question.anonymous()) {
      question.clear_author_participant_id();
      question.clear_author_organization_id();
    }
  }
  // The session's counts are for moderators: not even the author gets them.
  auto owned = std::make_shared<v1::QueueChange>(*full);
  owned->clear_counts();
  auto restricted = std::make_shared<v1::QueueChange>(*owned);
  restricted->clear_questions();
  const QuestionViewer everyone;
  for (const v1::Question& question : full->questions()) {
    if (!IsPublic(question.status())) continue;
    v1::Question* shown = restricted->add_questions();
    *shown = question;
    Redact(everyone, shown);
  }
  if (restricted->questions().empty()) restricted = nullptr;
  return Entry(change.version, std::move(full), std::move(restricted),
               std::move(owner), std::move(scope), std::move(owned));
}

// Newest count per question; older ones first in their original order.
FeedEntry MergeVotes(const FeedEntry& older, const FeedEntry& newer) {
  const auto& a = static_cast<const v1::QueueChange&>(*older.full);
  const auto& b = static_cast<const v1::QueueChange&>(*newer.full);
  auto merged = std::make_shared<v1::QueueChange>(b);
  merged->clear_votes();
  absl::flat_hash_map<std::string, int> at;
  for (const auto* votes : {&a.votes(), &b.votes()}) {
    for (const v1::VoteCount& count : *votes) {
      auto [it, inserted] =
          at.try_emplace(count.question_id(), merged->votes_size());
      if (inserted) {
        *merged->add_votes() = count;
      } else {
        *merged->mutable_votes(it->second) = count;
      }
    }
  }
  // FeedWatch merges only entries of one scope.
  return Entry(newer.version, merged, merged, "", newer.scope);
}

}  // namespace

FeedCodec QueueFeedCodec() { return {DecodeQueueChange, MergeVotes}; }

FeedWatchSpec<v1::WatchQueueRequest, v1::WatchQueueResponse> QueueWatchSpec() {
  using Response = v1::WatchQueueResponse;
  FeedWatchSpec<v1::WatchQueueRequest, Response> spec;
  spec.method = TH_METHOD(QuestionService, WatchQueue);
  spec.service = "questions";
  spec.feed_keys = QueueFeedKeys;
  spec.codec = QueueFeedCodec();
  spec.view =
      [](const Principal& caller,
         const v1::WatchQueueRequest& request) -> absl::StatusOr<WatchView> {
    if (!request.agenda_item_id().empty()) {
      TH_RETURN_IF_ERROR(
          ValidateId("agenda_item_id", request.agenda_item_id()));
    }
    WatchView view;
    view.privileged = IsPrivileged(caller);
    if (caller.is_session_scoped()) view.participant_id = caller.participant_id;
    view.scope = request.agenda_item_id();
    return view;
  };
  spec.snapshot = [](RedisConnection& redis, const Principal& caller,
                     const v1::Session& session,
                     const WatchView& view) -> absl::StatusOr<Response> {
    QuestionViewer viewer;
    viewer.privileged = view.privileged;
    viewer.participant_id = view.participant_id;
    TH_ASSIGN_OR_RETURN(v1::QueueSnapshot snapshot,
                        ReadQueueSnapshot(redis, caller.tenant_id, session.id(),
                                          viewer, view.scope));
    Response response;
    *response.mutable_snapshot() = std::move(snapshot);
    return response;
  };
  return spec;
}

}  // namespace townhall::questions
