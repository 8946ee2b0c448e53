// WatchPolls over FeedWatch (services/common/server/feed_watch.h).
//   - The poll feed holds only a change's kind and poll id (lua/polls.lua:
//     a tally per ballot in the feed would link voters to choices). Every
//     entry is a `refresh` entry: the process's feed hub reads the poll
//     once when it delivers the change (FeedCodec::refresh), and every
//     watcher shares that read.
//   - Privileged watchers (organizers, session runners) get the poll with
//     its live results; everyone else the poll as ResultsVisible lets them
//     see it (poll_rules.h; `voted` is not known here, so AFTER_VOTING
//     results reach a stream at close).
//   - "poll.ballot" entries are coalescable: the ballots of one poll within
//     a coalescing window are one message, read when it is delivered, also
//     while other polls get ballots too (FeedCodec::merge_across_scopes).
//     A change's scope is its poll, so a watcher of one poll
//     (WatchPollsRequest.poll_id) skips the others.
#pragma once

#include "services/common/server/feed_watch.h"
#include "townhall/v1/polls.pb.h"

namespace townhall::polls {

using PollsWatch = FeedWatch<v1::WatchPollsRequest, v1::WatchPollsResponse>;

// How long a run of ballots is held for one WatchPolls message.
inline constexpr absl::Duration kBallotCoalesceWindow = absl::Milliseconds(250);

// The codec of the poll feed (exposed for tests).
FeedCodec PollFeedCodec();

// The WatchPolls spec: views, snapshot and codec.
FeedWatchSpec<v1::WatchPollsRequest, v1::WatchPollsResponse> PollsWatchSpec();

}  // namespace townhall::polls
