// SplitMix64 and a Fisher-Yates shuffle on it: the dataset split and batch order are the same
// for a seed on every platform and standard library (std::shuffle and the std distributions are
// not specified bit for bit).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace moe::dataset {

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}
    uint64_t next() {
        uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n), n > 0 (rejection sampling: no modulo bias).
    uint64_t below(uint64_t n) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t x = next();
        while (x >= limit)
            x = next();
        return x % n;
    }

private:
    uint64_t m_state;
};

template <class T> void shuffleIndices(std::vector<T>& v, uint64_t seed) {
    SplitMix64 rng(seed);
    for (size_t i = v.size(); i > 1; --i)
        std::swap(v[i - 1], v[size_t(rng.below(i))]);
}

} // namespace moe::dataset
