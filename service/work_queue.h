// File: service/work_queue.h
// The bounded work queue: at most `workers` HE jobs run at once, at most
// `capacity` more wait, in arrival order; beyond that a job is refused at
// once (ResourceExhausted), so a loaded server sheds requests instead of
// piling them up. A job runs on the thread that brings it (the call's own
// gRPC thread): no hand-off to a worker thread and back, which on a busy
// machine costs a scheduler wake-up each way. Each HE job parallelises
// inside the engine (base/thread_pool.h), so few workers are needed
// (docs/service.md, "Limits").
#ifndef BLINDFOLD_SERVICE_WORK_QUEUE_H_
#define BLINDFOLD_SERVICE_WORK_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>

#include "absl/status/status.h"

namespace blindfold::service {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  WorkQueue(int workers, int capacity);

  // Runs `job` on this thread once a worker slot is free (at once if one is
  // and nobody waits). Errors, with `job` not run: ResourceExhausted when
  // `capacity` jobs wait already; DeadlineExceeded when `deadline` passes
  // while waiting; Cancelled when `cancelled()` (polled while waiting)
  // turns true; Unavailable after Shutdown(). `waited_seconds`: time spent
  // waiting for the slot.
  absl::Status Run(const std::function<void()>& job, Clock::time_point deadline,
                   const std::function<bool()>& cancelled, double* waited_seconds = nullptr);
  // Refuses new jobs and wakes the waiting ones (Unavailable); running
  // jobs finish.
  void Shutdown();

  int depth() const;    // jobs waiting
  int running() const;  // jobs running
  int capacity() const { return capacity_; }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  void Release();

  const int capacity_;
  const int workers_;
  mutable std::mutex mu_;
  std::list<Waiter*> waiters_;  // arrival order
  int running_ = 0;
  bool stop_ = false;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_WORK_QUEUE_H_
