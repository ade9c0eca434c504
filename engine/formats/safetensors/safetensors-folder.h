// SafetensorsFolder: the weights of a Hugging Face model folder, either one model.safetensors or
// the shards listed by model.safetensors.index.json (§8.3). Shard names are read from weight_map,
// never derived; every tensor must sit in the shard the index names, in exactly one shard.
#pragma once

#include "formats/safetensors/safetensors-file.h"
#include "moe/status.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moe::st {

class SafetensorsFolder {
public:
    // dir holds model.safetensors.index.json or model.safetensors. Errors name the index or shard
    // file and the tensor at fault.
    static Result<SafetensorsFolder> open(const std::string& dir);

    struct Located {
        const Tensor* tensor = nullptr;
        const SafetensorsFile* file = nullptr;
    };
    // nullptr fields when the name is absent.
    Located find(std::string_view name) const;
    const std::vector<SafetensorsFile>& files() const { return m_files; }
    // Every tensor name, sorted.
    std::vector<std::string> names() const;
    const std::string& dir() const { return m_dir; }
    bool sharded() const { return m_sharded; }

private:
    std::string m_dir;
    bool m_sharded = false;
    std::vector<SafetensorsFile> m_files;
    std::unordered_map<std::string, std::pair<size_t, const Tensor*>> m_where;
};

} // namespace moe::st
