// Test support: assertions on absl::Status and absl::StatusOr.
//
//   ASSERT_OK_AND_ASSIGN(v1::Session s, CreateSession(...));
//   EXPECT_THAT(StatusOf(result), StatusIs(absl::StatusCode::kNotFound,
//                                          HasSubstr("session")));
//   EXPECT_THAT(result, HasCode(absl::StatusCode::kAborted));
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace townhall::testing {

inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches a Status or StatusOr with this code.
MATCHER_P(HasCode, code, "") {
  absl::Status status = StatusOf(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

// Matches a Status or StatusOr with this code and a matching message.
MATCHER_P2(StatusIs, code, message_matcher, "") {
  absl::Status status = StatusOf(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace townhall::testing

#define TH_TEST_CONCAT_INNER(a, b) a##b
#define TH_TEST_CONCAT(a, b) TH_TEST_CONCAT_INNER(a, b)

// Asserts that an absl::Status is OK (evaluated once).
#define ASSERT_OK(expr)                                           \
  do {                                                            \
    const absl::Status th_assert_ok_status = (expr);              \
    ASSERT_TRUE(th_assert_ok_status.ok()) << th_assert_ok_status; \
  } while (0)

// Expects an absl::Status or StatusOr to be OK.
#define EXPECT_OK(expr) EXPECT_THAT((expr), HasCode(absl::StatusCode::kOk))

// Asserts that `rexpr` (an absl::StatusOr) is OK and assigns its value.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(TH_TEST_CONCAT(statusor_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = *std::move(statusor)
