// libFuzzer target: .npy files, as kiln-run and kiln-bench read them (bundle/npy.h). Each input
// must parse or be rejected with a kiln::Error; its data is bounded by the input's length.
#include "bundle/npy.h"
#include "fuzz/harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes = kiln::fuzz::text_of(data, size);
  kiln::fuzz::guarded([&] { kiln::bundle::parse_npy(bytes, "fuzz.npy"); });
  return 0;
}
