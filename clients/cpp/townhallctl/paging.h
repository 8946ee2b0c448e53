// Pages of a List* answer: `--all` follows next_page_token to the last
// page, `--limit=N` stops after N rows. The pages come back as one answer
// (every row in its list), so a table lines up across pages and -o json
// is one document.
#pragma once

#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace townhall::ctl {

struct PageLimits {
  bool all = false;
  // At most this many rows (more than 0).
  std::optional<int> limit;
};

// Whether `method` pages: its request has page_token and its answer
// next_page_token beside one list.
bool IsPaged(const google::protobuf::MethodDescriptor& method);

// Calls `fetch` for each page of `request` (a request of a paged method)
// and merges the pages into `answer`: the rows of all, the other fields of
// the last (its next_page_token is empty unless --limit stopped first).
// With a limit, each page asks for no more rows than are still wanted.
// Fails with the first failed page's status, or INTERNAL when the server
// sends a page token twice (a loop).
absl::Status FetchPages(
    const google::protobuf::Message& request,
    absl::FunctionRef<absl::Status(const google::protobuf::Message& request,
                                   google::protobuf::Message* page)>
        fetch,
    const PageLimits& limits, google::protobuf::Message* answer);

}  // namespace townhall::ctl
