# Build time: the suite links about a hundred executables against gRPC and
# the services' static libraries, and CI builds the tree three times
# (tests/run.sh, --sanitize, --fuzz) on two cores. Three choices keep that
# short (figures in README.md, "CI"; the third is at the end of this file):
#  - A faster linker: lld (Debian `lld`, installed by deploy/install-deps.sh)
#    links a test in 1.0 s where GNU ld takes 5.2 s; gold (part of binutils)
#    is the fallback. -DTOWNHALL_LINKER=bfd keeps the default.
#  - Line tables only (-g1) in RelWithDebInfo: backtraces and sanitizer
#    reports still name file:line, objects are a quarter of the size and
#    compile faster. -DTOWNHALL_FULL_DEBUG_INFO=ON for a debugger session.
include(CheckLinkerFlag)

set(TOWNHALL_LINKER "" CACHE STRING "Linker for -fuse-ld= (empty: lld, else gold, else the default)")
set(th_linker_candidates lld gold)
if(TOWNHALL_LINKER)
  set(th_linker_candidates ${TOWNHALL_LINKER})
endif()
foreach(linker IN LISTS th_linker_candidates)
  if(linker STREQUAL "bfd")
    break()  # the compiler's default: nothing to add
  endif()
  check_linker_flag(CXX "-fuse-ld=${linker}" th_has_linker_${linker})
  if(th_has_linker_${linker})
    add_link_options(-fuse-ld=${linker})
    message(STATUS "Linker: ${linker}")
    break()
  endif()
endforeach()

option(TOWNHALL_FULL_DEBUG_INFO "Full debug info (-g) in RelWithDebInfo" OFF)
if(NOT TOWNHALL_FULL_DEBUG_INFO AND NOT TOWNHALL_SANITIZE)
  set(CMAKE_C_FLAGS_RELWITHDEBINFO "-O2 -g1 -DNDEBUG")
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2 -g1 -DNDEBUG")
endif()

# Unity builds: the sources of each library (and each test executable of
# several files) compile in batches as one translation unit. Most of a
# file's compile time is parsing and instantiating the same headers (gRPC,
# protobuf, the generated API): health.grpc.pb.cc, a service of two
# methods, takes 19 s alone. Files of one target therefore must not define
# the same name twice, even in an anonymous namespace. A cold build of the
# tree on the 2-core machine: 58 min of CPU (30 min wall) file by file,
# 41 min (21.5 min wall) in batches; most of what is left is the hundred
# single-file test executables, which batching cannot join.
# -DTOWNHALL_UNITY_BUILD=OFF compiles file by file (a quicker edit-compile
# loop on one file).
option(TOWNHALL_UNITY_BUILD "Compile each target's sources in batches" ON)
if(TOWNHALL_UNITY_BUILD)
  set(CMAKE_UNITY_BUILD ON)
  set(CMAKE_UNITY_BUILD_BATCH_SIZE 8)
endif()
