// GGUF v3 writer: metadata of every value type, tensor infos, aligned data. Tensor bytes are
// produced one tensor at a time by a callback at write time, so writing a large model never holds
// more than one tensor in memory. The file is written to "<path>.part" and renamed into place.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/status.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace moe::gguf {

class GgufWriter {
public:
    // Fills exactly the tensor's byte size.
    using Producer = std::function<Status(std::span<uint8_t> out)>;

    void setAlignment(uint32_t alignment) { m_alignment = alignment; }

    void addUInt32(const std::string& key, uint32_t v);
    void addInt32(const std::string& key, int32_t v);
    void addUInt64(const std::string& key, uint64_t v);
    void addFloat32(const std::string& key, float v);
    void addBool(const std::string& key, bool v);
    void addString(const std::string& key, const std::string& v);
    void addStringArray(const std::string& key, const std::vector<std::string>& v);
    void addInt32Array(const std::string& key, const std::vector<int32_t>& v);
    void addFloat32Array(const std::string& key, const std::vector<float>& v);
    void addValue(const std::string& key, MetaValue v);

    // ne in ggml order (fastest first). Fails on an unknown type or a row not made of whole blocks.
    Status addTensor(const std::string& name, std::vector<uint64_t> ne, GgmlType type,
                     Producer producer);

    Status write(const std::string& path) const;

private:
    struct PendingTensor {
        TensorEntry info;
        Producer producer;
    };
    uint32_t m_alignment = kDefaultAlignment;
    std::vector<MetaEntry> m_meta;
    std::vector<PendingTensor> m_tensors;
    uint64_t m_dataSize = 0;
};

} // namespace moe::gguf
