// Threads pushing into shared allocators, batch by batch: the calling thread
// and `threads - 1` helpers each run one share of a batch, meet, the calling
// thread runs the between-batches step (a reset), and they meet again. The
// batch is timed on the calling thread, so ns per push is the time of the
// batch over the pushes of all threads: the inverse of the team's throughput.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace bench {

// Pushes of 32 B (8 B written into each), 1 MiB of them per thread a batch.
constexpr std::size_t kTeamPushBytes = 32;
constexpr std::size_t kTeamPushes = kMiB / kTeamPushBytes;

class Team {
 public:
  // share(thread) runs on every thread, between() on the calling thread.
  template <class Share, class Between>
  static void run(benchmark::State& state, unsigned threads, Share share, Between between) {
    Team team(threads);
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads; ++t)
      helpers.emplace_back([&team, &share, t] {
        for (std::size_t round = 1;; ++round) {
          team.wait_for(team.start_, round);
          if (team.stop_.load(std::memory_order_acquire)) return;
          share(t);
          team.done_.fetch_add(1, std::memory_order_acq_rel);
        }
      });
    std::size_t round = 0;
    run_batches(state, kTeamPushes * threads, [&] {
      team.start_.store(++round, std::memory_order_release);
      share(0u);
      team.wait_for(team.done_, round * (threads - 1));
      between();
    });
    team.stop_.store(true, std::memory_order_release);
    team.start_.store(++round, std::memory_order_release);
    for (std::thread& h : helpers) h.join();
  }

 private:
  explicit Team(unsigned) {}
  void wait_for(const std::atomic<std::size_t>& counter, std::size_t value) const {
    while (counter.load(std::memory_order_acquire) < value) std::this_thread::yield();
  }

  std::atomic<std::size_t> start_{0}, done_{0};
  std::atomic<bool> stop_{false};
};

// One share: the pushes of one thread into `push`, each block written.
template <class Push>
void team_share(Push&& push) {
  for (std::size_t i = 0; i < kTeamPushes; ++i) consume(push(), i);
}

}  // namespace bench
