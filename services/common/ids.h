// Random identifiers for server-assigned ids (sessions, series, venues).
#pragma once

#include <string>

namespace townhall {

// Returns 16 characters of lowercase base32 (80 random bits from OpenSSL's
// CSPRNG): unguessable, URL- and Redis-key-safe.
std::string NewId();

}  // namespace townhall
