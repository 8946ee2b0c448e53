// Test support: any townhall RPC by its gRPC path, for table tests driven by
// the service descriptors (a method added to a .proto is covered without
// touching the test).
//
//   for (const std::string& path : AllMethods()) {
//     std::unique_ptr<google::protobuf::Message> request =
//         NewRequest(*FindMethod(path));
//     absl::Status status = CallWithToken(channel, path, *request, token);
//   }
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace townhall::testing {

// Full names of the services townhalld hosts.
const std::vector<std::string>& ServiceNames();

// gRPC paths ("/townhall.v1.QuestionService/WatchQueue") of every method of
// every hosted service.
const std::vector<std::string>& AllMethods();

// The method at a gRPC path; nullptr when there is none.
const google::protobuf::MethodDescriptor* FindMethod(absl::string_view path);

// An empty request of `method`'s input type (a generated message, so it
// may be down-cast to its class).
std::unique_ptr<google::protobuf::Message> NewRequest(
    const google::protobuf::MethodDescriptor& method);

// Fills the string field `field_name` of a request made by NewRequest, if
// its type has one: sets a singular field, adds to a repeated one. An
// empty `value` leaves the request as it is.
void SetStringField(google::protobuf::Message* request,
                    absl::string_view field_name, const std::string& value);

// Calls `path` over a generic stub with `request_bytes` and a raw
// `authorization` header value ("" sends none), values the typed client
// cannot send. Returns the status and, when `response_bytes` is set, the
// answer. A server stream that is let in stays open: its first message (or
// the 500 ms deadline) is the answer; unary calls get 10 s.
absl::Status RawCall(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& path, const std::string& authorization,
                     const std::string& request_bytes = "",
                     std::string* response_bytes = nullptr);

// The same with a request message and a bearer token ("" sends none).
absl::Status CallWithToken(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& path,
                           const google::protobuf::Message& request,
                           const std::string& token,
                           std::string* response_bytes = nullptr);

}  // namespace townhall::testing
