// File: service/work_queue.h
// A bounded queue of jobs and the workers that run them. Submit never
// blocks: with `capacity` jobs already waiting it returns ResourceExhausted
// at once, so a loaded server sheds requests instead of piling them up.
// Each HE job parallelises inside the engine (base/thread_pool.h), so few
// workers are needed (docs/service.md, "Limits").
#ifndef BLINDFOLD_SERVICE_WORK_QUEUE_H_
#define BLINDFOLD_SERVICE_WORK_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace blindfold::service {

class WorkQueue {
 public:
  WorkQueue(int workers, int capacity);
  ~WorkQueue();  // Shutdown()

  // Queues `job`. ResourceExhausted when `capacity` jobs wait already
  // for a worker (0: run only on an idle worker); Unavailable after
  // Shutdown().
  absl::Status Submit(std::function<void()> job);
  // Stops taking jobs, runs those queued, joins the workers.
  void Shutdown();

  int depth() const;    // jobs waiting
  int running() const;  // jobs running
  int capacity() const { return capacity_; }

 private:
  void Loop();

  const int capacity_;
  const int workers_count_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  int running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_WORK_QUEUE_H_
