// Fuzzes the text folding used for duplicate detection
// (services/common/text_normalization.h). An input is two texts separated
// by the first NUL byte (the second is empty without one); seeds are
// organization names and questions in several scripts. Checks what the
// header promises: valid UTF-8 in, valid UTF-8 out (also through the ICU
// transforms and the confusable skeleton); Similarity in [0, 1], symmetric
// and 1.0 for a text against itself.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/common/text_normalization.h"
#include "services/common/validation.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsUtf8(absl::string_view text) {
  return townhall::CountCodePoints("text", text).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const absl::string_view a = input.substr(0, nul);
  const absl::string_view b =
      nul == absl::string_view::npos ? "" : input.substr(nul + 1);

  const std::string normalized = townhall::NormalizeForMatching(a);
  // The second text picks a transform by its language subtag, as a tag.
  const std::string latin = townhall::TransliterateToLatin(normalized, b);
  const std::string latin_key = townhall::LatinMatchKey(a);
  const std::string skeleton_key = townhall::SkeletonMatchKey(a);
  const std::vector<std::string> tokens = townhall::MatchTokens(a);
  if (IsUtf8(a)) {
    FUZZ_CHECK(IsUtf8(normalized));
    FUZZ_CHECK(IsUtf8(latin));
    FUZZ_CHECK(IsUtf8(latin_key));
    FUZZ_CHECK(IsUtf8(skeleton_key));
    for (const std::string& token : tokens) {
      FUZZ_CHECK(!token.empty());
      FUZZ_CHECK(IsUtf8(token));
    }
  }

  const double ab = townhall::Similarity(a, b);
  const double ba = townhall::Similarity(b, a);
  FUZZ_CHECK(ab >= 0.0 && ab <= 1.0);
  FUZZ_CHECK(std::fabs(ab - ba) < 1e-9);
  FUZZ_CHECK(townhall::Similarity(a, a) == 1.0);
  return 0;
}
