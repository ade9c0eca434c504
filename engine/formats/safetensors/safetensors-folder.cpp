// SafetensorsFolder: index.json parsing (nlohmann/json, no exceptions) and the name -> shard map.
#include "formats/safetensors/safetensors-folder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace moe::st {

Result<SafetensorsFolder> SafetensorsFolder::open(const std::string& dir) {
    namespace fs = std::filesystem;
    SafetensorsFolder out;
    out.m_dir = dir;
    const std::string indexPath = dir + "/model.safetensors.index.json";
    const std::string singlePath = dir + "/model.safetensors";
    std::error_code ec;
    if (fs::exists(indexPath, ec)) {
        out.m_sharded = true;
        std::ifstream in(indexPath, std::ios::binary);
        if (!in) return Status(StatusCode::IoError, indexPath + ": cannot open");
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return Status(StatusCode::CorruptFile, indexPath + ": not a JSON object");
        auto wm = j.find("weight_map");
        if (wm == j.end() || !wm->is_object() || wm->empty())
            return Status(StatusCode::CorruptFile, indexPath + ": 'weight_map' is missing, empty or not an object");
        std::map<std::string, size_t> shardIndex; // file name -> index into m_files
        std::vector<std::pair<std::string, std::string>> entries;
        for (auto it = wm->begin(); it != wm->end(); ++it) {
            if (!it.value().is_string())
                return Status(StatusCode::CorruptFile, indexPath + ": weight_map['" + it.key() + "'] is not a file name");
            const std::string file = it.value().get<std::string>();
            if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
                return Status(StatusCode::CorruptFile, indexPath + ": weight_map['" + it.key() + "'] = '" + file +
                                                           "' is not a file name in the folder");
            shardIndex.emplace(file, 0);
            entries.emplace_back(it.key(), file);
        }
        out.m_files.reserve(shardIndex.size());
        for (auto& [file, idx] : shardIndex) {
            MOE_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(dir + "/" + file));
            idx = out.m_files.size();
            out.m_files.push_back(std::move(f));
        }
        for (const auto& [name, file] : entries) {
            const size_t idx = shardIndex[file];
            const Tensor* t = out.m_files[idx].tensor(name);
            if (!t)
                return Status(StatusCode::CorruptFile, indexPath + ": weight_map puts tensor '" + name + "' in " + file +
                                                           ", which does not hold it");
            out.m_where.emplace(name, std::make_pair(idx, t));
        }
        for (size_t i = 0; i < out.m_files.size(); ++i)
            for (const Tensor& t : out.m_files[i].tensors()) {
                auto it = out.m_where.find(t.name);
                if (it == out.m_where.end())
                    return Status(StatusCode::CorruptFile, out.m_files[i].path() + ": tensor '" + t.name +
                                                               "' is not listed in " + indexPath);
                if (it->second.first != i)
                    return Status(StatusCode::CorruptFile, out.m_files[i].path() + ": tensor '" + t.name +
                                                               "' also appears in " + out.m_files[it->second.first].path());
            }
        return out;
    }
    if (!fs::exists(singlePath, ec))
        return Status(StatusCode::NotFound, dir + ": neither model.safetensors.index.json nor model.safetensors exists");
    MOE_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(singlePath));
    out.m_files.push_back(std::move(f));
    for (const Tensor& t : out.m_files[0].tensors()) out.m_where.emplace(t.name, std::make_pair(size_t(0), &t));
    return out;
}

SafetensorsFolder::Located SafetensorsFolder::find(std::string_view name) const {
    auto it = m_where.find(std::string(name));
    if (it == m_where.end()) return {};
    return {it->second.second, &m_files[it->second.first]};
}

std::vector<std::string> SafetensorsFolder::names() const {
    std::vector<std::string> out;
    for (const auto& [name, where] : m_where) out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace moe::st
