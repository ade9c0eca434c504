// Safetensors reader: one memory-mapped .safetensors file (model-formats.md §8.1-§8.2). The 8-byte
// header length is bounded before anything is allocated, the JSON header is parsed with
// nlohmann/json, and every tensor entry is validated the way the reference parser does it: known
// dtype, non-negative shape whose byte size fits, data_offsets inside the byte buffer, tensors
// tiling the buffer from 0 with no overlap, hole or trailing byte. Tensor bytes stay in the
// mapping (no copy); they may be unaligned, so readers use memcpy-style loads.
#pragma once

#include "core/mapped-file.h"
#include "moe/status.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moe::st {

// Every dtype string of §8.2. bits() is the element width (6 and 4 for the sub-byte MX types).
enum class Dtype {
    Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64, C64,
    F8E4M3, F8E5M2, F8E4M3Fnuz, F8E5M2Fnuz, F8E8M0, F6E2M3, F6E3M2, F4,
};

// "F8_E4M3" -> Dtype; false for an unknown string.
bool parseDtype(std::string_view name, Dtype& out);
const char* dtypeName(Dtype d);
int dtypeBits(Dtype d);

// Decodes one float8 e4m3 "fn" byte (bias 7, max 448, no infinities, S.1111.111 = NaN).
float f8e4m3ToF32(uint8_t v);

struct Tensor {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<int64_t> shape; // PyTorch order, slowest first; [] = scalar
    uint64_t begin = 0;         // data_offsets, relative to the byte buffer
    uint64_t end = 0;
    uint64_t elements = 0;
    const uint8_t* data = nullptr; // into the mapping; possibly unaligned
    uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
public:
    // Reference parser's limit on the JSON header (§8.1).
    static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

    // Maps and validates path. Errors (CorruptFile) name the file and the tensor, field or byte
    // count at fault; IoError when the file cannot be opened or mapped.
    static Result<SafetensorsFile> open(const std::string& path);

    const std::string& path() const { return m_file.path(); }
    uint64_t fileSize() const { return m_file.size(); }
    uint64_t headerBytes() const { return m_headerBytes; }
    // Tensors in data_offsets order.
    const std::vector<Tensor>& tensors() const { return m_tensors; }
    const Tensor* tensor(std::string_view name) const;
    // The "__metadata__" string map (empty when absent).
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }

private:
    MappedFile m_file;
    uint64_t m_headerBytes = 0;
    std::vector<Tensor> m_tensors;
    std::unordered_map<std::string, size_t> m_index;
    std::map<std::string, std::string> m_metadata;
};

// Converts a floating tensor (F32, F16, BF16, F64, F8_E4M3) to float32 into out[elements].
// Unsupported dtypes give Unsupported naming the file (path) and the tensor.
Status toF32(const Tensor& t, const std::string& path, std::vector<float>& out);

// DeepSeek-V3 block FP8 (§2.2): w [out, in] F8_E4M3 with scaleInv [ceil(out/128), ceil(in/128)]
// float32 (F32 or BF16 accepted); W[i, j] = fp8(w[i, j]) * scaleInv[i / block, j / block].
// out gets [out * in] floats. Shape mismatches name both tensors.
Status dequantizeFp8Blocks(const Tensor& w, const Tensor& scaleInv, const std::string& path,
                           std::vector<float>& out, int64_t block = 128);

} // namespace moe::st
