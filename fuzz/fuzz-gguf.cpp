// libFuzzer target: GgufFile::open on arbitrary bytes, then every accessor a loader uses
// (typed getters, display of each value, tensor data pointers inside the mapping).
#include "formats/gguf/gguf-reader.h"
#include "fuzz-input-file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = moe::fuzz::writeInputFile(data, size);
    auto file = moe::gguf::GgufFile::open(path);
    if (!file.isOk()) return 0;
    const moe::gguf::GgufFile& f = file.value();
    size_t sink = 0;
    for (const auto& m : f.metadata()) {
        sink += m.value.display().size();
        (void)m.value.asInt();
        (void)m.value.asNumber();
        (void)f.getInt(m.key);
        (void)f.getString(m.key);
    }
    for (const auto& t : f.tensors()) {
        // The reader promises every tensor's bytes lie inside the file: touch the first and last.
        if (t.bytes > 0) {
            const uint8_t* p = f.tensorData(t);
            sink += p[0] + p[t.bytes - 1];
        }
    }
    return sink == size_t(-1) ? 1 : 0;
}
