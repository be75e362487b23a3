// File: service/work_queue.cc
#include "service/work_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace blindfold::service {

WorkQueue::WorkQueue(int workers, int capacity)
    : capacity_(capacity < 0 ? 0 : capacity), workers_count_(workers < 1 ? 1 : workers) {
  for (int i = 0; i < workers_count_; ++i) {
    workers_.emplace_back([this] { Loop(); });
  }
}

WorkQueue::~WorkQueue() { Shutdown(); }

absl::Status WorkQueue::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::UnavailableError("the server is shutting down");
    // Jobs an idle worker is about to take are not waiting.
    const int idle = workers_count_ - running_;
    if (static_cast<int>(jobs_.size()) >= capacity_ + std::max(0, idle)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the work queue is full (", capacity_, " requests waiting, ", running_,
          " running); retry later"));
    }
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void WorkQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && workers_.empty()) return;
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

int WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(jobs_.size());
}

int WorkQueue::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void WorkQueue::Loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job();
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
}

}  // namespace blindfold::service
