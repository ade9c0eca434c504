// A small self-contained SHA-256 (FIPS 180-4) for model fingerprints, so the store needs no
// crypto library. Streaming: update() any number of times, then finishHex() once.
// Not constant-time and not meant for secrets; it identifies files.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace moe::projects {

class Sha256 {
public:
    Sha256();
    void update(std::span<const uint8_t> bytes);
    void update(std::string_view text);
    // The 32-byte digest; the object is spent afterwards (call reset() to reuse it).
    std::array<uint8_t, 32> finish();
    // finish() as 64 lowercase hex digits.
    std::string finishHex();
    void reset();

private:
    void compress(const uint8_t* block);

    std::array<uint32_t, 8> m_state{};
    std::array<uint8_t, 64> m_block{};
    size_t m_blockUsed = 0;
    uint64_t m_totalBytes = 0;
};

} // namespace moe::projects
