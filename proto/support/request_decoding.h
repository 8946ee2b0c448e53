// Request decoding that can say *which* field holds invalid UTF-8.
//
// Protobuf refuses to parse a proto3 string field that is not valid UTF-8,
// and gRPC 1.51's callback server then answers UNIMPLEMENTED with an empty
// message: useless to a client. For townhall request messages, the build
// injects (grpc_cpp_plugin's additional_header_includes, see
// proto/CMakeLists.txt) a SerializationTraits specialization that falls back
// to RequestTraits::Deserialize below. When strict parsing fails because of
// a string field, the request is delivered empty but marked with the
// field's path, and RpcRunner answers INVALID_ARGUMENT:
//   "session.title: is not valid UTF-8".
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include <optional>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace townhall {

// Walks the wire bytes of a `descriptor` message and returns the path of
// the first string field that is not valid UTF-8 ("session.title",
// "participants[2].time_zone"), or nullopt.
std::optional<std::string> FindInvalidUtf8Field(
    const std::string& wire, const google::protobuf::Descriptor& descriptor);

// Marks `message` as undecodable because of the field at `path`.
void MarkInvalidUtf8(google::protobuf::Message* message,
                     const std::string& path);

// The path marked by MarkInvalidUtf8, or nullopt for a normal request.
std::optional<std::string> InvalidUtf8Field(
    const google::protobuf::Message& message);

// SerializationTraits for townhall requests: strict protobuf parsing, then
// the UTF-8 fallback described above.
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
    if (!copy.TrySingleSlice(&slice).ok() &&
        !copy.DumpToSingleSlice(&slice).ok()) {
      return status;
    }
    wire.assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
    std::optional<std::string> path =
        FindInvalidUtf8Field(wire, *T::descriptor());
    if (!path.has_value()) return status;
    msg->Clear();
    MarkInvalidUtf8(msg, *path);
    return grpc::Status::OK;
  }
};

}  // namespace townhall
