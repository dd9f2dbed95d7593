// libFuzzer target: IR bundles (manifest, IR files, weights blob). An input holds the bundle's
// files, each after a line "=== NAME" (see fuzz/make_corpus.py); it is split back into files
// and given to the loader, which must load it or reject it with a kiln::Error.
#include "bundle/bundle.h"
#include "fuzz/harness.h"

using namespace kiln;

namespace {

bundle::Files split(const std::string& s) {
  bundle::Files files;
  const std::string mark = "=== ";
  size_t at = s.compare(0, mark.size(), mark) == 0 ? 0 : s.find("\n" + mark);
  while (at != std::string::npos) {
    size_t name_begin = at + (s[at] == '\n' ? 1 : 0) + mark.size();
    size_t name_end = s.find('\n', name_begin);
    if (name_end == std::string::npos) break;
    size_t next = s.find("\n" + mark, name_end);
    files[s.substr(name_begin, name_end - name_begin)] =
        s.substr(name_end + 1, next == std::string::npos ? std::string::npos : next - name_end - 1);
    at = next;
  }
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::text_of(data, size);
  fuzz::guarded([&] { bundle::load_files(split(text), "fuzz"); });
  return 0;
}
