// A game-style frame loop: everything a frame needs comes from one arena
// that is reset when the frame ends. No frees, no fragmentation, and after
// the first frames no system calls either: the arena keeps its working set.
#include <varena/varena.hpp>

#include <cstdio>
#include <cstring>

namespace {

struct Particle {
  float x, y, dx, dy;
};

// One frame: simulate, build a draw list, format a status line.
std::size_t run_frame(varena::Arena& frame, int number) {
  const std::size_t count = 10000 + static_cast<std::size_t>(number % 7) * 1000;
  Particle* particles = frame.push_array<Particle>(count);  // zeroed
  for (std::size_t i = 0; i < count; ++i) {
    particles[i].dx = static_cast<float>(i % 13);
    particles[i].x += particles[i].dx;
  }
  auto* visible = frame.push_array_uninit<const Particle*>(count);  // filled below
  std::size_t shown = 0;
  for (std::size_t i = 0; i < count; ++i)
    if (particles[i].x > 6.0f) visible[shown++] = &particles[i];
  char* status = static_cast<char*>(frame.push_uninit(64, 1));
  std::snprintf(status, 64, "frame %d: %zu of %zu particles shown", number, shown, count);
  if (number % 20 == 0) std::puts(status);
  return shown;
}

}  // namespace

int main() {
  varena::Arena frame;
  std::size_t committed_after_warmup = 0;
  std::size_t commits_after_warmup = 0;
  for (int number = 0; number < 100; ++number) {
    if (run_frame(frame, number) == 0) return 1;
    frame.reset();  // the whole frame's memory back in one step
    if (number == 9) {
      committed_after_warmup = frame.committed();
      commits_after_warmup = frame.stats().commits;
    }
  }
  std::printf("committed %zu KiB, steady since frame 10; OS commits after warm-up: %zu; peak %zu KiB\n",
              frame.committed() >> 10, frame.stats().commits - commits_after_warmup, frame.peak() >> 10);
  return frame.committed() == committed_after_warmup && frame.stats().commits == commits_after_warmup ? 0 : 1;
}
