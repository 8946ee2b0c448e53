#include "services/common/server/server_tls.h"

#include <arpa/inet.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/logging.h"

namespace townhall {

// Reads a whole PEM file named by `flag` (for the error message).
absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", flag, " \"", path, "\": ", strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", flag, " \"", path, "\""));
  }
  return contents.str();
}

namespace {

// The last OpenSSL error as text (and clears the queue).
std::string OpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string text = "unknown error";
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    text = buffer;
  }
  ERR_clear_error();
  return text;
}

// Checks that `cert` holds a PEM certificate and `key` a PEM private key
// that belongs to it, so that a wrong file fails at start with a clear
// message instead of at the first handshake.
absl::Status CheckKeyPair(const ServerTlsOptions& tls, const std::string& cert,
                          const std::string& key) {
  BIO* cert_bio = BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size()));
  X509* x509 = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file \"", tls.cert_file,
                     "\" holds no PEM certificate: ", OpenSslError()));
  }
  BIO* key_bio = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  absl::Status status;
  if (pkey == nullptr) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file \"", tls.key_file,
        "\" holds no (unencrypted) PEM private key: ", OpenSslError()));
  } else if (X509_check_private_key(x509, pkey) != 1) {
    ERR_clear_error();
    status = absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file \"", tls.key_file,
        "\" is not the key of --tls_cert_file \"", tls.cert_file, "\""));
  }
  EVP_PKEY_free(pkey);
  X509_free(x509);
  return status;
}

// Checks that `pem` holds at least one certificate.
absl::Status CheckCaFile(const ServerTlsOptions& tls, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x509 = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_client_ca_file \"", tls.client_ca_file,
                     "\" holds no PEM certificate: ", OpenSslError()));
  }
  X509_free(x509);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerOptions& options, std::string* mode) {
  const ServerTlsOptions& tls = options.tls;
  if (tls.cert_file.empty()) {
    if (!tls.key_file.empty() || !tls.client_ca_file.empty() ||
        tls.require_client_cert) {
      return absl::InvalidArgumentError(
          "TLS options given without --tls_cert_file");
    }
    if (!IsLoopbackListenAddress(options.listen_address)) {
      if (!options.allow_insecure_non_loopback) {
        return absl::FailedPreconditionError(absl::StrCat(
            "refusing plaintext on non-loopback address ",
            options.listen_address,
            ": set --tls_cert_file and --tls_key_file, or "
            "--allow_insecure_non_loopback behind a TLS-terminating proxy"));
      }
      LogWarning("serving plaintext on a non-loopback address",
                 {{"listen", options.listen_address}});
    }
    *mode = "off";
    return grpc::InsecureServerCredentials();
  }
  if (tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file needs --tls_key_file");
  }
  if (tls.require_client_cert && tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_require_client_cert needs --tls_client_ca_file");
  }
  absl::StatusOr<std::string> cert =
      ReadPemFile("--tls_cert_file", tls.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPemFile("--tls_key_file", tls.key_file);
  if (!key.ok()) return key.status();
  if (absl::Status pair = CheckKeyPair(tls, *cert, *key); !pair.ok()) {
    return pair;
  }
  grpc_ssl_client_certificate_request_type request =
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  std::string client_ca;
  *mode = "on";
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile("--tls_client_ca_file", tls.client_ca_file);
    if (!ca.ok()) return ca.status();
    if (absl::Status valid = CheckCaFile(tls, *ca); !valid.ok()) return valid;
    client_ca = *std::move(ca);
    if (tls.require_client_cert) {
      request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
      *mode = "mutual";
    } else {
      request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
      *mode = "optional-client-cert";
    }
  }
  grpc::SslServerCredentialsOptions ssl(request);
  ssl.pem_root_certs = std::move(client_ca);
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

bool IsLoopbackListenAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") ||
      absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  absl::string_view host;
  if (absl::ConsumePrefix(&address, "[")) {
    size_t end = address.find(']');
    if (end == absl::string_view::npos) return false;
    host = address.substr(0, end);
  } else {
    size_t colon = address.rfind(':');
    host =
        colon == absl::string_view::npos ? address : address.substr(0, colon);
  }
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

}  // namespace townhall
