// Rollback netcode: a game keeps its whole world in one arena, simulates
// ahead with a guess of the remote player's input, and when the real input
// arrives and differs, rolls the arena back to the last frame both players
// agree on and simulates forward again. The world is plain data that points
// into itself (entities in a linked list, an event log); a snapshot takes
// all of it at once, whatever its shape.
//
// Checked at the end: the rolled-back run ends in exactly the state of a run
// that knew every input from the start.
#include <varena/arena.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

struct Entity {
  std::int32_t x, y, vx, vy;
  Entity* next;
};
struct Event {
  std::uint32_t frame, entity;
  Event* previous;
};
struct World {
  std::uint32_t frame;
  Entity* entities;
  Event* events;  // newest first: every bounce off a wall
};

constexpr int kEntities = 2000;
constexpr std::uint32_t kFrames = 600;

// The remote player's real input at `frame` (a push on entity 0), which the
// local side learns only some frames later.
std::int32_t remote_input(std::uint32_t frame) { return (frame / 37) % 3 == 0 ? 2 : -1; }

World* create_world(varena::Arena& arena) {
  auto* world = arena.make<World>();
  Entity** tail = &world->entities;
  for (int i = 0; i < kEntities; ++i) {
    auto* e = arena.make<Entity>();
    *e = Entity{i * 7 % 1000, i * 13 % 1000, i % 5 - 2, i % 7 - 3, nullptr};
    *tail = e;
    tail = &e->next;
  }
  return world;
}

// One frame: the input moves entity 0; every entity moves and bounces.
void step(varena::Arena& arena, World& world, std::int32_t input) {
  world.entities->vx += input;
  std::uint32_t index = 0;
  for (Entity* e = world.entities; e != nullptr; e = e->next, ++index) {
    e->x += e->vx, e->y += e->vy;
    if (e->x < 0 || e->x > 1000 || e->y < 0 || e->y > 1000) {
      e->vx = e->x < 0 || e->x > 1000 ? -e->vx : e->vx;
      e->vy = e->y < 0 || e->y > 1000 ? -e->vy : e->vy;
      world.events = arena.make<Event>(Event{world.frame, index, world.events});
    }
  }
  ++world.frame;
}

std::uint64_t checksum(const World& world) {
  std::uint64_t h = world.frame;
  for (const Entity* e = world.entities; e != nullptr; e = e->next)
    h = h * 1000003u + static_cast<std::uint32_t>(e->x * 31 + e->y * 17 + e->vx * 7 + e->vy);
  for (const Event* ev = world.events; ev != nullptr; ev = ev->previous) h = h * 31u + ev->frame * 7u + ev->entity;
  return h;
}

}  // namespace

int main() {
  // The reference: every input known in time.
  varena::Arena reference_arena;
  World* reference = create_world(reference_arena);
  for (std::uint32_t f = 0; f < kFrames; ++f) step(reference_arena, *reference, remote_input(f));

  // The game: the remote input of a frame arrives kDelay frames later; until
  // then, guess that it repeats the last one known. A snapshot of the world
  // as each of the last kDelay + 1 frames began.
  varena::Options options;
  options.copy_on_write = true;  // Linux: one snapshot shares pages; the others, and elsewhere, copy
  varena::Arena arena(options);
  World* world = create_world(arena);
  constexpr std::uint32_t kDelay = 6;
  varena::Snapshot began[kDelay + 1];
  std::int32_t guessed[kFrames] = {};
  int rollbacks = 0;
  // Runs frame f with `input`, having recorded the world as it began.
  const auto run = [&](std::uint32_t f, std::int32_t input) {
    // try_snapshot reuses the slot: its copy-on-write snapshot, if it holds
    // it, is given up first so that the new one can share pages in turn.
    if (!arena.try_snapshot(began[f % (kDelay + 1)])) {
      std::fprintf(stderr, "no memory for a snapshot\n");
      std::exit(1);
    }
    guessed[f] = input;
    step(arena, *world, input);
  };
  for (std::uint32_t now = 0; now < kFrames + kDelay; ++now) {
    if (now >= kDelay) {  // the real input of frame `arrived` is here
      const std::uint32_t arrived = now - kDelay;
      const std::int32_t real = remote_input(arrived);
      if (guessed[arrived] != real) {
        arena.rollback(began[arrived % (kDelay + 1)]);  // position and every byte, as frame `arrived` began
        ++rollbacks;
        for (std::uint32_t f = arrived; f < now && f < kFrames; ++f) run(f, real);
      }
    }
    if (now < kFrames) run(now, now >= kDelay ? remote_input(now - kDelay) : 0);
  }

  const bool same = checksum(*world) == checksum(*reference);
  std::printf("%u frames, %d rollbacks (snapshots: one copy-on-write: %s), %zu bytes of world: %s\n", kFrames,
              rollbacks, began[0].copy_on_write() || began[1].copy_on_write() ? "yes" : "no", arena.position(),
              same ? "identical to the run that knew every input" : "DIFFERENT");
  return same ? 0 : 1;
}
