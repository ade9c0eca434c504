// Split GGUF models as llama.cpp's gguf-split writes them (model-formats.md §9.4): shards named
// "<prefix>-00001-of-00003.gguf", each a complete GGUF with its own header and tensor infos; every
// shard carries split.no (0-based), split.count and split.tensors.count (tensors of the whole
// model); the first shard (split.no 0) also carries all model metadata. GgufModelFiles opens a
// model from any of its shards (or a plain single file), checks the set, and answers tensor
// look-ups across all shards; writeSplit makes such a set from one file.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moe::gguf {

struct SplitName {
    std::string prefix; // path up to "-00001-of-00003.gguf"
    int no = 0;         // 1-based, as in the file name
    int count = 0;
};

// "<prefix>-NNNNN-of-MMMMM.gguf" (five digits each, 1 <= NNNNN <= MMMMM) -> parts; nullopt for
// any other name.
std::optional<SplitName> parseSplitName(const std::string& path);
// The inverse: shard `no` (1-based) of `count`.
std::string splitName(const std::string& prefix, int no, int count);

// One GGUF model: a single file, or every shard of a split model. Movable; tensor entries and data
// pointers stay valid while the object lives (moves included).
class GgufModelFiles {
public:
    // Opens path. A file without split.count (or with split.count 1) is the whole model. A shard
    // (split.count > 1) opens all its siblings, named after path, and checks that each exists, has
    // split.no = its position and the same split.count, that split.tensors.count matches the
    // tensors found, and that every tensor name occurs in exactly one shard. Errors name the file
    // (and key or tensor) at fault.
    static Result<GgufModelFiles> open(const std::string& path);

    // The file with the model metadata (the first shard).
    const GgufFile& meta() const { return m_files.front(); }
    // All files in shard order (one for an unsplit model).
    const std::vector<GgufFile>& files() const { return m_files; }

    struct Located {
        const GgufFile* file = nullptr;
        const TensorEntry* tensor = nullptr;
    };
    // The tensor and the shard holding it; {nullptr, nullptr} when no shard has it.
    Located find(std::string_view name) const;
    const TensorEntry* tensor(std::string_view name) const { return find(name).tensor; }
    uint64_t tensorCount() const { return m_index.size(); }
    uint64_t totalBytes() const; // sum of the files' sizes

private:
    std::vector<GgufFile> m_files;
    std::unordered_map<std::string, std::pair<uint32_t, uint32_t>>
        m_index; // name -> (file, tensor)
};

// Writes src as `count` shards splitName(prefix, i, count), i = 1..count, the way gguf-split does:
// tensors in src order, divided into `count` runs of nearly equal tensor counts; all metadata in
// the first shard; split.no (u16), split.count (u16), split.tensors.count (i32) in every shard.
// Tensor bytes are copied as stored (any type). Needs 1 <= count <= number of tensors.
Status writeSplit(const GgufFile& src, const std::string& prefix, int count);

} // namespace moe::gguf
