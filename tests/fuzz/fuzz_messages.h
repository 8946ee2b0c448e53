// Picks the townhall.v1 message type a fuzz input is about. Inputs start
// with a line naming the type ("townhall.v1.CreateSessionRequest\n...") so
// that seeds stay readable and keep their meaning when messages are added;
// a first line that names no type picks one by its first byte, so that
// mutated inputs still reach every type.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/diagnostics.pb.h"
#include "townhall/v1/questions.pb.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::fuzz {

// The townhall.v1 messages whose names end in `suffix` ("" for all), in
// the order of the .proto files.
inline std::vector<const google::protobuf::Descriptor*> MessagesEndingIn(
    absl::string_view suffix) {
  std::vector<const google::protobuf::Descriptor*> out;
  // One message of each file: naming it also links the file's generated
  // code (and so its descriptors) into the fuzzer.
  for (const google::protobuf::FileDescriptor* fd :
       {v1::AgendaItem::descriptor()->file(),
        v1::PingRequest::descriptor()->file(),
        v1::Question::descriptor()->file(),
        v1::Organization::descriptor()->file(), v1::Venue::descriptor()->file(),
        v1::Tenant::descriptor()->file()}) {
    for (int i = 0; i < fd->message_type_count(); ++i) {
      if (absl::EndsWith(fd->message_type(i)->name(), suffix)) {
        out.push_back(fd->message_type(i));
      }
    }
  }
  return out;
}

// Splits `input` into the chosen type (from `types`, not empty) and the
// rest of the input after the first line.
inline const google::protobuf::Descriptor* ChooseMessage(
    const std::vector<const google::protobuf::Descriptor*>& types,
    absl::string_view* input) {
  const size_t newline = input->find('\n');
  const absl::string_view name = input->substr(0, newline);
  const google::protobuf::Descriptor* chosen = nullptr;
  for (const google::protobuf::Descriptor* type : types) {
    if (type->full_name() == name) chosen = type;
  }
  if (chosen == nullptr) {
    const unsigned char first = input->empty() ? 0 : (*input)[0];
    chosen = types[first % types.size()];
  }
  input->remove_prefix(newline == absl::string_view::npos ? input->size()
                                                          : newline + 1);
  return chosen;
}

}  // namespace townhall::fuzz
