// libFuzzer target: SafetensorsFile::open on arbitrary bytes, then each tensor's bytes and its
// conversion to float32 (the path a loader takes for F32/F16/BF16/F64/F8 weights).
#include "formats/safetensors/safetensors-file.h"
#include "fuzz-input-file.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = moe::fuzz::writeInputFile(data, size);
    auto file = moe::st::SafetensorsFile::open(path);
    if (!file.isOk()) return 0;
    size_t sink = 0;
    std::vector<float> out;
    for (const auto& t : file.value().tensors()) {
        if (t.bytes() > 0) sink += t.data[0] + t.data[t.bytes() - 1];
        if (t.elements <= (1u << 16)) (void)moe::st::toF32(t, path, out);
    }
    for (const auto& [k, v] : file.value().metadata())
        sink += k.size() + v.size();
    return sink == size_t(-1) ? 1 : 0;
}
