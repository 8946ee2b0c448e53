// A poll's results for people and spreadsheets: the one-line summary the
// minutes and a motion's agenda outcome show, and the CSV rows of
// ExportPollResults. Pure; unit-tested in poll_rules_test.cc.
#pragma once

#include <string>
#include <vector>

#include "townhall/v1/polls.pb.h"

namespace townhall::polls {

// "Education 25, Culture 10 (35 ballots; turnout 88%, quorum reached)" and
// the like per kind; "results not published" when `poll` has none (the
// caller may not see them).
std::string PollResultSummary(const v1::Poll& poll);

// The CSV of ExportPollResults: this header, then one row per option
// tally, rating value, ranked-choice round tally, word, motion count and
// turnout figure.
const std::vector<std::string>& PollResultHeader();
std::vector<std::vector<std::string>> PollResultRows(const v1::Poll& poll);

}  // namespace townhall::polls
