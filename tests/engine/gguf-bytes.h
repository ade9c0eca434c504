// GgufBytes: builds GGUF byte streams field by field, so tests can make exactly the malformed
// files they mean (a wrong count here, an offset past the end there).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

struct GgufBytes {
    std::vector<uint8_t> b;
    template <class T> GgufBytes& put(T v) {
        size_t n = b.size();
        b.resize(n + sizeof(T));
        std::memcpy(b.data() + n, &v, sizeof(T));
        return *this;
    }
    GgufBytes& str(const std::string& s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    GgufBytes& header(uint64_t nTensors, uint64_t nKv, uint32_t version = 3) {
        return put<uint32_t>(0x46554747).put<uint32_t>(version).put<uint64_t>(nTensors).put<uint64_t>(nKv);
    }
    GgufBytes& kvU32(const std::string& key, uint32_t v) { return str(key).put<uint32_t>(4).put<uint32_t>(v); }
    GgufBytes& kvStr(const std::string& key, const std::string& v) { return str(key).put<uint32_t>(8).str(v); }
    GgufBytes& tensorInfo(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).put<uint32_t>(uint32_t(ne.size()));
        for (uint64_t d : ne) put<uint64_t>(d);
        return put<uint32_t>(type).put<uint64_t>(offset);
    }
    GgufBytes& align(size_t a = 32) {
        b.resize(b.size() + (a - b.size() % a) % a, 0);
        return *this;
    }
    GgufBytes& zeros(size_t n) {
        b.resize(b.size() + n, 0);
        return *this;
    }
};
