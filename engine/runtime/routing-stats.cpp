// RoutingStats summaries (moe/routing-stats.h): per-layer assignment totals and load-balance
// entropy, computed from the accumulated counts on demand.
#include "moe/routing-stats.h"

#include <cmath>

namespace moe {

int64_t RoutingStats::layerAssignments(int il) const {
    if (il < 0 || il >= nLayer || tokens.size() != size_t(nLayer) * size_t(nExpert)) return 0;
    int64_t total = 0;
    for (int e = 0; e < nExpert; ++e)
        total += tokens[size_t(il) * size_t(nExpert) + size_t(e)];
    return total;
}

double RoutingStats::loadEntropy(int il) const {
    const int64_t total = layerAssignments(il);
    if (total <= 0) return 0.0;
    double h = 0.0;
    for (int e = 0; e < nExpert; ++e) {
        const int64_t c = tokens[size_t(il) * size_t(nExpert) + size_t(e)];
        if (c <= 0) continue;
        const double p = double(c) / double(total);
        h -= p * std::log(p);
    }
    return h;
}

double RoutingStats::normalizedLoadEntropy(int il) const {
    if (nExpert < 2) return 0.0;
    return loadEntropy(il) / std::log(double(nExpert));
}

} // namespace moe
