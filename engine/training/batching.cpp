// Micro-batches under a token budget (moe/dataset.h makeBatches, packBatch). Packing is first-fit
// decreasing: examples longest first, each into the first open batch with room. "First batch with
// room" is a leftmost-leaf query on a max segment tree over the batches' free tokens (unopened
// batches count as empty), so packing n examples costs O(n log n), not O(n x batches).
#include "moe/dataset.h"

#include "training/dataset-encode.h"
#include "training/split-mix.h"

#include <algorithm>
#include <numeric>

namespace moe {

namespace {

// Free tokens per batch slot; leftmost(x) finds the first slot with at least x free.
class FreeTree {
public:
    FreeTree(size_t slots, int64_t capacity) {
        while (m_size < slots)
            m_size *= 2;
        m_tree.assign(2 * m_size, 0);
        for (size_t i = 0; i < slots; ++i)
            m_tree[m_size + i] = capacity;
        for (size_t i = m_size - 1; i > 0; --i)
            m_tree[i] = std::max(m_tree[2 * i], m_tree[2 * i + 1]);
    }
    // The first slot with free >= need, or -1.
    int64_t leftmost(int64_t need) const {
        if (m_tree[1] < need) return -1;
        size_t i = 1;
        while (i < m_size)
            i = m_tree[2 * i] >= need ? 2 * i : 2 * i + 1;
        return int64_t(i - m_size);
    }
    int64_t freeAt(size_t slot) const { return m_tree[m_size + slot]; }
    void set(size_t slot, int64_t value) {
        size_t i = m_size + slot;
        m_tree[i] = value;
        for (i /= 2; i > 0; i /= 2)
            m_tree[i] = std::max(m_tree[2 * i], m_tree[2 * i + 1]);
    }

private:
    size_t m_size = 1;
    std::vector<int64_t> m_tree;
};

} // namespace

std::vector<std::vector<int>> makeBatches(const std::vector<TrainingExample>& examples,
                                          int tokensPerBatch, bool packing, uint64_t seed,
                                          bool shuffle) {
    const int64_t budget = std::max(tokensPerBatch, 1);
    std::vector<int> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    if (shuffle) dataset::shuffleIndices(order, seed);
    auto length = [&](int i) { return int64_t(examples[size_t(i)].tokens.size()); };
    std::vector<std::vector<int>> batches;

    if (!packing) {
        int64_t used = 0;
        for (int i : order) {
            if (batches.empty() || used + length(i) > budget) {
                batches.emplace_back();
                used = 0;
            }
            batches.back().push_back(i);
            used += length(i);
        }
        return batches;
    }

    // Longest first; ties keep the (possibly shuffled) order.
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return length(a) > length(b); });
    FreeTree tree(order.size(), budget);
    for (int i : order) {
        const int64_t len = length(i);
        // An example over the budget opens a batch of its own (the next unopened slot).
        int64_t slot = len > budget ? int64_t(batches.size()) : tree.leftmost(len);
        if (slot < 0) slot = int64_t(batches.size()); // unreachable: an unopened slot has room
        if (size_t(slot) == batches.size()) batches.emplace_back();
        batches[size_t(slot)].push_back(i);
        tree.set(size_t(slot), std::max<int64_t>(tree.freeAt(size_t(slot)) - len, 0));
    }
    if (shuffle) dataset::shuffleIndices(batches, seed ^ 0xB47C4E5ull);
    return batches;
}

PackedBatch packBatch(const std::vector<TrainingExample>& examples, const std::vector<int>& batch) {
    PackedBatch packed;
    for (int i : batch) {
        const TrainingExample& ex = examples[size_t(i)];
        packed.sequenceStarts.push_back(int32_t(packed.tokens.size()));
        packed.tokens.insert(packed.tokens.end(), ex.tokens.begin(), ex.tokens.end());
        packed.labels.insert(packed.labels.end(), ex.labels.begin(), ex.labels.end());
        for (size_t t = 0; t < ex.tokens.size(); ++t)
            packed.positions.push_back(int32_t(t));
        packed.trainedTokens += dataset::trainedTokens(ex);
    }
    packed.sequenceStarts.push_back(int32_t(packed.tokens.size()));
    return packed;
}

} // namespace moe
