// Safetensors writer (model-formats.md §8.1): a JSON header padded with spaces to a multiple of
// 8 bytes, then the tensors back to back in the order the reference writer uses (dtype width
// descending, then name), so every tensor starts aligned to its element size. Tensor bytes come
// from a callback at write time (one tensor in memory at a time); the file is written to
// "<path>.part" and renamed into place, so a reader never sees a half-written file.
#pragma once

#include "formats/safetensors/safetensors-file.h"
#include "moe/status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace moe::st {

class SafetensorsWriter {
public:
    // Fills exactly the tensor's byte size.
    using Producer = std::function<Status(std::span<uint8_t> out)>;

    // Fails (InvalidArgument) on a duplicate or reserved name, or a size that is not whole bytes.
    Status addTensor(const std::string& name, Dtype dtype, std::vector<int64_t> shape, Producer producer);
    void setMetadata(const std::string& key, const std::string& value) { m_metadata[key] = value; }
    uint64_t dataBytes() const { return m_dataBytes; }
    std::vector<std::string> tensorNames() const;

    Status write(const std::string& path) const;

private:
    struct Pending {
        std::string name;
        Dtype dtype;
        std::vector<int64_t> shape;
        uint64_t bytes;
        Producer producer;
    };
    std::vector<Pending> m_tensors;
    std::map<std::string, std::string> m_metadata;
    uint64_t m_dataBytes = 0;
};

// Writes model.safetensors.index.json (§8.3): {"metadata": {"total_size": N}, "weight_map":
// {tensor: shard file name}}, atomically.
Status writeSafetensorsIndex(const std::string& path, const std::vector<std::pair<std::string, std::string>>& weightMap,
                             uint64_t totalSize);

} // namespace moe::st
