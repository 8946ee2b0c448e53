// What a request protobuf refuses is described precisely (field, byte,
// reason) and delivered to the handler as a marked, empty request.
#include "proto/support/request_decoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "townhall/v1/agenda.grpc.pb.h"
#include "townhall/v1/scheduling.grpc.pb.h"

namespace townhall {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

struct Case {
  std::string name;
  const google::protobuf::Message* prototype;
  std::string wire;
  std::string expected;
};

std::vector<Case> Cases() {
  const auto* get = &v1::GetSessionRequest::default_instance();
  const auto* create = &v1::CreateSessionRequest::default_instance();
  const auto* list = &v1::ListActionItemsRequest::default_instance();
  return {
      {"truncated field", get,
       std::string("\x0a\x10"
                   "abc",
                   5),
       "session_id: malformed protobuf at byte 0: length 16 but only 3 bytes "
       "left"},
      {"truncated varint", get, std::string("\x08\xff", 2),
       "session_id: malformed protobuf at byte 0: truncated varint"},
      {"field number 0", get, std::string("\x00\x01", 2),
       "request: malformed protobuf at byte 0: field number 0"},
      {"invalid wire type", get, std::string("\x0f\x01", 2),
       "session_id: malformed protobuf at byte 0: invalid wire type 7"},
      {"deeply nested groups", get,
       absl::StrCat(std::string(200, '\x0b'), std::string(200, '\x0c')),
       "nested deeper than 100 levels"},
      {"unclosed group", get, std::string("\x0b\x08\x01", 3),
       "session_id: malformed protobuf at byte 3: group 1 is not closed"},
      {"stray end of group", get, std::string("\x0c", 1),
       "session_id: malformed protobuf at byte 0: unexpected end of group 1"},
      // CreateSessionRequest.session (1) holds title (3), cut short.
      {"nested truncated field", create,
       std::string("\x0a\x04\x1a\x05"
                   "ab",
                   6),
       "session.title: malformed protobuf at byte 2: length 5 but only 2 "
       "bytes left"},
      {"invalid UTF-8", create, std::string("\x0a\x04\x1a\x02\xff\xfe", 6),
       "session.title: is not valid UTF-8"},
      // ListActionItemsRequest.statuses (3) packed, the last varint cut.
      {"packed varint cut off", list, std::string("\x1a\x02\x01\x80", 4),
       "statuses[0]: malformed protobuf at byte 3: truncated varint"},
  };
}

TEST(RequestDecoding, DescribesWhatProtobufRefuses) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<google::protobuf::Message> message(c.prototype->New());
    ASSERT_FALSE(message->ParseFromString(c.wire))
        << "protobuf accepts this input: the case tests nothing";
    EXPECT_THAT(DescribeDecodingError(c.wire, *c.prototype->GetDescriptor()),
                HasSubstr(c.expected));
  }
}

TEST(RequestDecoding, DeserializeMarksARefusedRequestAndPassesAGoodOne) {
  v1::GetSessionRequest request;
  grpc::Slice bad(
      std::string("\x0a\x10"
                  "abc",
                  5));
  grpc::ByteBuffer bad_buffer(&bad, 1);
  ASSERT_TRUE((grpc::SerializationTraits<v1::GetSessionRequest>::Deserialize(
                   &bad_buffer, &request))
                  .ok());
  EXPECT_EQ(request.session_id(), "");
  EXPECT_THAT(DecodingError(request),
              Optional(HasSubstr("session_id: malformed protobuf")));

  v1::GetSessionRequest good;
  good.set_session_id("s-1");
  grpc::Slice bytes(good.SerializeAsString());
  grpc::ByteBuffer good_buffer(&bytes, 1);
  v1::GetSessionRequest decoded;
  ASSERT_TRUE((grpc::SerializationTraits<v1::GetSessionRequest>::Deserialize(
                   &good_buffer, &decoded))
                  .ok());
  EXPECT_EQ(decoded.session_id(), "s-1");
  EXPECT_EQ(DecodingError(decoded), std::nullopt);
}

}  // namespace
}  // namespace townhall
