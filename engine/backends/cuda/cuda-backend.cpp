// CudaBackend: memory, residency, error recording and the op table's dispatch to the kernels
// (see cuda-backend.h for the design). Ops check their arguments against what the kernels hold
// (types, widths) and record InvalidArgument/Unsupported instead of launching.
#include "backends/cuda/cuda-backend.h"

#include "core/dtypes.h"

#include <algorithm>

namespace moe::cuda {

bool devTypeOf(int weightType, uint32_t ggmlType, DevType& out) {
    switch (ops::WeightType(weightType)) {
    case ops::WeightType::F32: out = DevType::F32; return true;
    case ops::WeightType::F16: out = DevType::F16; return true;
    case ops::WeightType::BF16: out = DevType::BF16; return true;
    case ops::WeightType::Quantized: break;
    }
    switch (GgmlType(ggmlType)) {
    case GgmlType::Q4_0: out = DevType::Q4_0; return true;
    case GgmlType::Q4_1: out = DevType::Q4_1; return true;
    case GgmlType::Q5_0: out = DevType::Q5_0; return true;
    case GgmlType::Q5_1: out = DevType::Q5_1; return true;
    case GgmlType::Q8_0: out = DevType::Q8_0; return true;
    case GgmlType::Q2_K: out = DevType::Q2_K; return true;
    case GgmlType::Q3_K: out = DevType::Q3_K; return true;
    case GgmlType::Q4_K: out = DevType::Q4_K; return true;
    case GgmlType::Q5_K: out = DevType::Q5_K; return true;
    case GgmlType::Q6_K: out = DevType::Q6_K; return true;
    default: return false;
    }
}

namespace {

const char* cublasText(cublasStatus_t s) {
    return cublasGetStatusString(s);
}

std::string weightTypeName(const ops::WeightView& w) {
    switch (w.type) {
    case ops::WeightType::F32: return "F32";
    case ops::WeightType::F16: return "F16";
    case ops::WeightType::BF16: return "BF16";
    case ops::WeightType::Quantized: return typeName(w.ggmlType);
    }
    return "?";
}

} // namespace

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(int device) {
    int count = 0;
    MOE_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (device < 0 || device >= count)
        return Status(StatusCode::NotFound, "cuda: device " + std::to_string(device) + " does not exist (" +
                                                std::to_string(count) + " CUDA devices)");
    std::unique_ptr<CudaBackend> b(new CudaBackend(device));
    MOE_CUDA_CHECK(cudaSetDevice(device));
    MOE_CUDA_CHECK(cudaStreamCreateWithFlags(&b->m_stream, cudaStreamNonBlocking));
    const cublasStatus_t cs = cublasCreate(&b->m_cublas);
    if (cs != CUBLAS_STATUS_SUCCESS)
        return Status(StatusCode::DeviceError, std::string("cuda: cublasCreate failed: ") + cublasText(cs));
    cublasSetStream(b->m_cublas, b->m_stream);
    return b;
}

CudaBackend::~CudaBackend() {
    (void)cudaSetDevice(m_device);
    if (m_stream) (void)cudaStreamSynchronize(m_stream);
    if (m_cublas) cublasDestroy(m_cublas);
    for (auto& [name, block] : m_scratch) m_alloc.release(block.first);
    m_scratch.clear();
    if (m_stream) (void)cudaStreamDestroy(m_stream);
}

bool CudaBackend::bind() {
    const cudaError_t err = cudaSetDevice(m_device);
    if (err == cudaSuccess) return true;
    record(cudaStatus(err, "cudaSetDevice", __FILE__, __LINE__));
    return false;
}

void CudaBackend::record(Status status) {
    std::lock_guard lock(m_errorMutex);
    if (m_error.isOk() && !status.isOk()) m_error = std::move(status);
}

void CudaBackend::checkLaunch(const char* op) {
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) record(cudaStatus(err, op, __FILE__, __LINE__));
}

Status CudaBackend::takeError() {
    std::lock_guard lock(m_errorMutex);
    Status s = std::move(m_error);
    m_error = Status::ok();
    return s;
}

void* CudaBackend::scratch(const char* name, size_t bytes) {
    auto& block = m_scratch[name];
    if (block.first && block.second >= bytes) return block.first;
    if (block.first) m_alloc.release(block.first); // queued users run before any later reuse
    block = {nullptr, 0};
    auto p = m_alloc.allocate(std::max<size_t>(bytes, 256));
    if (!p.isOk()) {
        record(Status(p.status().code(), std::string("cuda scratch '") + name + "': " + p.status().message()));
        return nullptr;
    }
    block = {*p, std::max<size_t>(bytes, 256)};
    return *p;
}

Result<BackendMemory> CudaBackend::allocate(size_t bytes) {
    if (!bind()) return takeError();
    MOE_ASSIGN_OR_RETURN(void* p, m_alloc.allocate(bytes));
    return BackendMemory(this, p, bytes);
}

void CudaBackend::release(void* ptr) {
    m_alloc.release(ptr);
}

Status CudaBackend::upload(void* dst, const void* src, size_t bytes) {
    if (bytes == 0) return Status::ok();
    if (!bind()) return takeError();
    MOE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, m_stream));
    return Status::ok();
}

Status CudaBackend::download(void* dst, const void* src, size_t bytes) {
    if (!bind()) return takeError();
    if (bytes) {
        const cudaError_t err = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, m_stream);
        if (err != cudaSuccess) record(cudaStatus(err, "cudaMemcpyAsync(device to host)", __FILE__, __LINE__));
    }
    return sync();
}

Status CudaBackend::sync() {
    if (!bind()) return takeError();
    const cudaError_t err = cudaStreamSynchronize(m_stream);
    if (err != cudaSuccess) record(cudaStatus(err, "cudaStreamSynchronize", __FILE__, __LINE__));
    return takeError();
}

Result<ops::WeightView> CudaBackend::residentWeight(const ops::WeightView& host) {
    DevType t;
    if (!devTypeOf(int(host.type), host.ggmlType, t))
        return Status(StatusCode::Unsupported, "cuda: weight type " + weightTypeName(host) + " has no CUDA kernels");
    if (!bind()) return takeError();
    const size_t bytes = size_t(host.rows) * host.rowBytes();
    // No de-duplication by host address: a later model's mapping can reuse an unmapped address.
    ops::WeightView dev = host;
    DeviceBuffer buf;
    MOE_TRY(buf.allocate(std::max<size_t>(bytes, 16)));
    MOE_TRY(buf.upload(host.data, bytes));
    dev.data = buf.as<void>();
    m_weights.push_back(std::move(buf));
    return dev;
}

Result<const float*> CudaBackend::residentVector(const float* host, int64_t n) {
    ops::WeightView v;
    v.data = host;
    v.type = ops::WeightType::F32;
    v.rows = 1;
    v.cols = n;
    MOE_ASSIGN_OR_RETURN(ops::WeightView dev, residentWeight(v));
    return static_cast<const float*>(dev.data);
}

Status CudaBackend::prepareExperts(ExpertSet& set) {
    const size_t nExp = set.gate.size();
    if (nExp == 0 || set.up.size() != nExp || set.down.size() != nExp)
        return Status(StatusCode::InvalidArgument, "cuda prepareExperts: gate/up/down expert counts differ or are 0");
    auto t = std::make_shared<ExpertTables>();
    const ops::WeightView& g0 = set.gate[0];
    const ops::WeightView& d0 = set.down[0];
    if (!devTypeOf(int(g0.type), g0.ggmlType, t->gateType) || !devTypeOf(int(d0.type), d0.ggmlType, t->downType))
        return Status(StatusCode::Unsupported, "cuda prepareExperts: expert weight type " + weightTypeName(g0) + "/" +
                                                   weightTypeName(d0) + " has no CUDA kernels");
    t->nFf = g0.rows;
    t->nEmbd = g0.cols;
    t->gateRowBytes = g0.rowBytes();
    t->downRowBytes = d0.rowBytes();
    t->nExpert = int(nExp);
    std::vector<const void*> gate(nExp), up(nExp), down(nExp);
    for (size_t e = 0; e < nExp; ++e) {
        const ops::WeightView &g = set.gate[e], &u = set.up[e], &d = set.down[e];
        const bool same = g.type == g0.type && u.type == g0.type && g.ggmlType == g0.ggmlType &&
                          u.ggmlType == g0.ggmlType && d.type == d0.type && d.ggmlType == d0.ggmlType &&
                          g.rows == t->nFf && u.rows == t->nFf && g.cols == t->nEmbd && u.cols == t->nEmbd &&
                          d.rows == t->nEmbd && d.cols == t->nFf;
        if (!same)
            return Status(StatusCode::Unsupported, "cuda prepareExperts: expert " + std::to_string(e) +
                                                       " differs in type or shape from expert 0 (the grouped "
                                                       "kernels need one type per projection)");
        gate[e] = g.data;
        up[e] = u.data;
        down[e] = d.data;
    }
    if (!bind()) return takeError();
    MOE_TRY(t->gate.allocate(nExp * sizeof(void*)));
    MOE_TRY(t->up.allocate(nExp * sizeof(void*)));
    MOE_TRY(t->down.allocate(nExp * sizeof(void*)));
    MOE_TRY(t->gate.upload(gate.data(), nExp * sizeof(void*)));
    MOE_TRY(t->up.upload(up.data(), nExp * sizeof(void*)));
    MOE_TRY(t->down.upload(down.data(), nExp * sizeof(void*)));
    set.backendData = t;
    return Status::ok();
}

// ---- ops ----------------------------------------------------------------------------------

void CudaBackend::embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) {
    DevType t;
    if (!devTypeOf(int(table.type), table.ggmlType, t)) {
        record(Status(StatusCode::Unsupported, "cuda embed: table type " + weightTypeName(table)));
        return;
    }
    if (!bind()) return;
    launchEmbed(t, table.data, table.rowBytes(), table.cols, ids, n, out, m_stream);
    checkLaunch("embed");
}

void CudaBackend::rmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows,
                          int n, float eps) {
    if (!bind()) return;
    launchRmsnorm(x, xStride, w, y, yStride, rows, n, eps, m_stream);
    checkLaunch("rmsnorm");
}

void CudaBackend::matmul(const float* x, int nTok, const ops::WeightView& w, float* y) {
    if (nTok <= 0 || w.rows <= 0) return;
    if (!bind()) return;
    if (w.type == ops::WeightType::F32) {
        // Row-major y[nTok, rows] = x[nTok, cols] Wᵀ is column-major y' = W'ᵀ x' with W' [cols, rows].
        const float one = 1.0f, zero = 0.0f;
        const cublasStatus_t s =
            cublasSgemm(m_cublas, CUBLAS_OP_T, CUBLAS_OP_N, int(w.rows), nTok, int(w.cols), &one,
                        static_cast<const float*>(w.data), int(w.cols), x, int(w.cols), &zero, y, int(w.rows));
        if (s != CUBLAS_STATUS_SUCCESS)
            record(Status(StatusCode::DeviceError, std::string("cuda matmul: cublasSgemm failed: ") + cublasText(s)));
        return;
    }
    MatmulArgs a;
    if (!devTypeOf(int(w.type), w.ggmlType, a.type)) {
        record(Status(StatusCode::Unsupported, "cuda matmul: weight type " + weightTypeName(w)));
        return;
    }
    a.w = w.data;
    a.rows = w.rows;
    a.cols = w.cols;
    a.rowBytes = w.rowBytes();
    a.x = x;
    a.ldx = w.cols;
    a.y = y;
    a.ldy = w.rows;
    a.nPos = nTok;
    launchMatmul(a, false, m_stream);
    checkLaunch("matmul");
}

void CudaBackend::matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) {
    if (nTok <= 0 || w.cols <= 0) return;
    if (!bind()) return;
    if (w.type == ops::WeightType::F32) {
        // Row-major y[nTok, cols] = x[nTok, rows] W is column-major y' = W' x' with W' [cols, rows].
        const float one = 1.0f, zero = 0.0f;
        const cublasStatus_t s =
            cublasSgemm(m_cublas, CUBLAS_OP_N, CUBLAS_OP_N, int(w.cols), nTok, int(w.rows), &one,
                        static_cast<const float*>(w.data), int(w.cols), x, int(w.rows), &zero, y, int(w.cols));
        if (s != CUBLAS_STATUS_SUCCESS)
            record(Status(StatusCode::DeviceError,
                          std::string("cuda matmulTransposed: cublasSgemm failed: ") + cublasText(s)));
        return;
    }
    DevType t;
    if (!devTypeOf(int(w.type), w.ggmlType, t)) {
        record(Status(StatusCode::Unsupported, "cuda matmulTransposed: weight type " + weightTypeName(w)));
        return;
    }
    launchMatmulTransposed(t, w.data, w.rowBytes(), w.rows, w.cols, x, nTok, y, m_stream);
    checkLaunch("matmulTransposed");
}

void CudaBackend::headMatmul(const float* x, int64_t xRowStride, int64_t xHeadStride, int nTok, int nHead,
                             const ops::WeightView& head0, int64_t headRowOffset, bool transposed, float* y,
                             int64_t yRowStride, int64_t yHeadStride) {
    if (nTok <= 0 || nHead <= 0) return;
    if (!bind()) return;
    HeadMatmulArgs a;
    if (!devTypeOf(int(head0.type), head0.ggmlType, a.type)) {
        record(Status(StatusCode::Unsupported, "cuda headMatmul: weight type " + weightTypeName(head0)));
        return;
    }
    a.w = head0.data;
    a.rowBytes = head0.rowBytes();
    a.headBytes = size_t(headRowOffset) * a.rowBytes;
    a.rows = head0.rows;
    a.cols = head0.cols;
    a.transposed = transposed;
    a.x = x;
    a.xRowStride = xRowStride;
    a.xHeadStride = xHeadStride;
    a.y = y;
    a.yRowStride = yRowStride;
    a.yHeadStride = yHeadStride;
    a.nTok = nTok;
    a.nHead = nHead;
    launchHeadMatmul(a, m_stream);
    checkLaunch("headMatmul");
}

void CudaBackend::addRows(float* y, const float* b, int rows, int64_t n) {
    if (!bind()) return;
    launchAddRows(y, b, rows, n, m_stream);
    checkLaunch("addRows");
}

void CudaBackend::add(float* y, const float* x, int64_t n) {
    if (!bind()) return;
    launchAdd(y, x, n, m_stream);
    checkLaunch("add");
}

void CudaBackend::swiglu(const float* gate, const float* up, float* out, int64_t n) {
    if (!bind()) return;
    launchSwiglu(gate, up, out, n, m_stream);
    checkLaunch("swiglu");
}

void CudaBackend::sigmoidGateAdd(float* out, const float* s, const float* x, const float* g, int nTok, int64_t n) {
    if (!bind()) return;
    launchSigmoidGateAdd(out, s, x, g, nTok, n, m_stream);
    checkLaunch("sigmoidGateAdd");
}

void CudaBackend::copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows, int64_t cols) {
    if (!bind()) return;
    launchCopy2d(dst, dstStride, src, srcStride, rows, cols, m_stream);
    checkLaunch("copy2d");
}

void CudaBackend::gatherRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) {
    if (!bind()) return;
    launchGatherRows(dst, src, rows, n, width, m_stream);
    checkLaunch("gatherRows");
}

void CudaBackend::scatterRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) {
    if (!bind()) return;
    launchScatterRows(dst, src, rows, n, width, m_stream);
    checkLaunch("scatterRows");
}

void CudaBackend::rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset, int nRot,
                       const int32_t* pos, const RopeTable& freqs, bool interleaved) {
    if (!bind()) return;
    launchRope(x, nTok, rowStride, nHead, headStride, offset, nRot, pos, freqs.invFreq, freqs.attentionFactor,
               interleaved, m_stream);
    checkLaunch("rope");
}

void CudaBackend::attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
                            const int32_t* pos, const PagedRows& rows, const ops::AttentionShape& shape,
                            float scale) {
    if (shape.nHeadKv <= 0 || shape.nHead % shape.nHeadKv != 0 || shape.dv > kAttentionMaxDv || nTok > 65535 ||
        shape.nHead > 65535) {
        record(Status(StatusCode::Unsupported, "cuda attention: shape (" + std::to_string(shape.nHead) + " heads, " +
                                                   std::to_string(shape.nHeadKv) + " KV heads, dv " +
                                                   std::to_string(shape.dv) + ", " + std::to_string(nTok) +
                                                   " tokens) is outside the kernel's limits (dv <= " +
                                                   std::to_string(kAttentionMaxDv) + ", <= 65535 tokens)"));
        return;
    }
    if (!bind()) return;
    AttentionArgs a;
    a.q = q;
    a.k = kCache;
    a.v = vCache;
    a.out = out;
    a.nTok = nTok;
    a.pos = pos;
    a.tables = rows.tables;
    a.tableStride = rows.tableStride;
    a.seqOfToken = rows.seqOfToken;
    a.pageSize = std::max(rows.pageSize, 1);
    a.nHead = shape.nHead;
    a.nHeadKv = shape.nHeadKv;
    a.dk = shape.dk;
    a.dv = shape.dv;
    a.kStride = shape.kStride;
    a.vStride = shape.vStride;
    a.window = shape.window;
    a.scale = scale;
    launchAttention(a, m_stream);
    checkLaunch("attention");
}

void CudaBackend::route(const float* logits, int nTok, int nExpert, const ops::RouterParams& p, float threshold,
                        bool renormalizeKept, int32_t* ids, float* weights) {
    const int nGroup = std::max(p.nGroup, 1);
    if (nExpert > kRouteMaxExperts || nGroup > kRouteMaxGroups || p.k < 1 || p.k > nExpert ||
        nExpert % nGroup != 0 || p.topkGroup < 1) {
        record(Status(StatusCode::Unsupported, "cuda route: " + std::to_string(nExpert) + " experts, " +
                                                   std::to_string(nGroup) + " groups, k " + std::to_string(p.k) +
                                                   " is outside the kernel's limits (<= " +
                                                   std::to_string(kRouteMaxExperts) + " experts, <= " +
                                                   std::to_string(kRouteMaxGroups) + " groups)"));
        return;
    }
    if (!bind()) return;
    RouteArgs a;
    a.logits = logits;
    a.nTok = nTok;
    a.nExpert = nExpert;
    a.sigmoid = p.sigmoid;
    a.groupByTopTwoSum = p.groupByTopTwoSum;
    a.normalize = p.normalize;
    a.nGroup = nGroup;
    a.topkGroup = p.topkGroup;
    a.k = p.k;
    a.scale = p.scale;
    a.bias = p.bias;
    a.threshold = threshold;
    a.renormalizeKept = renormalizeKept;
    a.ids = ids;
    a.weights = weights;
    launchRoute(a, m_stream);
    checkLaunch("route");
}

void CudaBackend::moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights, int k,
                             const ExpertSet& experts, float* out) {
    const auto* t = static_cast<const ExpertTables*>(experts.backendData.get());
    if (!t) {
        record(Status(StatusCode::InvalidArgument, "cuda moeExperts: prepareExperts was not called on the set"));
        return;
    }
    if (t->nExpert > kRouteMaxExperts) {
        record(Status(StatusCode::Unsupported, "cuda moeExperts: " + std::to_string(t->nExpert) + " experts (<= " +
                                                   std::to_string(kRouteMaxExperts) + ")"));
        return;
    }
    if (nTok <= 0 || k <= 0) return;
    if (!bind()) return;
    const int nSlots = nTok * k, nExp = t->nExpert;
    auto* groupStart = static_cast<int32_t*>(scratch("moe.groupStart", size_t(nExp + 1) * 4));
    auto* active = static_cast<int32_t*>(scratch("moe.active", size_t(nExp) * 4 + 4));
    auto* nActive = active + nExp;
    auto* posOfSlot = static_cast<int32_t*>(scratch("moe.posOfSlot", size_t(nSlots) * 4));
    auto* tokenOfPos = static_cast<int32_t*>(scratch("moe.tokenOfPos", size_t(nSlots) * 4));
    auto* act = static_cast<float*>(scratch("moe.act", size_t(nSlots) * size_t(t->nFf) * 4));
    auto* ySorted = static_cast<float*>(scratch("moe.ySorted", size_t(nSlots) * size_t(t->nEmbd) * 4));
    if (!groupStart || !active || !posOfSlot || !tokenOfPos || !act || !ySorted) return;
    launchSortByExpert(ids, nSlots, k, nExp, groupStart, active, nActive, posOfSlot, tokenOfPos, m_stream);
    checkLaunch("moeExperts: sort by expert");

    MatmulArgs gu;
    gu.type = t->gateType;
    gu.wTable = t->gate.as<const void* const>();
    gu.w2Table = t->up.as<const void* const>();
    gu.rows = t->nFf;
    gu.cols = t->nEmbd;
    gu.rowBytes = t->gateRowBytes;
    gu.x = x;
    gu.ldx = t->nEmbd;
    gu.xIndex = tokenOfPos;
    gu.y = act;
    gu.ldy = t->nFf;
    gu.nPos = nSlots;
    gu.groupStart = groupStart;
    gu.activeGroups = active;
    gu.nActive = nActive;
    gu.groupSlots = std::min(nExp, nSlots);
    gu.maxPerGroup = nTok; // a token picks an expert at most once
    launchMatmul(gu, true, m_stream);
    checkLaunch("moeExperts: gate+up+swiglu");

    MatmulArgs dn = gu;
    dn.type = t->downType;
    dn.wTable = t->down.as<const void* const>();
    dn.w2Table = nullptr;
    dn.rows = t->nEmbd;
    dn.cols = t->nFf;
    dn.rowBytes = t->downRowBytes;
    dn.x = act;
    dn.ldx = t->nFf;
    dn.xIndex = nullptr;
    dn.y = ySorted;
    dn.ldy = t->nEmbd;
    launchMatmul(dn, false, m_stream);
    checkLaunch("moeExperts: down");

    launchCombineExperts(ySorted, posOfSlot, weights, nTok, k, t->nEmbd, out, m_stream);
    checkLaunch("moeExperts: combine");
}

void CudaBackend::accumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert,
                                    int64_t* counts, double* sums) {
    if (!bind()) return;
    launchAccumulateRouting(ids, weights, nSlots, nExpert, counts, sums, m_stream);
    checkLaunch("accumulateRouting");
}

} // namespace moe::cuda

namespace moe {

Result<std::unique_ptr<ComputeBackend>> makeCudaBackend(int device) {
    auto b = cuda::CudaBackend::create(device);
    if (!b.isOk()) return b.status();
    return std::unique_ptr<ComputeBackend>(std::move(b).value());
}

} // namespace moe
