// The listening port's TLS: credentials from ServerTlsOptions, checked
// before the server starts (key pair, CA file, loopback-only plaintext).
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/server/server.h"

namespace townhall {

// Reads a whole PEM file named by `flag` (for the error message).
absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path);

// Credentials of the listening port, from options.tls (see
// ServerTlsOptions), and a word for the log ("off", "on",
// "optional-client-cert", "mutual"). Plaintext on a non-loopback address is
// refused unless options.allow_insecure_non_loopback.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerOptions& options, std::string* mode);

}  // namespace townhall
