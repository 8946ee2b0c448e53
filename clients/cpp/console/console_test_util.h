// Builders of WatchQueue / WatchAgenda / WatchPolls messages for the
// console's tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::console::testing {

inline v1::Question MakeQuestion(const std::string& id,
                                 v1::QuestionStatus status, int64_t votes = 0,
                                 int64_t created = 1000,
                                 const std::string& text = "") {
  v1::Question q;
  q.set_id(id);
  q.set_session_id("s1");
  q.set_text(text.empty() ? "Question " + id : text);
  q.set_status(status);
  q.set_votes(votes);
  q.mutable_create_time()->set_seconds(created);
  return q;
}

inline v1::WatchQueueResponse QueueSnapshot(
    int64_t version, const std::vector<v1::Question>& questions) {
  v1::WatchQueueResponse m;
  m.mutable_snapshot()->set_session_id("s1");
  m.mutable_snapshot()->set_version(version);
  for (const v1::Question& q : questions) {
    *m.mutable_snapshot()->add_questions() = q;
  }
  return m;
}

inline v1::WatchQueueResponse QueueChange(
    int64_t version, const std::string& kind,
    const std::vector<v1::Question>& questions) {
  v1::WatchQueueResponse m;
  m.mutable_change()->set_version(version);
  m.mutable_change()->set_kind(kind);
  for (const v1::Question& q : questions) {
    *m.mutable_change()->add_questions() = q;
  }
  return m;
}

inline v1::WatchQueueResponse VoteChange(
    int64_t version,
    const std::vector<std::pair<std::string, int64_t>>& counts) {
  v1::WatchQueueResponse m;
  m.mutable_change()->set_version(version);
  m.mutable_change()->set_kind("question.votes");
  for (const auto& [id, votes] : counts) {
    v1::VoteCount* count = m.mutable_change()->add_votes();
    count->set_question_id(id);
    count->set_votes(votes);
  }
  return m;
}

inline v1::AgendaItem MakeItem(const std::string& id,
                               v1::AgendaItemStatus status, int position,
                               const std::string& title = "") {
  v1::AgendaItem item;
  item.set_id(id);
  item.set_session_id("s1");
  item.set_title(title.empty() ? "Item " + id : title);
  item.set_status(status);
  item.set_position(position);
  return item;
}

inline v1::Speaker MakeSpeaker(const std::string& participant,
                               v1::SpeakerState state) {
  v1::Speaker speaker;
  speaker.set_participant_id(participant);
  speaker.set_organization_id("org-" + participant);
  speaker.set_state(state);
  return speaker;
}

// A speaker held back by the per-organization limit (as the server shows
// one).
inline v1::Speaker HeldSpeaker(const std::string& participant) {
  v1::Speaker speaker = MakeSpeaker(participant, v1::SPEAKER_STATE_HELD);
  speaker.set_hold_reason(v1::SPEAKER_HOLD_REASON_ORGANIZATION_LIMIT);
  speaker.set_hold_detail("organization org-" + participant +
                          " is at its limit of 1 speaker on this item, "
                          "counting those called before");
  return speaker;
}

inline v1::WatchAgendaResponse AgendaSnapshot(
    int64_t version, const std::vector<v1::AgendaItem>& items,
    const std::string& active = "",
    const std::vector<v1::Speaker>& speakers = {}) {
  v1::WatchAgendaResponse m;
  v1::AgendaSnapshot* s = m.mutable_snapshot();
  s->set_session_id("s1");
  s->set_version(version);
  for (const v1::AgendaItem& item : items) *s->add_items() = item;
  s->set_active_item_id(active);
  if (!active.empty()) {
    s->mutable_speakers_queue()->set_agenda_item_id(active);
    for (const v1::Speaker& speaker : speakers) {
      *s->mutable_speakers_queue()->add_speakers() = speaker;
    }
  }
  return m;
}

inline v1::WatchAgendaResponse ItemChange(int64_t version,
                                          const std::string& kind,
                                          const v1::AgendaItem& item) {
  v1::WatchAgendaResponse m;
  m.mutable_change()->set_version(version);
  m.mutable_change()->set_kind(kind);
  *m.mutable_change()->mutable_item() = item;
  return m;
}

inline v1::WatchAgendaResponse SpeakersChange(
    int64_t version, const std::string& item,
    const std::vector<v1::Speaker>& speakers) {
  v1::WatchAgendaResponse m;
  m.mutable_change()->set_version(version);
  m.mutable_change()->set_kind("agenda.speakers.changed");
  v1::SpeakersQueue* queue = m.mutable_change()->mutable_speakers_queue();
  queue->set_session_id("s1");
  queue->set_agenda_item_id(item);
  for (const v1::Speaker& speaker : speakers) *queue->add_speakers() = speaker;
  return m;
}

// A poll with options "1", "2", ... of `options` (none for rating scales
// and word clouds).
inline v1::Poll MakePoll(const std::string& id, v1::PollKind kind,
                         v1::PollState state, const std::string& question,
                         const std::vector<std::string>& options = {}) {
  v1::Poll poll;
  poll.set_id(id);
  poll.set_session_id("s1");
  poll.set_kind(kind);
  poll.set_state(state);
  poll.set_question(question);
  for (size_t i = 0; i < options.size(); ++i) {
    v1::PollOption* option = poll.add_options();
    option->set_id(std::to_string(i + 1));
    option->set_text(options[i]);
  }
  return poll;
}

// Sets the ballot count and the tallies of options "1", "2", ... in order.
inline void SetTallies(v1::Poll& poll, const std::vector<int64_t>& votes) {
  int64_t ballots = 0;
  v1::PollResults* results = poll.mutable_results();
  results->clear_tallies();
  for (size_t i = 0; i < votes.size(); ++i) {
    v1::OptionTally* tally = results->add_tallies();
    tally->set_option_id(poll.options_size() > static_cast<int>(i)
                             ? poll.options(i).id()
                             : std::to_string(i + 1));
    tally->set_votes(votes[i]);
    ballots += votes[i];
  }
  poll.set_ballot_count(ballots);
  results->set_ballot_count(ballots);
  results->set_ballot_weight(ballots);
}

inline v1::WatchPollsResponse PollsSnapshot(
    int64_t version, const std::vector<v1::Poll>& polls) {
  v1::WatchPollsResponse m;
  m.mutable_snapshot()->set_version(version);
  for (const v1::Poll& poll : polls) *m.mutable_snapshot()->add_polls() = poll;
  return m;
}

inline v1::WatchPollsResponse PollChange(int64_t version,
                                         const std::string& kind,
                                         const v1::Poll& poll) {
  v1::WatchPollsResponse m;
  m.mutable_change()->set_version(version);
  m.mutable_change()->set_kind(kind);
  *m.mutable_change()->mutable_poll() = poll;
  return m;
}

}  // namespace townhall::console::testing
