#include "clients/cpp/townhallctl/settings.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace townhall::ctl {
namespace {

constexpr const char* kKeys[] = {
    "address",         "token",         "token_file",
    "timeout",         "output",        "tls",
    "tls_ca_file",     "tls_cert_file", "tls_key_file",
    "tls_server_name",
};

}  // namespace

bool IsSettingKey(const std::string& key) {
  for (const char* known : kKeys) {
    if (key == known) return true;
  }
  return false;
}

absl::StatusOr<SettingLayer> ParseConfig(const std::string& text,
                                         const std::string& path) {
  SettingLayer layer;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    std::string key(absl::StripAsciiWhitespace(kv.first));
    if (line.find('=') == absl::string_view::npos || !IsSettingKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number,
                       ": expected key=value with a key among address, "
                       "token, token_file, timeout, output, tls, tls_ca_file, "
                       "tls_cert_file, tls_key_file, tls_server_name"));
    }
    layer[key] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return layer;
}

absl::StatusOr<Settings> ResolveSettings(
    const std::vector<SettingLayer>& layers) {
  SettingLayer merged;
  // The token comes from the last layer that names one, whichever way.
  std::string token;
  std::string token_file;
  for (const SettingLayer& layer : layers) {
    for (const auto& [key, value] : layer) merged[key] = value;
    if (auto it = layer.find("token"); it != layer.end()) {
      token = it->second;
      token_file.clear();
    } else if (auto file = layer.find("token_file"); file != layer.end()) {
      token_file = file->second;
      token.clear();
    }
  }
  Settings settings;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("cannot read token_file \"", token_file, "\""));
    }
    std::stringstream text;
    text << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(text.str()));
  }
  settings.client.token = token;
  if (auto it = merged.find("address"); it != merged.end()) {
    settings.client.address = it->second;
  }
  if (auto it = merged.find("timeout"); it != merged.end()) {
    absl::Duration timeout;
    if (!absl::ParseDuration(it->second, &timeout) ||
        timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "timeout: \"", it->second, "\" is not a duration (e.g. 30s)"));
    }
    settings.client.default_deadline = timeout;
  }
  if (auto it = merged.find("output"); it != merged.end()) {
    std::optional<OutputFormat> format = ParseOutputFormat(it->second);
    if (!format.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output: \"", it->second, "\" is none of table, wide, json, yaml"));
    }
    settings.output = *format;
  }
  if (auto it = merged.find("tls"); it != merged.end()) {
    if (!absl::SimpleAtob(it->second, &settings.client.tls)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: \"", it->second, "\" is not true or false"));
    }
  }
  if (auto it = merged.find("tls_ca_file"); it != merged.end()) {
    settings.client.tls_ca_file = it->second;
  }
  if (auto it = merged.find("tls_cert_file"); it != merged.end()) {
    settings.client.tls_cert_file = it->second;
  }
  if (auto it = merged.find("tls_key_file"); it != merged.end()) {
    settings.client.tls_key_file = it->second;
  }
  if (auto it = merged.find("tls_server_name"); it != merged.end()) {
    settings.client.tls_server_name = it->second;
  }
  return settings;
}

}  // namespace townhall::ctl
