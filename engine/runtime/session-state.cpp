// Session state files: a session's cached tokens and KV rows, so a prompt computed once can be
// resumed later (see Session::saveState). Layout, little-endian:
//   "MOESTATE" u32 version=1 | u64 header bytes | header JSON | i32 tokens[n] |
//   per layer: f32 K rows [n, kDim], then f32 V rows [n, vDim]
// The JSON header names what the rows depend on: the model's architecture, shape and weights,
// the cache widths and the expert policy; restore refuses a file whose header differs.
#include "runtime/session-impl.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace moe {

namespace {

constexpr char kMagic[8] = {'M', 'O', 'E', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;

nlohmann::json describe(const SessionImpl& s) {
    const ModelInfo& info = s.model->info();
    const ModelSpec& spec = info.spec;
    const KvGeometry kv = s.forward->kvGeometry();
    uint64_t biasHash = 1469598103934665603ull; // FNV-1a over the domain bias bits
    for (float b : s.policy.domainBias) {
        uint32_t bits;
        std::memcpy(&bits, &b, sizeof bits);
        for (int i = 0; i < 4; ++i) biasHash = (biasHash ^ ((bits >> (8 * i)) & 0xff)) * 1099511628211ull;
    }
    return {{"architecture", spec.architecture}, {"family", spec.family},   {"n_layer", spec.nLayer},
            {"n_embd", spec.nEmbd},              {"n_vocab", spec.nVocab},  {"parameters", info.parameterCount},
            {"weight_bytes", info.weightBytes},  {"k_dim", kv.kDim},       {"v_dim", kv.vDim},
            {"sliding_window", s.slidingWindow >= 0 ? s.slidingWindow : spec.slidingWindow},
            {"policy", {{"max_experts", s.policy.maxExperts}, {"threshold", s.policy.threshold},
                        {"domain_bias_hash", s.policy.domainBias.empty() ? 0 : biasHash}}}};
}

} // namespace

Status SessionImpl::saveState(const std::string& path) const {
    const KvGeometry kv = forward->kvGeometry();
    const int n = int(cached.size());
    nlohmann::json header = describe(*this);
    header["tokens"] = n;
    const std::string text = header.dump();
    const std::string tmp = path + ".part";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status(StatusCode::IoError, tmp + ": cannot create the session state file");
    const uint64_t headerBytes = text.size();
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
    out.write(reinterpret_cast<const char*>(&headerBytes), sizeof headerBytes);
    out.write(text.data(), std::streamsize(text.size()));
    out.write(reinterpret_cast<const char*>(cached.data()), std::streamsize(size_t(n) * sizeof(int32_t)));
    std::vector<float> rows;
    Status status = Status::ok();
    KvCache& c = const_cast<KvCache&>(cache); // layer pointers only; nothing is written
    for (int il = 0; il < model->spec().nLayer && status.isOk(); ++il) {
        for (int which = 0; which < 2 && status.isOk(); ++which) {
            const int width = which == 0 ? kv.kDim : kv.vDim;
            if (width == 0) continue;
            const float* base = which == 0 ? c.layerK(il) : c.layerV(il);
            rows.resize(size_t(n) * size_t(width));
            for (int p = 0; p < n && status.isOk(); ++p)
                status = backend().download(rows.data() + size_t(p) * size_t(width), base + c.row(0, p) * width,
                                            size_t(width) * sizeof(float));
            out.write(reinterpret_cast<const char*>(rows.data()), std::streamsize(rows.size() * sizeof(float)));
        }
    }
    out.close();
    if (!status.isOk() || !out) {
        std::remove(tmp.c_str());
        return status.isOk() ? Status(StatusCode::IoError, tmp + ": write failed (disk full?)") : status;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return Status(StatusCode::IoError, path + ": cannot move the state file into place: " + ec.message());
    }
    return Status::ok();
}

Status SessionImpl::restoreState(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::NotFound, path + ": cannot open the session state file");
    char magic[8];
    uint32_t version = 0;
    uint64_t headerBytes = 0;
    in.read(magic, sizeof magic);
    in.read(reinterpret_cast<char*>(&version), sizeof version);
    in.read(reinterpret_cast<char*>(&headerBytes), sizeof headerBytes);
    if (!in || std::memcmp(magic, kMagic, sizeof kMagic) != 0)
        return Status(StatusCode::CorruptFile, path + ": not a MoE Studio session state file");
    if (version != kVersion)
        return Status(StatusCode::Unsupported, path + ": session state version " + std::to_string(version) +
                                                   " (this build reads " + std::to_string(kVersion) + ")");
    std::error_code ec;
    const uint64_t fileBytes = std::filesystem::file_size(path, ec);
    if (ec || headerBytes > fileBytes) return Status(StatusCode::CorruptFile, path + ": header size is past the end");
    std::string text(size_t(headerBytes), '\0');
    in.read(text.data(), std::streamsize(headerBytes));
    const nlohmann::json header = nlohmann::json::parse(text, nullptr, false);
    if (!in || header.is_discarded() || !header.is_object() || !header.contains("tokens") ||
        !header["tokens"].is_number_integer())
        return Status(StatusCode::CorruptFile, path + ": the header is not valid JSON");
    nlohmann::json mine = describe(*this);
    for (auto it = mine.begin(); it != mine.end(); ++it)
        if (!header.contains(it.key()) || header[it.key()] != it.value())
            return Status(StatusCode::InvalidArgument,
                          path + ": the state was saved for another " + it.key() + " (" +
                              (header.contains(it.key()) ? header[it.key()].dump() : std::string("none")) +
                              ", this session has " + it.value().dump() + ")");
    const int64_t n = header["tokens"].get<int64_t>();
    const KvGeometry kv = forward->kvGeometry();
    const uint64_t want = sizeof kMagic + sizeof version + sizeof headerBytes + headerBytes +
                          uint64_t(std::max<int64_t>(n, 0)) * sizeof(int32_t) +
                          uint64_t(std::max<int64_t>(n, 0)) * uint64_t(model->spec().nLayer) *
                              uint64_t(kv.kDim + kv.vDim) * sizeof(float);
    if (n < 0 || fileBytes != want)
        return Status(StatusCode::CorruptFile, path + ": " + std::to_string(fileBytes) + " bytes, expected " +
                                                   std::to_string(want) + " for " + std::to_string(n) +
                                                   " tokens (truncated or corrupt)");
    if (n > cache.capacity())
        return Status(StatusCode::InvalidArgument, path + ": " + std::to_string(n) +
                                                       " tokens exceed this session's context size " +
                                                       std::to_string(cache.capacity()));
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    in.read(reinterpret_cast<char*>(tokens.data()), std::streamsize(tokens.size() * sizeof(int32_t)));
    for (int32_t id : tokens)
        if (id < 0 || id >= model->spec().nVocab)
            return Status(StatusCode::CorruptFile, path + ": token id " + std::to_string(id) + " is outside the vocabulary");
    cached.clear(); // from here on the cache is being rewritten
    MOE_TRY(cache.reserve(0, int(n)));
    std::vector<float> rows;
    for (int il = 0; il < model->spec().nLayer; ++il) {
        for (int which = 0; which < 2; ++which) {
            const int width = which == 0 ? kv.kDim : kv.vDim;
            if (width == 0) continue;
            float* base = which == 0 ? cache.layerK(il) : cache.layerV(il);
            rows.resize(size_t(n) * size_t(width));
            in.read(reinterpret_cast<char*>(rows.data()), std::streamsize(rows.size() * sizeof(float)));
            if (!in) return Status(StatusCode::CorruptFile, path + ": rows end early");
            for (int64_t p = 0; p < n; ++p)
                MOE_TRY(backend().upload(base + cache.row(0, int(p)) * width, rows.data() + size_t(p) * size_t(width),
                                         size_t(width) * sizeof(float)));
        }
    }
    MOE_TRY(backend().sync());
    cached = std::move(tokens);
    return Status::ok();
}

// A GPU binding is shared by the model's sessions: state transfers take its lock like forwards.
Status Session::saveState(const std::string& path) const {
    std::unique_lock<std::mutex> guard;
    if (m_impl->gpu) guard = std::unique_lock<std::mutex>(m_impl->gpu->lock);
    return m_impl->saveState(path);
}

Status Session::restoreState(const std::string& path) {
    std::unique_lock<std::mutex> guard;
    if (m_impl->gpu) guard = std::unique_lock<std::mutex>(m_impl->gpu->lock);
    return m_impl->restoreState(path);
}

} // namespace moe
