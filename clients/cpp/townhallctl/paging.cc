#include "clients/cpp/townhallctl/paging.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/townhallctl/output.h"

namespace townhall::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The API's largest page (docs/api.md: "at most 500").
constexpr int kMaxPageSize = 500;

}  // namespace

bool IsPaged(const google::protobuf::MethodDescriptor& method) {
  const FieldDescriptor* token =
      method.input_type()->FindFieldByName("page_token");
  const FieldDescriptor* next =
      method.output_type()->FindFieldByName("next_page_token");
  return token != nullptr && next != nullptr &&
         token->type() == FieldDescriptor::TYPE_STRING &&
         next->type() == FieldDescriptor::TYPE_STRING &&
         ListField(*method.output_type()) != nullptr;
}

absl::Status FetchPages(
    const Message& request,
    absl::FunctionRef<absl::Status(const Message&, Message*)> fetch,
    const PageLimits& limits, Message* answer) {
  std::unique_ptr<Message> next(request.New());
  next->CopyFrom(request);
  const auto& in = *next->GetReflection();
  const FieldDescriptor* token_field =
      request.GetDescriptor()->FindFieldByName("page_token");
  const FieldDescriptor* size_field =
      request.GetDescriptor()->FindFieldByName("page_size");
  const FieldDescriptor* list = ListField(*answer->GetDescriptor());
  const FieldDescriptor* next_token =
      answer->GetDescriptor()->FindFieldByName("next_page_token");
  const auto& out = *answer->GetReflection();
  const int asked = size_field != nullptr ? in.GetInt32(*next, size_field) : 0;
  // The rows of every page; the other fields come from the last page.
  std::unique_ptr<Message> rows(answer->New());
  std::unique_ptr<Message> last(answer->New());
  absl::flat_hash_set<std::string> seen;
  int count = 0;
  while (true) {
    if (limits.limit.has_value()) {
      const int wanted = *limits.limit - count;
      if (wanted <= 0) break;
      if (size_field != nullptr) {
        in.SetInt32(next.get(), size_field,
                    std::min(asked > 0 ? asked : kMaxPageSize, wanted));
      }
    }
    std::unique_ptr<Message> page(answer->New());
    if (absl::Status status = fetch(*next, page.get()); !status.ok()) {
      return status;
    }
    const auto& p = *page->GetReflection();
    for (int i = 0; i < p.FieldSize(*page, list); ++i) {
      if (limits.limit.has_value() && count >= *limits.limit) break;
      out.AddMessage(rows.get(), list)
          ->CopyFrom(p.GetRepeatedMessage(*page, list, i));
      ++count;
    }
    p.ClearField(page.get(), list);
    last = std::move(page);
    const std::string token = p.GetString(*last, next_token);
    if (token.empty() || (!limits.all && !limits.limit.has_value())) break;
    if (!seen.insert(token).second) {
      return absl::InternalError(absl::StrCat("the server sent page token \"",
                                              token, "\" twice; stopped"));
    }
    in.SetString(next.get(), token_field, token);
  }
  answer->CopyFrom(*last);
  out.SwapFields(answer, rows.get(), {list});
  return absl::OkStatus();
}

}  // namespace townhall::ctl
