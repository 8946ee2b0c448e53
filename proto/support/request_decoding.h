// Request decoding that says what is wrong with a request protobuf refuses.
//
// When protobuf cannot parse a request (a string field that is not valid
// UTF-8, a truncated field or varint, field number 0, groups nested too
// deeply, ...), gRPC 1.51's callback server answers UNIMPLEMENTED with an
// empty message: useless to a client. For townhall request messages, the
// build injects (grpc_cpp_plugin's additional_header_includes, see
// proto/CMakeLists.txt) a SerializationTraits specialization that falls back
// to RequestTraits::Deserialize below: the request is delivered empty but
// marked with what is wrong, and RpcRunner (unary and server-streaming
// calls alike) answers INVALID_ARGUMENT with it, after authentication:
//   "session.title: is not valid UTF-8"
//   "session_id: malformed protobuf at byte 0: length 16 but only 3 bytes
//    left"
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include <optional>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace townhall {

// Says why the wire bytes of a `descriptor` message do not parse: the path
// of the first string field that is not valid UTF-8 ("session.title: is not
// valid UTF-8", "participants[2].time_zone: ..."), or the first wire-format
// error with its field and byte offset. Meant for bytes protobuf refused;
// for others it returns a generic "malformed protobuf" message.
std::string DescribeDecodingError(
    const std::string& wire, const google::protobuf::Descriptor& descriptor);

// Marks `message` as undecodable, for the reason `error`.
void MarkUndecodable(google::protobuf::Message* message,
                     const std::string& error);

// The reason marked by MarkUndecodable, or nullopt for a normal request.
std::optional<std::string> DecodingError(
    const google::protobuf::Message& message);

// SerializationTraits for townhall requests: strict protobuf parsing, then
// the fallback described above.
template <class T>
class RequestTraits {
 public:
  static grpc::Status Serialize(const grpc::protobuf::MessageLite& msg,
                                grpc::ByteBuffer* bb, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, T>(msg, bb,
                                                              own_buffer);
  }

  static grpc::Status Deserialize(grpc::ByteBuffer* buffer, T* msg) {
    grpc::ByteBuffer copy(*buffer);  // shares the slices; cheap
    grpc::Status status =
        grpc::GenericDeserialize<grpc::ProtoBufferReader, T>(buffer, msg);
    if (status.ok()) return status;
    std::string wire;
    grpc::Slice slice;
    if (copy.TrySingleSlice(&slice).ok() ||
        copy.DumpToSingleSlice(&slice).ok()) {
      wire.assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    msg->Clear();
    MarkUndecodable(msg, DescribeDecodingError(wire, *T::descriptor()));
    return grpc::Status::OK;
  }
};

}  // namespace townhall
