// Rng: xoshiro256** seeded through SplitMix64. Portable and fully specified, so the same seed gives
// the same numbers on every platform and standard library (std distributions are not). Used by
// the sampler (a seed that holds) and by the random-model writer.
#pragma once

#include <cstdint>

namespace moe {

class Rng {
public:
    explicit Rng(uint64_t seed) {
        uint64_t x = seed;
        for (uint64_t& s : m_s) {
            x += 0x9e3779b97f4a7c15ull;
            uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            s = z ^ (z >> 31);
        }
    }

    uint64_t next() {
        const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
        const uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    // Uniform in [-1, 1).
    float symmetric() { return float(uniform() * 2.0 - 1.0); }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t m_s[4];
};

} // namespace moe
