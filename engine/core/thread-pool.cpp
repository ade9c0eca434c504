// ThreadPool: one job at a time, split into m_nThreads equal chunks; chunk 0 runs on the caller.
#include "core/thread-pool.h"

#include <algorithm>

namespace moe {

ThreadPool::ThreadPool(int nThreads) {
    m_nThreads = nThreads > 0 ? nThreads : int(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < m_nThreads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_workers) t.join();
}

static void runChunk(const std::function<void(size_t, size_t)>& fn, size_t n, int index,
                     int nChunks) {
    size_t begin = n * size_t(index) / size_t(nChunks);
    size_t end = n * size_t(index + 1) / size_t(nChunks);
    if (begin < end) fn(begin, end);
}

void ThreadPool::parallelFor(size_t n, const std::function<void(size_t, size_t)>& fn) {
    if (n == 0) return;
    if (m_nThreads == 1 || n == 1) {
        fn(0, n);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_job = &fn;
        m_jobSize = n;
        m_pending = m_nThreads - 1;
        ++m_generation;
    }
    m_wake.notify_all();
    runChunk(fn, n, 0, m_nThreads);
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [this] { return m_pending == 0; });
    m_job = nullptr;
}

void ThreadPool::workerLoop(int index) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(size_t, size_t)>* job;
        size_t n;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
            if (m_stop) return;
            seen = m_generation;
            job = m_job;
            n = m_jobSize;
        }
        runChunk(*job, n, index, m_nThreads);
        {
            std::lock_guard lock(m_mutex);
            if (--m_pending == 0) m_done.notify_one();
        }
    }
}

} // namespace moe
