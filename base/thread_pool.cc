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

  void Run(std::size_t n, absl::FunctionRef<void(std::size_t)> fn) {
    std::lock_guard<std::mutex> run_lock(run_mu_);  // one loop at a time
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0, std::memory_order_relaxed);
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    cv_.notify_all();
    Drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
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
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
      }
      Drain();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
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
  int pending_ = 0;
  std::size_t n_ = 0;
  std::atomic<std::size_t> next_{0};
  absl::FunctionRef<void(std::size_t)>* fn_ = nullptr;
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
