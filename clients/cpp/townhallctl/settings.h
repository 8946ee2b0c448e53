// Where townhallctl finds its server, token and TLS files: flags, then the
// environment (TOWNHALL_ADDRESS, TOWNHALL_TOKEN), then a config file
// (--config, TOWNHALL_CONFIG, or ~/.config/townhall/config) of key=value
// lines with the flags' names:
//
//   # ~/.config/townhall/config
//   address = townhall.example.uz:443
//   token_file = /home/me/.config/townhall/token
//   tls_ca_file = /etc/townhall/ca.pem
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/townhall_client.h"
#include "clients/cpp/townhallctl/output.h"

namespace townhall::ctl {

// Keys a config file and the global flags share.
bool IsSettingKey(const std::string& key);

// One source of settings: key -> value.
using SettingLayer = std::map<std::string, std::string>;

// Parses a config file's text. INVALID_ARGUMENT with the line number for a
// line that is not key=value or an unknown key.
absl::StatusOr<SettingLayer> ParseConfig(const std::string& text,
                                         const std::string& path);

struct Settings {
  ClientOptions client;
  OutputFormat output = OutputFormat::kTable;
};

// Combines the layers, the later ones winning (a token and a token_file
// of one layer: the token), reads token_file, and checks the values.
// INVALID_ARGUMENT for a bad value, NOT_FOUND for an unreadable token file.
absl::StatusOr<Settings> ResolveSettings(
    const std::vector<SettingLayer>& layers);

}  // namespace townhall::ctl
