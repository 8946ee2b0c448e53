// Links the questions carried into a session (CarryOverQuestions) to the
// session's FOLLOW_UP item (PrepareFollowUp), with each question's status
// now. The two live in two Redis Cluster slots (the question queue under
// {s:<tenant>:<session>}, the agenda under {t:<tenant>}), so this is two
// scripts, never one: read_carried.lua reads the queue's carried questions,
// then link_follow_up.lua stores them on the item and appends
// agenda.item.updated to the agenda feed when they differ from what it
// holds. Both are idempotent: whoever changes either side runs it again
// (PrepareFollowUp, CarryOverQuestions, and every moderation of a carried
// question), and a crash in between is mended by the next run.
//
// A library of its own so that the question service can call it without
// depending on the agenda service, and the agenda service without
// depending on the question service.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"

namespace townhall::agenda {

// Runs both scripts for `session_id` of `tenant_id`. Answers the FOLLOW_UP
// item as stored after linking (AgendaItem proto3 JSON with its position),
// or "" when the session has none (nothing to link).
absl::StatusOr<std::string> LinkFollowUpQuestions(RedisConnection& redis,
                                                  absl::string_view tenant_id,
                                                  absl::string_view session_id,
                                                  absl::Time now);

}  // namespace townhall::agenda
