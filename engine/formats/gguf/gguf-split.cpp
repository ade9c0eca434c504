// Split GGUF models: name parsing, opening and cross-checking a shard set, and writing one. The
// shard set is found from the file names (gguf-split's "%s-%05d-of-%05d.gguf") and checked
// against each shard's split.* keys, so a renamed or stray shard is an error, never a silent mix.
#include "formats/gguf/gguf-split.h"

#include "formats/gguf/gguf-writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace moe::gguf {

namespace {

constexpr int kMaxShards = 99999; // five digits in the file name

// An integer split key of file f in [lo, hi]; `required` decides whether absence is an error.
Status splitKey(const GgufFile& f, const char* key, int64_t lo, int64_t hi, bool required,
                int64_t& out) {
    const MetaValue* v = f.find(key);
    if (!v) {
        if (!required) return Status::ok();
        return Status(StatusCode::CorruptFile,
                      f.path() + ": metadata key '" + key + "' is missing (a split model's shard)");
    }
    const std::optional<int64_t> x = v->type == ValueType::Bool ? std::nullopt : v->asInt();
    if (!x)
        return Status(StatusCode::CorruptFile, f.path() + ": metadata key '" + key + "' is " +
                                                   valueTypeName(v->type) +
                                                   ", expected an integer");
    if (*x < lo || *x > hi)
        return Status(StatusCode::CorruptFile, f.path() + ": metadata key '" + key +
                                                   "' = " + std::to_string(*x) +
                                                   " is out of range [" + std::to_string(lo) +
                                                   ", " + std::to_string(hi) + "]");
    out = *x;
    return Status::ok();
}

MetaValue intValue(ValueType type, int64_t x) {
    MetaValue v;
    v.type = type;
    v.u = uint64_t(x);
    v.i = x;
    return v;
}

} // namespace

std::optional<SplitName> parseSplitName(const std::string& path) {
    static const std::string kTail = ".gguf";
    // "-NNNNN-of-MMMMM.gguf" is 20 characters.
    const size_t tailLen = 1 + 5 + 4 + 5 + kTail.size();
    if (path.size() <= tailLen) return std::nullopt;
    const std::string t = path.substr(path.size() - tailLen);
    auto digits = [&](size_t at, int& out) {
        out = 0;
        for (size_t i = at; i < at + 5; ++i) {
            if (t[i] < '0' || t[i] > '9') return false;
            out = out * 10 + (t[i] - '0');
        }
        return true;
    };
    SplitName s;
    if (t[0] != '-' || t.compare(6, 4, "-of-") != 0 || t.compare(15, kTail.size(), kTail) != 0)
        return std::nullopt;
    if (!digits(1, s.no) || !digits(10, s.count) || s.no < 1 || s.no > s.count) return std::nullopt;
    s.prefix = path.substr(0, path.size() - tailLen);
    return s;
}

std::string splitName(const std::string& prefix, int no, int count) {
    char tail[32];
    std::snprintf(tail, sizeof tail, "-%05d-of-%05d.gguf", no, count);
    return prefix + tail;
}

Result<GgufModelFiles> GgufModelFiles::open(const std::string& path) {
    MOE_ASSIGN_OR_RETURN(GgufFile given, GgufFile::open(path));
    GgufModelFiles out;
    int64_t count = 1, no = 0;
    MOE_TRY(splitKey(given, "split.count", 1, kMaxShards, false, count));
    if (count == 1) {
        MOE_TRY(splitKey(given, "split.no", 0, 0, false, no));
        out.m_files.push_back(std::move(given));
    } else {
        MOE_TRY(splitKey(given, "split.no", 0, count - 1, true, no));
        const std::optional<SplitName> name = parseSplitName(path);
        if (!name)
            return Status(StatusCode::CorruptFile,
                          path + ": split.count = " + std::to_string(count) +
                              " but the name does not end in -NNNNN-of-MMMMM.gguf, so the "
                              "other shards cannot be found");
        if (name->count != count || name->no != no + 1)
            return Status(StatusCode::CorruptFile, path + ": split.no = " + std::to_string(no) +
                                                       ", split.count = " + std::to_string(count) +
                                                       " disagree with the file name (shard " +
                                                       std::to_string(name->no) + " of " +
                                                       std::to_string(name->count) + ")");
        out.m_files.reserve(size_t(count));
        for (int i = 0; i < int(count); ++i) {
            if (i == int(no)) {
                out.m_files.push_back(std::move(given));
                continue;
            }
            const std::string p = splitName(name->prefix, i + 1, int(count));
            std::error_code ec;
            if (!std::filesystem::exists(p, ec))
                return Status(StatusCode::NotFound, p + ": shard " + std::to_string(i + 1) +
                                                        " of " + std::to_string(count) + " of " +
                                                        path + " is missing");
            MOE_ASSIGN_OR_RETURN(GgufFile shard, GgufFile::open(p));
            int64_t shardCount = 0, shardNo = 0;
            MOE_TRY(splitKey(shard, "split.count", 1, kMaxShards, true, shardCount));
            if (shardCount != count)
                return Status(StatusCode::CorruptFile,
                              p + ": metadata key 'split.count' = " + std::to_string(shardCount) +
                                  ", expected " + std::to_string(count) + " as in " + path);
            MOE_TRY(splitKey(shard, "split.no", 0, count - 1, true, shardNo));
            if (shardNo != i)
                return Status(StatusCode::CorruptFile,
                              p + ": metadata key 'split.no' = " + std::to_string(shardNo) +
                                  ", expected " + std::to_string(i) + " (its file name)");
            out.m_files.push_back(std::move(shard));
        }
    }
    for (uint32_t fi = 0; fi < out.m_files.size(); ++fi) {
        const std::vector<TensorEntry>& ts = out.m_files[fi].tensors();
        for (uint32_t ti = 0; ti < ts.size(); ++ti) {
            auto [it, fresh] = out.m_index.emplace(ts[ti].name, std::make_pair(fi, ti));
            if (!fresh)
                return Status(StatusCode::CorruptFile, out.m_files[fi].path() + ": tensor '" +
                                                           ts[ti].name + "' is also in " +
                                                           out.m_files[it->second.first].path());
        }
    }
    if (out.m_files.size() > 1) {
        for (const GgufFile& f : out.m_files) {
            int64_t total = -1;
            MOE_TRY(splitKey(f, "split.tensors.count", 0, INT32_MAX, false, total));
            if (total >= 0 && uint64_t(total) != out.m_index.size())
                return Status(
                    StatusCode::CorruptFile,
                    f.path() + ": metadata key 'split.tensors.count' = " + std::to_string(total) +
                        " but the " + std::to_string(out.m_files.size()) + " shards hold " +
                        std::to_string(out.m_index.size()) + " tensors");
        }
    }
    return out;
}

GgufModelFiles::Located GgufModelFiles::find(std::string_view name) const {
    auto it = m_index.find(std::string(name));
    if (it == m_index.end()) return {};
    const GgufFile& f = m_files[it->second.first];
    return {&f, &f.tensors()[it->second.second]};
}

uint64_t GgufModelFiles::totalBytes() const {
    uint64_t n = 0;
    for (const GgufFile& f : m_files)
        n += f.fileSize();
    return n;
}

Status writeSplit(const GgufFile& src, const std::string& prefix, int count) {
    const std::vector<TensorEntry>& ts = src.tensors();
    if (count < 1 || count > kMaxShards || size_t(count) > ts.size())
        return Status(StatusCode::InvalidArgument,
                      src.path() + ": cannot split " + std::to_string(ts.size()) +
                          " tensors into " + std::to_string(count) + " shards");
    for (int i = 0; i < count; ++i) {
        GgufWriter w;
        w.setAlignment(src.alignment());
        for (const MetaEntry& e : src.metadata()) {
            if (e.key.rfind("split.", 0) == 0)
                continue; // re-splitting: the new set's keys replace them
            if (i == 0 || e.key == "general.alignment") w.addValue(e.key, e.value);
        }
        w.addValue("split.no", intValue(ValueType::UInt16, i));
        w.addValue("split.count", intValue(ValueType::UInt16, count));
        w.addValue("split.tensors.count", intValue(ValueType::Int32, int64_t(ts.size())));
        const size_t begin = size_t(i) * ts.size() / size_t(count),
                     end = size_t(i + 1) * ts.size() / size_t(count);
        for (size_t t = begin; t < end; ++t) {
            const TensorEntry* entry = &ts[t];
            MOE_TRY(w.addTensor(entry->name, entry->ne, GgmlType(entry->type),
                                [&src, entry](std::span<uint8_t> out) {
                                    std::memcpy(out.data(), src.tensorData(*entry), out.size());
                                    return Status::ok();
                                }));
        }
        MOE_TRY(w.write(splitName(prefix, i + 1, count)));
    }
    return Status::ok();
}

} // namespace moe::gguf
