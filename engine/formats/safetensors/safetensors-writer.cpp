// Safetensors writer: header JSON via nlohmann/json, data streamed tensor by tensor.
#include "formats/safetensors/safetensors-writer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace moe::st {

namespace {

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};

// Writes bytes to path + ".part", then renames it onto path.
Status writeAtomically(const std::string& path, const std::function<Status(FILE*)>& body) {
    const std::string tmp = path + ".part";
    Status st;
    {
        std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
        if (!f) return Status(StatusCode::IoError, tmp + ": cannot create: " + std::strerror(errno));
        st = body(f.get());
        if (st.isOk() && std::fflush(f.get()) != 0)
            st = Status(StatusCode::IoError, tmp + ": write failed: " + std::strerror(errno));
    }
    if (st.isOk() && std::rename(tmp.c_str(), path.c_str()) != 0)
        st = Status(StatusCode::IoError, path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
    if (!st.isOk()) std::remove(tmp.c_str());
    return st;
}

Status writeBytes(FILE* f, const void* p, size_t n, const std::string& path) {
    if (n && std::fwrite(p, 1, n, f) != n)
        return Status(StatusCode::IoError, path + ".part: write failed: " + std::strerror(errno));
    return Status::ok();
}

} // namespace

Status SafetensorsWriter::addTensor(const std::string& name, Dtype dtype, std::vector<int64_t> shape,
                                    Producer producer) {
    if (name.empty() || name == "__metadata__")
        return Status(StatusCode::InvalidArgument, "safetensors writer: tensor name '" + name + "' is reserved");
    for (const Pending& p : m_tensors)
        if (p.name == name)
            return Status(StatusCode::InvalidArgument, "safetensors writer: tensor '" + name + "' added twice");
    uint64_t elements = 1;
    for (int64_t d : shape) {
        if (d < 0)
            return Status(StatusCode::InvalidArgument, "safetensors writer: tensor '" + name + "' has a negative dimension");
        elements *= uint64_t(d);
    }
    const uint64_t bits = elements * uint64_t(dtypeBits(dtype));
    if (bits % 8 != 0)
        return Status(StatusCode::InvalidArgument,
                      "safetensors writer: tensor '" + name + "' is not a whole number of bytes");
    m_tensors.push_back(Pending{name, dtype, std::move(shape), bits / 8, std::move(producer)});
    m_dataBytes += bits / 8;
    return Status::ok();
}

std::vector<std::string> SafetensorsWriter::tensorNames() const {
    std::vector<std::string> out;
    for (const Pending& p : m_tensors) out.push_back(p.name);
    return out;
}

Status SafetensorsWriter::write(const std::string& path) const {
    std::vector<const Pending*> order;
    for (const Pending& p : m_tensors) order.push_back(&p);
    std::sort(order.begin(), order.end(), [](const Pending* a, const Pending* b) {
        const int wa = dtypeBits(a->dtype), wb = dtypeBits(b->dtype);
        return wa != wb ? wa > wb : a->name < b->name;
    });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!m_metadata.empty()) header["__metadata__"] = m_metadata;
    uint64_t offset = 0;
    for (const Pending* p : order) {
        header[p->name] = {{"dtype", dtypeName(p->dtype)},
                           {"shape", p->shape},
                           {"data_offsets", {offset, offset + p->bytes}}};
        offset += p->bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t n = text.size();
    return writeAtomically(path, [&](FILE* f) -> Status {
        MOE_TRY(writeBytes(f, &n, 8, path));
        MOE_TRY(writeBytes(f, text.data(), text.size(), path));
        std::vector<uint8_t> buf;
        for (const Pending* p : order) {
            buf.assign(static_cast<size_t>(p->bytes), 0);
            Status st = p->producer(std::span<uint8_t>(buf));
            if (!st.isOk())
                return Status(st.code(), path + ": tensor '" + p->name + "': " + st.message());
            MOE_TRY(writeBytes(f, buf.data(), buf.size(), path));
        }
        return Status::ok();
    });
}

Status writeSafetensorsIndex(const std::string& path, const std::vector<std::pair<std::string, std::string>>& weightMap,
                             uint64_t totalSize) {
    nlohmann::ordered_json j;
    j["metadata"] = {{"total_size", totalSize}};
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (const auto& [name, file] : weightMap) map[name] = file;
    j["weight_map"] = map;
    const std::string text = j.dump(2) + "\n";
    return writeAtomically(path, [&](FILE* f) { return writeBytes(f, text.data(), text.size(), path); });
}

} // namespace moe::st
