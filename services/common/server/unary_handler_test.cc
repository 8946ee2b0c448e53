#include "services/common/server/unary_handler.h"

#include <vector>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall {
namespace {

using Req = v1::GetSessionRequest;
using Resp = v1::GetSessionResponse;

// One method per accepted signature, and some near misses.
struct FakeLogic {
  absl::Status Plain(const Principal&, RedisConnection&, const Req&,
                     Resp*) const;
  absl::Status NonConst(const Principal&, RedisConnection&, const Req&, Resp*);
  absl::Status CpuOnly(const Principal&, const Req&, Resp*) const;
  absl::Status Session(const Principal&, RedisConnection&, const v1::Session&,
                       const Req&, Resp*) const;
  absl::Status Series(const Principal&, RedisConnection&,
                      absl::Span<const v1::Session>, const Req&, Resp*) const;
  absl::Status SessionSeries(const Principal&, RedisConnection&,
                             const v1::Session&,
                             const std::vector<v1::Session>&, const Req&,
                             Resp*) const;
  void Async(const Principal&, RedisEventLoop&, absl::Time, const Req&, Resp*,
             RpcRunner::Finisher) const;
  void SessionAsync(const Principal&, RedisEventLoop&, absl::Time,
                    const v1::Session&, const Req&, Resp*,
                    RpcRunner::Finisher) const;

  // Wrong order, wrong request type, wrong return type, by-value request.
  absl::Status Swapped(RedisConnection&, const Principal&, const Req&,
                       Resp*) const;
  absl::Status OtherRequest(const Principal&, RedisConnection&,
                            const v1::GetVenueRequest&, Resp*) const;
  int Returns(const Principal&, RedisConnection&, const Req&, Resp*) const;
  absl::Status ByValue(const Principal&, RedisConnection&, Req, Resp*) const;
  absl::Status AsyncReturnsStatus(const Principal&, RedisEventLoop&, absl::Time,
                                  const Req&, Resp*, RpcRunner::Finisher) const;
};

// The dispatch is decided at compile time: checked here as constants.
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::Plain)> ==
              UnaryShape::kPlain);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::NonConst)> ==
              UnaryShape::kPlain);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::CpuOnly)> ==
              UnaryShape::kCpuOnly);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::Session)> ==
              UnaryShape::kSession);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::Series)> ==
              UnaryShape::kSeries);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::SessionSeries)> ==
              UnaryShape::kSessionSeries);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::Async)> ==
              UnaryShape::kAsync);
static_assert(kUnaryShapeOf<Req, Resp, decltype(&FakeLogic::SessionAsync)> ==
              UnaryShape::kSessionAsync);

// The shape for a GetSession-like call (one template argument list, so
// that gtest's macros take it).
template <typename Method>
constexpr UnaryShape ShapeOf(Method) {
  return kUnaryShapeOf<Req, Resp, Method>;
}

TEST(UnaryShapeTest, AcceptsEachSignature) {
  EXPECT_EQ(ShapeOf(&FakeLogic::Plain), UnaryShape::kPlain);
  EXPECT_EQ(ShapeOf(&FakeLogic::CpuOnly), UnaryShape::kCpuOnly);
  EXPECT_EQ(ShapeOf(&FakeLogic::Session), UnaryShape::kSession);
  EXPECT_EQ(ShapeOf(&FakeLogic::Series), UnaryShape::kSeries);
  EXPECT_EQ(ShapeOf(&FakeLogic::SessionSeries), UnaryShape::kSessionSeries);
  EXPECT_EQ(ShapeOf(&FakeLogic::Async), UnaryShape::kAsync);
  EXPECT_EQ(ShapeOf(&FakeLogic::SessionAsync), UnaryShape::kSessionAsync);
}

TEST(UnaryShapeTest, RefusesOtherSignatures) {
  EXPECT_EQ(ShapeOf(&FakeLogic::Swapped), UnaryShape::kNone);
  EXPECT_EQ(ShapeOf(&FakeLogic::OtherRequest), UnaryShape::kNone);
  EXPECT_EQ(ShapeOf(&FakeLogic::Returns), UnaryShape::kNone);
  EXPECT_EQ(ShapeOf(&FakeLogic::ByValue), UnaryShape::kNone);
  EXPECT_EQ(ShapeOf(&FakeLogic::AsyncReturnsStatus), UnaryShape::kNone);
  // The response type must match too.
  EXPECT_EQ(
      (kUnaryShapeOf<Req, v1::GetVenueResponse, decltype(&FakeLogic::Plain)>),
      UnaryShape::kNone);
  EXPECT_EQ(ShapeOf(42), UnaryShape::kNone);
}

TEST(FinishStatusTest, AddsTheRetryTrailerOnlyToRateLimits) {
  grpc::CallbackServerContext ctx;
  EXPECT_TRUE(FinishStatus(&ctx, absl::OkStatus()).ok());
  absl::Status limited = absl::ResourceExhaustedError("slow down");
  limited.SetPayload(kRetryAfterPayload, absl::Cord("1500"));
  absl::Status finished = FinishStatus(&ctx, limited);
  EXPECT_EQ(finished, limited);
  EXPECT_EQ(finished.GetPayload(kRetryAfterPayload), absl::Cord("1500"));
}

}  // namespace
}  // namespace townhall
