// Sampler implementation.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace moe {

std::vector<float> Sampler::adjustedLogits(std::span<const float> logits,
                                           std::span<const int32_t> history) const {
    std::vector<float> l(logits.begin(), logits.end());
    const int n = int(l.size());
    for (const auto& [id, bias] : m_params.logitBias)
        if (id >= 0 && id < n) l[size_t(id)] += bias;
    const bool penalize = m_params.repetitionPenalty != 1.0f || m_params.presencePenalty != 0.0f ||
                          m_params.frequencyPenalty != 0.0f;
    if (penalize && !history.empty()) {
        size_t first = 0;
        if (m_params.penaltyLastN > 0 && history.size() > size_t(m_params.penaltyLastN))
            first = history.size() - size_t(m_params.penaltyLastN);
        std::unordered_map<int32_t, int> counts;
        for (size_t i = first; i < history.size(); ++i) counts[history[i]]++;
        for (const auto& [id, count] : counts) {
            if (id < 0 || id >= n) continue;
            float& x = l[size_t(id)];
            if (m_params.repetitionPenalty != 1.0f)
                x = x > 0 ? x / m_params.repetitionPenalty : x * m_params.repetitionPenalty;
            x -= m_params.presencePenalty + m_params.frequencyPenalty * float(count);
        }
    }
    return l;
}

std::vector<Candidate> Sampler::distribution(std::span<const float> rawLogits,
                                             std::span<const int32_t> history) const {
    const std::vector<float> logits = adjustedLogits(rawLogits, history);
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
    if (m_params.topK > 0 && size_t(m_params.topK) < c.size()) {
        std::partial_sort(c.begin(), c.begin() + m_params.topK, c.end(), byValue);
        c.resize(size_t(m_params.topK));
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
    size_t keep = c.size();
    if (m_params.topP < 1.0f) {
        // Smallest prefix whose mass reaches top_p (at least one candidate).
        double mass = 0;
        keep = 0;
        while (keep < c.size()) {
            mass += c[keep].p;
            ++keep;
            if (mass >= double(m_params.topP)) break;
        }
    }
    if (m_params.minP > 0.0f) {
        const float floorP = m_params.minP * c.front().p;
        size_t k = 1;
        while (k < keep && c[k].p >= floorP) ++k;
        keep = k;
    }
    if (keep < c.size()) {
        c.resize(keep);
        double kept = 0;
        for (const Candidate& x : c) kept += x.p;
        for (Candidate& x : c) x.p = float(x.p / kept);
    }
    return c;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    std::vector<Candidate> c = distribution(logits, history);
    if (c.size() == 1) return c.front().id;
    const double r = m_rng.uniform();
    double acc = 0;
    for (const Candidate& x : c) {
        acc += x.p;
        if (r < acc) return x.id;
    }
    return c.back().id;
}

static double logSumExp(std::span<const float> logits) {
    float m = -INFINITY;
    for (float x : logits) m = std::max(m, x);
    double s = 0;
    for (float x : logits) s += std::exp(double(x) - m);
    return m + std::log(s);
}

float Sampler::logSoftmaxAt(std::span<const float> logits, int32_t id) {
    return float(double(logits[size_t(id)]) - logSumExp(logits));
}

std::vector<Candidate> Sampler::topLogprobs(std::span<const float> logits, int n) {
    if (n <= 0) return {};
    const double lse = logSumExp(logits);
    std::vector<Candidate> c(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) c[i] = {int32_t(i), float(double(logits[i]) - lse)};
    const size_t k = std::min(c.size(), size_t(std::max(0, n)));
    std::partial_sort(c.begin(), c.begin() + std::ptrdiff_t(k), c.end(), [](const Candidate& a, const Candidate& b) {
        return a.p > b.p || (a.p == b.p && a.id < b.id);
    });
    c.resize(k);
    return c;
}

} // namespace moe
