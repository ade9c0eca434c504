// Sampler implementation.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace moe {

std::vector<Candidate> Sampler::distribution(std::span<const float> logits) const {
    const int n = int(logits.size());
    std::vector<Candidate> c;
    if (n == 0) return c;
    if (m_params.temperature <= 0.0f) {
        int32_t best = 0;
        for (int i = 1; i < n; ++i)
            if (logits[size_t(i)] > logits[size_t(best)]) best = i;
        c.push_back({best, 1.0f});
        return c;
    }
    c.resize(size_t(n));
    for (int i = 0; i < n; ++i) c[size_t(i)] = {i, logits[size_t(i)] / m_params.temperature};
    auto byValue = [](const Candidate& a, const Candidate& b) {
        return a.p > b.p || (a.p == b.p && a.id < b.id);
    };
    size_t keep = size_t(n);
    if (m_params.topK > 0 && size_t(m_params.topK) < keep) {
        keep = size_t(m_params.topK);
        std::partial_sort(c.begin(), c.begin() + std::ptrdiff_t(keep), c.end(), byValue);
        c.resize(keep);
    } else {
        std::sort(c.begin(), c.end(), byValue);
    }
    const float maxLogit = c.front().p;
    double sum = 0;
    for (Candidate& x : c) {
        x.p = std::exp(x.p - maxLogit);
        sum += x.p;
    }
    for (Candidate& x : c) x.p = float(x.p / sum);
    if (m_params.topP < 1.0f) {
        // Smallest prefix whose mass reaches top_p (at least one candidate).
        double mass = 0;
        size_t cut = 0;
        while (cut < c.size()) {
            mass += c[cut].p;
            ++cut;
            if (mass >= double(m_params.topP)) break;
        }
        c.resize(cut);
        double kept = 0;
        for (const Candidate& x : c) kept += x.p;
        for (Candidate& x : c) x.p = float(x.p / kept);
    }
    return c;
}

int32_t Sampler::sample(std::span<const float> logits) {
    std::vector<Candidate> c = distribution(logits);
    if (c.size() == 1) return c.front().id;
    const double r = m_rng.uniform();
    double acc = 0;
    for (const Candidate& x : c) {
        acc += x.p;
        if (r < acc) return x.id;
    }
    return c.back().id;
}

} // namespace moe
