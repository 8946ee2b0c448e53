# Instrumented builds, each in a build folder of its own (tests/run.sh):
#   -DTOWNHALL_SANITIZE=ON  everything under AddressSanitizer (with
#                           LeakSanitizer) and UndefinedBehaviorSanitizer;
#                           `tests/run.sh --sanitize` runs the suite on it.
#   -DTOWNHALL_FUZZ=ON      (clang only) the libFuzzer targets of tests/fuzz;
#                           the code under test is built with
#                           -fsanitize=fuzzer-no-link for coverage feedback.
#                           `tests/run.sh --fuzz=SECONDS` runs them.
# Undefined behaviour aborts (-fno-sanitize-recover) instead of printing and
# going on, so a test or a fuzz run cannot pass through it.
option(TOWNHALL_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
option(TOWNHALL_FUZZ "Build the libFuzzer targets (clang)" OFF)

set(th_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
if(TOWNHALL_SANITIZE AND TOWNHALL_FUZZ)
  message(FATAL_ERROR "TOWNHALL_SANITIZE and TOWNHALL_FUZZ need separate build folders")
endif()
if(TOWNHALL_SANITIZE)
  # -Og -g1 instead of -O2 -g: ASan + UBSan at -O2 -g compile three times
  # slower (question_service.cc: 87 s against 29 s), and this build only runs
  # the tests. -g1 keeps the line tables the reports' stack traces need.
  set(CMAKE_C_FLAGS_RELWITHDEBINFO "-Og -g1 -DNDEBUG")
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-Og -g1 -DNDEBUG")
  add_compile_options(${th_sanitizers})
  add_link_options(${th_sanitizers})
endif()
if(TOWNHALL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TOWNHALL_FUZZ needs clang (CC=clang-14 CXX=clang++-14)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link ${th_sanitizers})
  add_link_options(${th_sanitizers})
endif()

# Under sanitizers every process is several times slower, and CI runs two
# tests at once on two cores: a directory that sets TIMEOUTs calls
# th_scale_test_timeouts() once, and at the end of that directory each of
# its tests' TIMEOUT is multiplied, so a timeout still means a hang.
set(TOWNHALL_SANITIZE_TIMEOUT_SCALE 3)
function(th_scale_test_timeouts_now)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    get_test_property(${test} TIMEOUT timeout)
    if(timeout)
      math(EXPR timeout "${timeout} * ${TOWNHALL_SANITIZE_TIMEOUT_SCALE}")
      set_tests_properties(${test} PROPERTIES TIMEOUT ${timeout})
    endif()
  endforeach()
endfunction()
macro(th_scale_test_timeouts)
  if(TOWNHALL_SANITIZE)
    cmake_language(DEFER CALL th_scale_test_timeouts_now)
  endif()
endmacro()
