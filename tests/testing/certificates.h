// Test support: throw-away X.509 certificates for TLS tests, made at test
// time with the `openssl` command line tool in a fresh temporary directory
// (removed on destruction). Keys are P-256, valid for two days.
//
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestCertificates> certs,
//                        TestCertificates::Create());
//   options.tls = {.cert_file = certs->server_cert(),
//                  .key_file = certs->server_key()};
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace townhall::testing {

class TestCertificates {
 public:
  // Makes a CA, a server certificate for 127.0.0.1, ::1 and localhost
  // (subjectAltName) and a client certificate, both signed by the CA; and a
  // second, unrelated CA with a client certificate of its own.
  static absl::StatusOr<std::unique_ptr<TestCertificates>> Create();
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  const std::string& dir() const { return dir_; }
  // PEM files (paths).
  std::string ca_cert() const { return Path("ca.pem"); }
  std::string server_cert() const { return Path("server.pem"); }
  std::string server_key() const { return Path("server.key"); }
  std::string client_cert() const { return Path("client.pem"); }
  std::string client_key() const { return Path("client.key"); }
  // The unrelated CA and the client certificate it signed.
  std::string other_ca_cert() const { return Path("other-ca.pem"); }
  std::string other_client_cert() const { return Path("other-client.pem"); }
  std::string other_client_key() const { return Path("other-client.key"); }

  // Writes `contents` to a file in dir() and returns its path.
  absl::StatusOr<std::string> WriteFile(const std::string& name,
                                        const std::string& contents) const;

 private:
  explicit TestCertificates(std::string dir) : dir_(std::move(dir)) {}
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // Self-signed CA `name` (name.pem, name.key).
  absl::Status MakeCa(const std::string& name, const std::string& subject);
  // Certificate `name` (name.pem, name.key) signed by CA `ca`, with the
  // extensions in `extensions` (openssl x509 -extfile syntax).
  absl::Status MakeLeaf(const std::string& name, const std::string& ca,
                        const std::string& subject,
                        const std::string& extensions);

  std::string dir_;
  int next_serial_ = 1;
};

}  // namespace townhall::testing
