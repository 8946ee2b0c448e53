#include "clients/cpp/townhallctl/error_hints.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/proto_time.h"

namespace townhall::ctl {
namespace {

std::string StringClaim(const google::protobuf::Struct& claims,
                        const std::string& name) {
  auto it = claims.fields().find(name);
  return it == claims.fields().end() ? "" : it->second.string_value();
}

// Where a new token of this kind comes from (docs/api.md#authentication).
std::string NewTokenHint(const TokenClaims& claims) {
  if (claims.role == "organizer") {
    return absl::StrCat(
        "an organizer token comes from the operator: townhallctl "
        "--token_file=.local/bootstrap_credential tenant issue-token "
        "--tenant_id=",
        claims.tenant_id, " --subject=", claims.subject,
        " (deploy/local/up.sh also writes a new one to "
        ".local/organizer_token)");
  }
  if (claims.role == "api-client") {
    return "ask an organizer for a new API key (townhallctl tenant "
           "create-api-key)";
  }
  if (!claims.session_id.empty()) {
    return absl::StrCat(
        "ask an organizer for a new join token: townhallctl registration "
        "issue-join-token --session_id=",
        claims.session_id, " --participant_id=", claims.participant_id);
  }
  return "get a new token from whoever issued this one";
}

}  // namespace

std::optional<TokenClaims> ReadTokenClaims(const std::string& token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string json;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &json)) {
    return std::nullopt;
  }
  google::protobuf::Struct claims;
  if (!google::protobuf::util::JsonStringToMessage(json, &claims).ok()) {
    return std::nullopt;
  }
  TokenClaims out;
  if (auto exp = claims.fields().find("exp");
      exp != claims.fields().end() &&
      exp->second.kind_case() == google::protobuf::Value::kNumberValue) {
    out.expire_time =
        absl::FromUnixSeconds(static_cast<int64_t>(exp->second.number_value()));
  }
  out.role = StringClaim(claims, "role");
  out.tenant_id = StringClaim(claims, "tid");
  out.subject = StringClaim(claims, "sub");
  out.session_id = StringClaim(claims, "sid");
  out.participant_id = StringClaim(claims, "pid");
  return out;
}

std::string ErrorHint(const absl::Status& status, const CallContext& call) {
  if ((absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
      !call.connected) {
    return absl::StrCat("could not reach ", call.address,
                        " (set --address or TOWNHALL_ADDRESS)");
  }
  if (!absl::IsUnauthenticated(status)) return "";
  if (call.token.empty()) {
    return "no token: give --token, --token_file or TOWNHALL_TOKEN (an "
           "organizer token; deploy/local/up.sh writes one to "
           ".local/organizer_token)";
  }
  std::optional<TokenClaims> claims = ReadTokenClaims(call.token);
  if (!claims.has_value() || !claims->expire_time.has_value()) return "";
  if (*claims->expire_time > call.now &&
      !absl::StrContains(status.message(), "expired")) {
    return "";
  }
  return absl::StrCat("the token expired at ",
                      FormatInstant(*claims->expire_time), "; ",
                      NewTokenHint(*claims));
}

}  // namespace townhall::ctl
