// Fuzzes the decoding of townhall requests (proto/support/
// request_decoding.h): strict protobuf parsing and the walk that says what
// is wrong with refused bytes. An input is the request's full type name on
// the first line, then its wire bytes (see fuzz_messages.h). Checks that
// every refused request gets a reason, that a message marked with it reads
// it back, and, for a few requests, that the gRPC deserializer the build
// injects always answers OK, with the reason marked when protobuf refused
// the bytes.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/stubs/logging.h"
#include "proto/support/request_decoding.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_messages.h"
#include "townhall/v1/questions.grpc.pb.h"
#include "townhall/v1/registration.grpc.pb.h"
#include "townhall/v1/scheduling.grpc.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

// Runs the SerializationTraits of request type T on `wire`, as the gRPC
// server does for an incoming message.
template <class T>
void DecodeAsServer(const std::string& wire, bool parsed) {
  grpc::Slice slice(wire.data(), wire.size());
  grpc::ByteBuffer buffer(&slice, 1);
  T request;
  grpc::Status status =
      grpc::SerializationTraits<T>::Deserialize(&buffer, &request);
  FUZZ_CHECK(status.ok());
  if (!parsed) FUZZ_CHECK(townhall::DecodingError(request).has_value());
}

using ServerDecoder = void (*)(const std::string&, bool);

ServerDecoder DecoderFor(const Descriptor* type) {
  if (type == townhall::v1::CreateSessionRequest::descriptor()) {
    return DecodeAsServer<townhall::v1::CreateSessionRequest>;
  }
  if (type == townhall::v1::CreateSeriesRequest::descriptor()) {
    return DecodeAsServer<townhall::v1::CreateSeriesRequest>;
  }
  if (type == townhall::v1::SubmitQuestionRequest::descriptor()) {
    return DecodeAsServer<townhall::v1::SubmitQuestionRequest>;
  }
  if (type == townhall::v1::ImportDirectoryRequest::descriptor()) {
    return DecodeAsServer<townhall::v1::ImportDirectoryRequest>;
  }
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Protobuf logs every string field with invalid UTF-8 it refuses; that is
  // the common case here, and the noise slows the fuzzer down.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<const Descriptor*>* const requests =
      new std::vector<const Descriptor*>(
          townhall::fuzz::MessagesEndingIn("Request"));
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const Descriptor* type = townhall::fuzz::ChooseMessage(*requests, &input);
  const std::string wire(input);

  std::unique_ptr<Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
  const bool parsed = message->ParseFromString(wire);
  if (!parsed) {
    const std::string error = townhall::DescribeDecodingError(wire, *type);
    FUZZ_CHECK(!error.empty());
    message->Clear();
    townhall::MarkUndecodable(message.get(), error);
    FUZZ_CHECK(townhall::DecodingError(*message) == error);
  }
  if (ServerDecoder decode = DecoderFor(type)) decode(wire, parsed);
  return 0;
}
