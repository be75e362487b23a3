// File: service/work_queue.cc
#include "service/work_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace blindfold::service {

WorkQueue::WorkQueue(int workers, int capacity)
    : capacity_(std::max(0, capacity)), workers_(std::max(1, workers)) {}

absl::Status WorkQueue::Run(const std::function<void()>& job, Clock::time_point deadline,
                            const std::function<bool()>& cancelled, double* waited_seconds) {
  const auto start = Clock::now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return absl::UnavailableError("the server is shutting down");
    if (running_ < workers_ && waiters_.empty()) {
      ++running_;
    } else {
      if (static_cast<int>(waiters_.size()) >= capacity_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the work queue is full (", waiters_.size(), " requests waiting, ", running_,
            " running); retry later"));
      }
      Waiter w;
      const auto it = waiters_.insert(waiters_.end(), &w);
      // Woken when granted a slot (Release hands it over) or at shutdown;
      // the deadline and cancellation are polled.
      while (!w.granted) {
        w.cv.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
        if (w.granted) break;
        absl::Status gone = absl::OkStatus();
        if (stop_) {
          gone = absl::UnavailableError("the server is shutting down");
        } else if (Clock::now() >= deadline) {
          gone = absl::DeadlineExceededError("the deadline passed while waiting for a worker");
        } else if (cancelled && cancelled()) {
          gone = absl::CancelledError("the call was cancelled while waiting for a worker");
        }
        if (!gone.ok()) {
          waiters_.erase(it);
          if (waited_seconds) {
            *waited_seconds = std::chrono::duration<double>(Clock::now() - start).count();
          }
          return gone;
        }
      }
    }
  }
  if (waited_seconds) {
    *waited_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  job();
  Release();
  return absl::OkStatus();
}

void WorkQueue::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty() && !stop_) {
    // The slot passes to the first waiter; running_ stays.
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->cv.notify_one();
  } else {
    --running_;
  }
}

void WorkQueue::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  for (Waiter* w : waiters_) w->cv.notify_one();
}

int WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiters_.size());
}

int WorkQueue::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

}  // namespace blindfold::service
