// CpuBackend: the op table on host memory. Allocations are plain host memory, upload/download are
// copies, weights are used in place (the mapped file); matmul runs the optimized CPU kernels,
// attention and the row-wise ops the engine/ops references over this backend's ThreadPool, and the
// MoE block runs each expert once over the tokens routed to it (the grouped shape of the GPU
// kernels).
#include "backends/backend.h"

#include "backends/cpu/cpu-matmul.h"
#include "core/thread-pool.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace moe {

BackendMemory::BackendMemory(BackendMemory&& o) noexcept
    : m_owner(std::exchange(o.m_owner, nullptr)), m_ptr(std::exchange(o.m_ptr, nullptr)),
      m_bytes(std::exchange(o.m_bytes, 0)) {}

BackendMemory& BackendMemory::operator=(BackendMemory&& o) noexcept {
    if (this != &o) {
        if (m_owner && m_ptr) m_owner->release(m_ptr);
        m_owner = std::exchange(o.m_owner, nullptr);
        m_ptr = std::exchange(o.m_ptr, nullptr);
        m_bytes = std::exchange(o.m_bytes, 0);
    }
    return *this;
}

BackendMemory::~BackendMemory() {
    if (m_owner && m_ptr) m_owner->release(m_ptr);
}

namespace {

class CpuBackend final : public ComputeBackend {
public:
    explicit CpuBackend(int nThreads) : m_pool(nThreads) {}

    std::string name() const override { return "cpu"; }

    Result<BackendMemory> allocate(size_t bytes) override {
        void* p = std::malloc(std::max<size_t>(bytes, 1));
        if (!p)
            return Status(StatusCode::OutOfMemory,
                          "cpu: cannot allocate " + std::to_string(bytes) + " bytes");
        return BackendMemory(this, p, bytes);
    }
    void release(void* ptr) override { std::free(ptr); }
    Status upload(void* dst, const void* src, size_t bytes) override {
        if (bytes) std::memcpy(dst, src, bytes);
        return Status::ok();
    }
    Status download(void* dst, const void* src, size_t bytes) override {
        return upload(dst, src, bytes);
    }
    Status sync() override { return Status::ok(); }
    Result<ops::WeightView> residentWeight(const ops::WeightView& host) override { return host; }
    Result<const float*> residentVector(const float* host, int64_t) override { return host; }
    Status prepareExperts(ExpertSet&) override { return Status::ok(); }

    void embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) override {
        for (int t = 0; t < n; ++t)
            table.rowToF32(ids[t], out + int64_t(t) * table.cols);
    }
    void rmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride,
                 int rows, int n, float eps) override {
        for (int r = 0; r < rows; ++r)
            ops::rmsnorm(x + r * xStride, w, y + r * yStride, 1, n, eps);
    }
    void matmul(const float* x, int nTok, const ops::WeightView& w, float* y) override {
        cpu::matmul(x, nTok, w, y, &m_pool);
    }
    void matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) override {
        // y[t, c] = Σ_r x[t, r] W[r, c]: one row of W at a time, accumulated into every token.
        std::fill(y, y + int64_t(nTok) * w.cols, 0.0f);
        std::vector<float> row(static_cast<size_t>(w.cols));
        for (int64_t r = 0; r < w.rows; ++r) {
            w.rowToF32(r, row.data());
            for (int t = 0; t < nTok; ++t) {
                const float c = x[int64_t(t) * w.rows + r];
                float* yt = y + int64_t(t) * w.cols;
                for (int64_t i = 0; i < w.cols; ++i)
                    yt[i] += c * row[size_t(i)];
            }
        }
    }
    void addRows(float* y, const float* b, int rows, int64_t n) override {
        for (int r = 0; r < rows; ++r)
            for (int64_t i = 0; i < n; ++i)
                y[r * n + i] += b[i];
    }
    void add(float* y, const float* x, int64_t n) override {
        for (int64_t i = 0; i < n; ++i)
            y[i] += x[i];
    }
    void swiglu(const float* gate, const float* up, float* out, int64_t n) override {
        ops::swiglu(gate, up, out, n);
    }
    void sigmoidGateAdd(float* out, const float* s, const float* x, const float* g, int nTok,
                        int64_t n) override {
        for (int t = 0; t < nTok; ++t) {
            float z = 0;
            for (int64_t i = 0; i < n; ++i)
                z += x[t * n + i] * g[i];
            const float gate = 1.0f / (1.0f + std::exp(-z));
            for (int64_t i = 0; i < n; ++i)
                out[t * n + i] += gate * s[t * n + i];
        }
    }
    void copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows,
                int64_t cols) override {
        for (int r = 0; r < rows; ++r)
            std::memcpy(dst + r * dstStride, src + r * srcStride, size_t(cols) * sizeof(float));
    }
    void gatherRows(float* dst, const float* src, const int32_t* rows, int n,
                    int64_t width) override {
        for (int i = 0; i < n; ++i)
            std::memcpy(dst + i * width, src + int64_t(rows[i]) * width,
                        size_t(width) * sizeof(float));
    }
    void scatterRows(float* dst, const float* src, const int32_t* rows, int n,
                     int64_t width) override {
        for (int i = 0; i < n; ++i)
            std::memcpy(dst + int64_t(rows[i]) * width, src + i * width,
                        size_t(width) * sizeof(float));
    }
    void rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
              int nRot, const int32_t* pos, const RopeTable& freqs, bool interleaved) override {
        ops::RopeFreqs f;
        f.invFreq.assign(freqs.invFreq, freqs.invFreq + nRot / 2);
        f.attentionFactor = freqs.attentionFactor;
        ops::ropeApply(x, nTok, rowStride, nHead, headStride, offset, nRot, pos, f, interleaved);
    }
    void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
                   const int32_t* pos, const PagedRows& rows, const ops::AttentionShape& shape,
                   float scale) override {
        std::vector<const int32_t*> tables(static_cast<size_t>(nTok));
        for (int t = 0; t < nTok; ++t)
            tables[size_t(t)] = rows.tables + int64_t(rows.seqOfToken[t]) * rows.tableStride;
        ops::attention(q, kCache, vCache, out, nTok, pos,
                       ops::KvPages{tables.data(), rows.pageSize}, shape, scale, &m_pool);
    }
    void route(const float* logits, int nTok, int nExpert, const ops::RouterParams& params,
               float threshold, bool renormalizeKept, int32_t* ids, float* weights) override;
    void moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights, int k,
                    const ExpertSet& ex, float* out) override;
    void accumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert,
                           int64_t* counts, double* sums) override {
        for (int s = 0; s < nSlots; ++s) {
            if (ids[s] < 0 || ids[s] >= nExpert) continue;
            counts[ids[s]] += 1;
            sums[ids[s]] += weights[s];
        }
    }

private:
    ThreadPool m_pool;
};

void CpuBackend::route(const float* logits, int nTok, int nExpert, const ops::RouterParams& params,
                       float threshold, bool renormalizeKept, int32_t* ids, float* weights) {
    ops::route(logits, nTok, nExpert, params, ids, weights);
    if (threshold <= 0) return;
    // Keep, per token, the fewest chosen experts (by descending weight) whose weights reach
    // threshold x their sum; renormalize the kept to the original sum when the model normalizes.
    const int k = params.k;
    std::vector<int> order(static_cast<size_t>(k));
    for (int t = 0; t < nTok; ++t) {
        int32_t* id = ids + int64_t(t) * k;
        float* wt = weights + int64_t(t) * k;
        for (int j = 0; j < k; ++j)
            order[size_t(j)] = j;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return wt[a] > wt[b]; });
        float total = 0;
        for (int j = 0; j < k; ++j)
            total += wt[j];
        float acc = 0;
        int kept = 0;
        while (kept < k && acc < threshold * total)
            acc += wt[order[size_t(kept++)]];
        kept = std::max(kept, 1);
        if (kept == k) continue; // nothing dropped: the weights stay bit for bit the model's
        float keptSum = 0;
        for (int j = 0; j < kept; ++j)
            keptSum += wt[order[size_t(j)]];
        for (int j = kept; j < k; ++j) {
            id[order[size_t(j)]] = -1;
            wt[order[size_t(j)]] = 0;
        }
        if (renormalizeKept && keptSum > 0)
            for (int j = 0; j < kept; ++j)
                wt[order[size_t(j)]] *= total / keptSum;
    }
}

void CpuBackend::moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights,
                            int k, const ExpertSet& ex, float* out) {
    const int64_t nEmbd = ex.gate.empty() ? 0 : ex.gate[0].cols;
    std::fill(out, out + int64_t(nTok) * nEmbd, 0.0f);
    std::vector<int> slots; // slot indices (t * k + j) routed to expert e
    std::vector<float> xs, gate, up, down;
    for (size_t e = 0; e < ex.gate.size(); ++e) {
        slots.clear();
        for (int s = 0; s < nTok * k; ++s)
            if (ids[s] == int32_t(e)) slots.push_back(s);
        if (slots.empty()) continue;
        const int m = int(slots.size());
        const int64_t nFf = ex.gate[e].rows;
        xs.resize(size_t(m) * size_t(nEmbd));
        for (int r = 0; r < m; ++r)
            std::memcpy(xs.data() + int64_t(r) * nEmbd, x + int64_t(slots[size_t(r)] / k) * nEmbd,
                        size_t(nEmbd) * sizeof(float));
        gate.resize(size_t(m) * size_t(nFf));
        up.resize(gate.size());
        down.resize(size_t(m) * size_t(nEmbd));
        cpu::matmul(xs.data(), m, ex.gate[e], gate.data(), &m_pool);
        cpu::matmul(xs.data(), m, ex.up[e], up.data(), &m_pool);
        ops::swiglu(gate.data(), up.data(), gate.data(), int64_t(gate.size()));
        cpu::matmul(gate.data(), m, ex.down[e], down.data(), &m_pool);
        for (int r = 0; r < m; ++r) {
            const int s = slots[size_t(r)];
            const float w = weights[s];
            float* dst = out + int64_t(s / k) * nEmbd;
            const float* src = down.data() + int64_t(r) * nEmbd;
            for (int64_t i = 0; i < nEmbd; ++i)
                dst[i] += w * src[i];
        }
    }
}

} // namespace

std::unique_ptr<ComputeBackend> makeCpuBackend(int nThreads) {
    return std::make_unique<CpuBackend>(nThreads);
}

} // namespace moe
