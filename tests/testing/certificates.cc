#include "tests/testing/certificates.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace townhall::testing {
namespace {

constexpr char kDays[] = "2";
constexpr char kKeyAlgorithm[] = "ec";
constexpr char kKeyParameters[] = "ec_paramgen_curve:prime256v1";

std::string ShellQuote(const std::string& arg) {
  return absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}), "'");
}

// Runs `openssl args...`; on failure the error carries its output.
absl::Status RunOpenssl(const std::vector<std::string>& args) {
  std::vector<std::string> quoted = {"openssl"};
  for (const std::string& arg : args) quoted.push_back(ShellQuote(arg));
  std::string command = absl::StrCat(absl::StrJoin(quoted, " "), " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot run ", command));
  }
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(command, " failed (status ", status, "): ", output));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCertificates>> TestCertificates::Create() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "townhall-tls-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a directory like ", pattern));
  }
  std::unique_ptr<TestCertificates> certs(new TestCertificates(pattern));
  // Our own configuration, independent of the system's openssl.cnf.
  absl::StatusOr<std::string> config =
      certs->WriteFile("openssl.cnf",
                       "[req]\n"
                       "distinguished_name = dn\n"
                       "x509_extensions = v3_ca\n"
                       "prompt = no\n"
                       "[dn]\n"
                       "CN = unused\n"
                       "[v3_ca]\n"
                       "basicConstraints = critical, CA:TRUE\n"
                       "keyUsage = critical, keyCertSign, cRLSign\n"
                       "subjectKeyIdentifier = hash\n"
                       "authorityKeyIdentifier = keyid:always\n");
  if (!config.ok()) return config.status();
  constexpr char kServer[] =
      "basicConstraints = critical, CA:FALSE\n"
      "keyUsage = critical, digitalSignature, keyEncipherment\n"
      "extendedKeyUsage = serverAuth\n"
      "subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost\n";
  constexpr char kClient[] =
      "basicConstraints = critical, CA:FALSE\n"
      "keyUsage = critical, digitalSignature, keyEncipherment\n"
      "extendedKeyUsage = clientAuth\n";
  for (absl::Status status : {
           certs->MakeCa("ca", "/O=townhall tests/CN=townhall test CA"),
           certs->MakeLeaf("server", "ca", "/O=townhall tests/CN=localhost",
                           kServer),
           certs->MakeLeaf("client", "ca", "/O=townhall tests/CN=test-client",
                           kClient),
           certs->MakeCa("other-ca", "/O=elsewhere/CN=other test CA"),
           certs->MakeLeaf("other-client", "other-ca",
                           "/O=elsewhere/CN=test-client", kClient),
       }) {
    if (!status.ok()) return status;
  }
  return certs;
}

TestCertificates::~TestCertificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<std::string> TestCertificates::WriteFile(
    const std::string& name, const std::string& contents) const {
  std::string path = Path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return path;
}

absl::Status TestCertificates::MakeCa(const std::string& name,
                                      const std::string& subject) {
  // `req -x509` adds the v3_ca extensions of our openssl.cnf.
  return RunOpenssl({"req", "-config", Path("openssl.cnf"), "-x509", "-newkey",
                     kKeyAlgorithm, "-pkeyopt", kKeyParameters, "-nodes",
                     "-keyout", Path(name + ".key"), "-out",
                     Path(name + ".pem"), "-subj", subject, "-days", kDays});
}

absl::Status TestCertificates::MakeLeaf(const std::string& name,
                                        const std::string& ca,
                                        const std::string& subject,
                                        const std::string& extensions) {
  absl::StatusOr<std::string> extfile = WriteFile(name + ".ext", extensions);
  if (!extfile.ok()) return extfile.status();
  absl::Status request = RunOpenssl(
      {"req", "-config", Path("openssl.cnf"), "-new", "-newkey", kKeyAlgorithm,
       "-pkeyopt", kKeyParameters, "-nodes", "-keyout", Path(name + ".key"),
       "-out", Path(name + ".csr"), "-subj", subject});
  if (!request.ok()) return request;
  return RunOpenssl({"x509", "-req", "-in", Path(name + ".csr"), "-CA",
                     Path(ca + ".pem"), "-CAkey", Path(ca + ".key"),
                     "-set_serial", absl::StrCat(next_serial_++), "-days",
                     kDays, "-extfile", *extfile, "-out", Path(name + ".pem")});
}

}  // namespace townhall::testing
