// Fuzzes proto3 JSON (services/common/proto_json.h), the form in which Lua
// scripts store entities in Redis. An input is a townhall.v1 type name on
// the first line, then JSON (see fuzz_messages.h). Checks that what
// ProtoFromJson accepts, ProtoToJson writes back in both styles and reads
// again unchanged (a stored entity must stay readable), and that JsonQuote
// makes a JSON string of any valid UTF-8 text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "services/common/proto_json.h"
#include "services/common/validation.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_messages.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
}

void CheckRoundTrip(const Message& message, townhall::ProtoJsonStyle style) {
  absl::StatusOr<std::string> json = townhall::ProtoToJson(message, style);
  if (!json.ok()) return;  // e.g. a Timestamp out of JSON's range
  std::unique_ptr<Message> again = NewMessage(message.GetDescriptor());
  FUZZ_CHECK(townhall::ProtoFromJson(*json, again.get(), "fuzz").ok());
  // NaN is a valid double value and written as "NaN": it must come back.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  FUZZ_CHECK(differencer.Compare(message, *again));
}

void CheckQuote(absl::string_view text) {
  if (!townhall::CountCodePoints("text", text).ok()) return;
  google::protobuf::StringValue value;
  FUZZ_CHECK(
      townhall::ProtoFromJson(townhall::JsonQuote(text), &value, "fuzz").ok());
  FUZZ_CHECK(value.value() == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<const Descriptor*>* const types =
      new std::vector<const Descriptor*>(townhall::fuzz::MessagesEndingIn(""));
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const Descriptor* type = townhall::fuzz::ChooseMessage(*types, &input);

  std::unique_ptr<Message> message = NewMessage(type);
  if (townhall::ProtoFromJson(input, message.get(), "fuzz").ok()) {
    CheckRoundTrip(*message, {});
    CheckRoundTrip(*message, {.indent = true, .proto_names = true});
  }
  CheckQuote(input);
  return 0;
}
