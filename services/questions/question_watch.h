// WatchQueue over FeedWatch (services/common/server/feed_watch.h): how a
// question feed entry becomes what each watcher sees.
//   - Every change is decoded once per process. Anonymous authors are
//     removed from every message (the author is kept as the entry's owner).
//   - Privileged watchers (organizers, moderators) get every change; the
//     others get only public questions (APPROVED, PINNED, ANSWERED) without
//     reject reasons or original texts, and the author gets the change of
//     their own question whatever its status.
//   - "question.votes" entries are coalescable: a run of them becomes one
//     message with the newest count of each question.
#pragma once

#include "services/common/server/feed_watch.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::questions {

using QueueWatch = FeedWatch<v1::WatchQueueRequest, v1::WatchQueueResponse>;

// The codec of the question feed (exposed for tests).
FeedCodec QueueFeedCodec();

// The WatchQueue spec: views, snapshot and codec.
FeedWatchSpec<v1::WatchQueueRequest, v1::WatchQueueResponse> QueueWatchSpec();

}  // namespace townhall::questions
