#include "services/scheduling/session_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace townhall::scheduling {
namespace {

using townhall::v1::Session;

constexpr int kMaxVenues = 10;
constexpr int kMaxHosts = 20;
constexpr int kMaxLanguages = 10;
constexpr int kMaxCapacity = 1000000;
constexpr size_t kMaxIdBytes = 128;

// Ids of hosts and venues end up in Redis keys and csv lists.
absl::Status ValidateReference(absl::string_view field, absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return InvalidField(field,
                        absl::StrCat("must be 1 to ", kMaxIdBytes, " bytes"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' &&
        c != '@') {
      return InvalidField(
          field, "may contain only letters, digits, '-', '_', '.', '@'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLanguageTag(absl::string_view field,
                                 absl::string_view tag) {
  if (tag.size() < 2 || tag.size() > 35) {
    return InvalidField(
        field, "must be a BCP 47 language tag such as \"uz\" or \"ru\"");
  }
  for (char c : tag) {
    if (!absl::ascii_isalnum(c) && c != '-') {
      return InvalidField(
          field, "must be a BCP 47 language tag such as \"uz\" or \"ru\"");
    }
  }
  return absl::OkStatus();
}

}  // namespace

void SanitizeSession(Session* session) {
  session->clear_id();
  session->clear_tenant_id();
  session->clear_state();
  session->clear_series_id();
  session->clear_original_start_time();
  session->clear_etag();
  session->clear_sequence();
  session->clear_create_time();
  session->clear_update_time();
  session->clear_cancel_reason();
}

absl::Status ValidateSession(absl::string_view prefix, Session* session) {
  auto field = [&](absl::string_view name) {
    return absl::StrCat(prefix, ".", name);
  };
  TH_RETURN_IF_ERROR(ValidateText(field("title"), session->title(),
                                  {.min_chars = 1, .max_chars = 200}));
  TH_RETURN_IF_ERROR(ValidateText(field("description"), session->description(),
                                  {.max_chars = 5000, .multiline = true}));
  if (!session->has_start_time()) {
    return InvalidField(field("start_time"), "is required");
  }
  TH_RETURN_IF_ERROR(ValidateTimestamp(field("start_time"),
                                       session->start_time().seconds(),
                                       session->start_time().nanos()));
  // Sessions are planned to the second.
  session->mutable_start_time()->set_nanos(0);
  if (!session->has_duration()) {
    return InvalidField(field("duration"), "is required");
  }
  absl::Duration duration = absl::Seconds(session->duration().seconds());
  if (duration <= absl::ZeroDuration()) {
    return InvalidField(
        field("duration"),
        "must be positive: the session would end before it starts");
  }
  if (duration < absl::Minutes(1) || duration > kMaxSessionDuration) {
    return InvalidField(field("duration"),
                        "must be between 1 minute and 7 days");
  }
  session->mutable_duration()->set_nanos(0);
  // Stored and exported under its canonical name.
  TH_RETURN_IF_ERROR(
      NormalizeTimeZone(field("time_zone"), session->mutable_time_zone()));
  if (session->format() == townhall::v1::SESSION_FORMAT_UNSPECIFIED) {
    session->set_format(townhall::v1::SESSION_FORMAT_ONLINE);
  }
  if (!townhall::v1::SessionFormat_IsValid(session->format())) {
    return InvalidField(field("format"), "is not a known format");
  }
  if (session->venue_ids_size() > kMaxVenues) {
    return InvalidField(field("venue_ids"),
                        absl::StrCat("at most ", kMaxVenues, " venues"));
  }
  if (session->format() != townhall::v1::SESSION_FORMAT_ONLINE &&
      session->venue_ids().empty()) {
    return InvalidField(
        field("venue_ids"),
        "in-person and hybrid sessions need at least one venue");
  }
  for (int i = 0; i < session->venue_ids_size(); ++i) {
    TH_RETURN_IF_ERROR(ValidateReference(
        absl::StrCat(field("venue_ids"), "[", i, "]"), session->venue_ids(i)));
  }
  if (session->host_ids_size() > kMaxHosts) {
    return InvalidField(field("host_ids"),
                        absl::StrCat("at most ", kMaxHosts, " hosts"));
  }
  for (int i = 0; i < session->host_ids_size(); ++i) {
    TH_RETURN_IF_ERROR(ValidateReference(
        absl::StrCat(field("host_ids"), "[", i, "]"), session->host_ids(i)));
  }
  TH_RETURN_IF_ERROR(ValidateUrl(field("join_url"), session->join_url()));
  if (session->capacity() < 0 || session->capacity() > kMaxCapacity) {
    return InvalidField(
        field("capacity"),
        absl::StrCat("must be between 0 (unlimited) and ", kMaxCapacity));
  }
  if (session->languages_size() > kMaxLanguages) {
    return InvalidField(field("languages"),
                        absl::StrCat("at most ", kMaxLanguages, " languages"));
  }
  for (int i = 0; i < session->languages_size(); ++i) {
    TH_RETURN_IF_ERROR(ValidateLanguageTag(
        absl::StrCat(field("languages"), "[", i, "]"), session->languages(i)));
  }
  return absl::OkStatus();
}

absl::Status ValidateVenue(townhall::v1::Venue* venue) {
  venue->clear_id();
  venue->clear_tenant_id();
  venue->clear_create_time();
  TH_RETURN_IF_ERROR(ValidateText("venue.name", venue->name(),
                                  {.min_chars = 1, .max_chars = 200}));
  TH_RETURN_IF_ERROR(ValidateText("venue.address", venue->address(),
                                  {.max_chars = 500, .multiline = true}));
  TH_RETURN_IF_ERROR(
      NormalizeTimeZone("venue.time_zone", venue->mutable_time_zone()));
  if (venue->capacity() < 0 || venue->capacity() > kMaxCapacity) {
    return InvalidField(
        "venue.capacity",
        absl::StrCat("must be between 0 (unlimited) and ", kMaxCapacity));
  }
  return absl::OkStatus();
}

}  // namespace townhall::scheduling
