// Double-buffered frame arenas: each frame computes velocities from last
// frame's positions, which stay valid for exactly one more frame.
#include <varena/varena.hpp>

#include <cmath>
#include <cstdio>

namespace {

struct Positions {
  float* x;
  int count;
};

}  // namespace

int main() {
  varena::FrameArenas frames;
  constexpr int kBodies = 1000;
  Positions* last = nullptr;
  double total_speed = 0;
  for (int frame = 0; frame < 60; ++frame) {
    varena::Arena& now = frames.current();
    auto* positions = now.make<Positions>(Positions{now.push_array<float>(kBodies), kBodies});
    for (int i = 0; i < kBodies; ++i) positions->x[i] = static_cast<float>(frame * (i % 10));
    if (last != nullptr) {  // last frame's data: in frames.previous(), still intact
      float* velocity = now.push_array<float>(kBodies);
      for (int i = 0; i < kBodies; ++i) velocity[i] = positions->x[i] - last->x[i];
      total_speed += std::fabs(velocity[kBodies - 1]);
    }
    last = positions;
    frames.next_frame();  // this frame becomes previous(); two frames ago is reset
  }
  std::printf("60 frames, mean speed of the last body %.1f, arenas hold %zu + %zu bytes\n", total_speed / 59,
              frames.current().position(), frames.previous().position());
  return total_speed / 59 == 9.0 ? 0 : 1;
}
