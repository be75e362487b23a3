#include "base/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace blindfold {
namespace {

thread_local bool t_in_worker = false;

// About 20-50 microseconds of polling.
constexpr int kSpinPolls = 1 << 12;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

class Pool {
 public:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("BLINDFOLD_THREADS")) n = std::atoi(env);
    Resize(n < 1 ? 1 : n);
  }
  ~Pool() { Resize(1); }

  int size() const { return size_; }

  void Resize(int n) {
    if (n < 1) n = 1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      ++generation_;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    size_ = n;
    const uint64_t gen = generation_;
    for (int i = 1; i < n; ++i) {
      workers_.emplace_back([this, gen] { WorkerLoop(gen); });
    }
  }

  // The caller drains the loop alongside whichever workers wake up in time.
  // When the caller runs out of indices the loop is closed: a worker that
  // wakes later skips it, so the caller waits only for workers still
  // running an index, never for one that has not woken yet (a wake-up can
  // take longer than a whole short loop).
  void Run(std::size_t n, absl::FunctionRef<void(std::size_t)> fn) {
    std::lock_guard<std::mutex> run_lock(run_mu_);  // one loop at a time
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0, std::memory_order_relaxed);
      open_ = true;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    cv_.notify_all();
    Drain();
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = false;  // from here no worker joins, so active_ only falls
    }
    // A worker still running an index usually finishes within microseconds:
    // poll for it before sleeping on the condition variable, whose wake-up
    // (a futex wake and a reschedule of this thread) costs about as much.
    for (int spin = 0; spin < kSpinPolls; ++spin) {
      if (active_.load(std::memory_order_acquire) == 0) break;
      CpuRelax();
    }
    if (active_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return active_.load(std::memory_order_acquire) == 0; });
    }
    fn_ = nullptr;
  }

 private:
  void Drain() {
    const bool was = t_in_worker;
    t_in_worker = true;
    for (;;) {
      std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_) break;
      (*fn_)(i);
    }
    t_in_worker = was;
  }

  // `seen` is the generation at creation, so a loop started before this
  // thread first takes the lock is not missed.
  void WorkerLoop(uint64_t seen) {
    for (;;) {
      // Ops issue ParallelFors back to back (tens of microseconds apart):
      // poll briefly for the next one before sleeping on the condition
      // variable, whose wake-up costs about as much as a short loop.
      for (int spin = 0; spin < kSpinPolls; ++spin) {
        if (published_.load(std::memory_order_acquire) != seen) break;
        CpuRelax();
      }
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        if (!open_) continue;  // the caller already finished this loop
        active_.fetch_add(1, std::memory_order_relaxed);  // ordered by mu_
      }
      Drain();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Under mu_: the caller either sees 0 in its wait's predicate or
        // is already waiting and gets this notification.
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_one();
      }
    }
  }

  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int size_ = 1;
  bool open_ = false;  // the current loop still accepts workers
  std::size_t n_ = 0;
  absl::FunctionRef<void(std::size_t)>* fn_ = nullptr;
  // The words every thread touches while a loop runs, each on its own cache
  // line: the index counter (written by every Drain), the published
  // generation (polled by idle workers) and the count of workers inside the
  // loop (polled by the caller at its end) must not invalidate each other.
  alignas(64) std::atomic<std::size_t> next_{0};
  alignas(64) std::atomic<uint64_t> published_{0};  // generation_, readable without mu_
  alignas(64) std::atomic<int> active_{0};  // workers inside the current loop; joins under mu_
};

Pool& GetPool() {
  static Pool* pool = new Pool();  // never destroyed: workers outlive statics
  return *pool;
}

}  // namespace

int ThreadCount() { return GetPool().size(); }

void SetThreadCount(int n) { GetPool().Resize(n); }

void ParallelFor(std::size_t n, absl::FunctionRef<void(std::size_t)> fn) {
  if (n == 0) return;
  Pool& pool = GetPool();
  if (n == 1 || pool.size() == 1 || t_in_worker) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  pool.Run(n, fn);
}

}  // namespace blindfold
