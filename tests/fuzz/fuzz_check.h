// FUZZ_CHECK for the libFuzzer targets in this folder: a property that must
// hold for every input. A violated one aborts with the condition, so
// libFuzzer reports it as a crash and keeps the input (unlike assert, it
// stays on in release builds).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (false)
