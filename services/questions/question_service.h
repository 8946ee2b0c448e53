// QuestionService as a townhalld module.
#pragma once

#include "services/common/server/feed_watch.h"
#include "services/common/server/service_module.h"

namespace townhall::questions {

// How long a run of vote counts is held for one WatchQueue message.
inline constexpr absl::Duration kVoteCoalesceWindow = absl::Milliseconds(250);

ModuleSpec QuestionModule();
// With other limits for WatchQueue (tests).
ModuleSpec QuestionModule(FeedWatchOptions watch_options);

}  // namespace townhall::questions
