// Dense matmul reference y = x W^T with weights in F32/F16/BF16 or a quantized ggml type (rows
// dequantized by ops/quants). Each worker converts one weight row at a time to float32
// and dots it with every token's activation row, so a weight row is read from memory once per
// call whatever nTok is (the mat-vec of decode reads each weight once).
#include "core/half.h"
#include "core/thread-pool.h"
#include "ops/quants/quants.h"
#include "ops/ops.h"

#include <vector>

namespace moe::ops {

void WeightView::rowToF32(int64_t r, float* out) const {
    switch (type) {
    case WeightType::F32: {
        const float* src = static_cast<const float*>(data) + r * cols;
        for (int64_t c = 0; c < cols; ++c) out[c] = src[c];
        return;
    }
    case WeightType::F16: {
        const uint16_t* src = static_cast<const uint16_t*>(data) + r * cols;
        for (int64_t c = 0; c < cols; ++c) out[c] = f16ToF32(src[c]);
        return;
    }
    case WeightType::BF16: {
        const uint16_t* src = static_cast<const uint16_t*>(data) + r * cols;
        for (int64_t c = 0; c < cols; ++c) out[c] = bf16ToF32(src[c]);
        return;
    }
    case WeightType::Quantized: {
        // The type and row length were checked when the view was bound (bindMatrix).
        const uint8_t* src = static_cast<const uint8_t*>(data) + size_t(r) * rowBytes();
        (void)quants::dequantizeRow(ggmlType, src, out, cols);
        return;
    }
    }
}

size_t WeightView::rowBytes() const {
    switch (type) {
    case WeightType::F32: return size_t(cols) * 4;
    case WeightType::F16:
    case WeightType::BF16: return size_t(cols) * 2;
    case WeightType::Quantized: return quants::rowBytes(ggmlType, cols);
    }
    return 0;
}

WeightView WeightView::rowsView(int64_t first, int64_t count) const {
    WeightView v = *this;
    v.data = static_cast<const uint8_t*>(data) + size_t(first) * rowBytes();
    v.rows = count;
    return v;
}

static void matmulRows(const float* x, int nTok, const WeightView& w, float* y, int64_t r0,
                       int64_t r1) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    const int64_t k = w.cols;
    for (int64_t r = r0; r < r1; ++r) {
        const float* wr;
        if (w.type == WeightType::F32) {
            wr = static_cast<const float*>(w.data) + r * k;
        } else {
            w.rowToF32(r, row.data());
            wr = row.data();
        }
        for (int t = 0; t < nTok; ++t) {
            const float* xr = x + int64_t(t) * k;
            float acc = 0;
            for (int64_t c = 0; c < k; ++c) acc += xr[c] * wr[c];
            y[int64_t(t) * w.rows + r] = acc;
        }
    }
}

void matmul(const float* x, int nTok, const WeightView& w, float* y, ThreadPool* pool) {
    // Small problems are not worth waking workers.
    if (!pool || w.rows * w.cols * int64_t(nTok) < (1 << 15)) {
        matmulRows(x, nTok, w, y, 0, w.rows);
        return;
    }
    pool->parallelFor(size_t(w.rows), [&](size_t r0, size_t r1) {
        matmulRows(x, nTok, w, y, int64_t(r0), int64_t(r1));
    });
}

} // namespace moe::ops
