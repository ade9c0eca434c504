// ThreadPool: a fixed set of workers for data-parallel loops (parallelFor). The calling thread
// takes a share of the work, so a pool of N threads uses N-1 workers. Used by the CPU ops for
// row-parallel mat-vec and per-head attention.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace moe {

class ThreadPool {
public:
    explicit ThreadPool(int nThreads); // nThreads <= 0: hardware concurrency
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return m_nThreads; }

    // Calls fn(begin, end) over disjoint chunks covering [0, n); returns when all are done.
    // Not re-entrant: fn must not call parallelFor on the same pool.
    void parallelFor(size_t n, const std::function<void(size_t, size_t)>& fn);

private:
    void workerLoop(int index);

    int m_nThreads = 1;
    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(size_t, size_t)>* m_job = nullptr;
    size_t m_jobSize = 0;
    uint64_t m_generation = 0;
    int m_pending = 0;
    bool m_stop = false;
};

} // namespace moe
