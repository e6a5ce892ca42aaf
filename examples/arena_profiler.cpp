// A small sampling memory profiler built on varena's hooks and registry:
// hooks count what each named arena commits, gives back to the OS and takes
// back by restores (events no malloc-based profiler sees), and a sampler
// reads every live arena's position every few milliseconds. It prints bytes
// live per arena name over time, then the registry's report.
//
// The same hooks map onto Tracy's named memory pools (README, "Named arenas,
// the registry and hooks"): commit -> TracyAllocN, decommit -> TracyFreeN.
#include <varena/varena.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

// Per-name totals the hooks keep: a handful of names, found by comparing.
struct Totals {
  char name[32];
  std::size_t committed, restores, bytes_taken_back;
};

struct Profiler {
  std::mutex lock;
  Totals rows[8] = {};
  std::size_t count = 0;

  Totals& row(const char* name) {  // called with `lock` held
    for (std::size_t i = 0; i < count; ++i)
      if (std::strcmp(rows[i].name, name) == 0) return rows[i];
    Totals& t = rows[count < 8 ? count++ : 7];
    std::snprintf(t.name, sizeof t.name, "%s", name);
    return t;
  }

  static void commit(void* self, const varena::Arena& arena, void*, std::size_t bytes) {
    auto* p = static_cast<Profiler*>(self);
    std::lock_guard<std::mutex> guard(p->lock);
    p->row(arena.name()).committed += bytes;
  }
  static void decommit(void* self, const varena::Arena& arena, void*, std::size_t bytes) {
    auto* p = static_cast<Profiler*>(self);
    std::lock_guard<std::mutex> guard(p->lock);
    p->row(arena.name()).committed -= bytes;
  }
  static void restore(void* self, const varena::Arena& arena, std::size_t from, std::size_t to) {
    auto* p = static_cast<Profiler*>(self);
    std::lock_guard<std::mutex> guard(p->lock);
    Totals& t = p->row(arena.name());
    ++t.restores;
    t.bytes_taken_back += from - to;
  }

  varena::Hooks hooks() {
    varena::Hooks h;
    h.context = this;
    h.commit = &commit;
    h.decommit = &decommit;
    h.restore = &restore;
    return h;
  }
};

// One sample: bytes in use per arena name, summed over arenas of that name.
void sample(int millis) {
  struct Line {
    char text[200];
    std::size_t used;
  } line{};
  int n = std::snprintf(line.text, sizeof line.text, "%4d ms |", millis);
  varena::for_each_arena([&](const varena::ArenaInfo& info) {
    if (info.name[0] == '\0' || n < 0 || static_cast<std::size_t>(n) >= sizeof line.text) return;
    n += std::snprintf(line.text + n, sizeof line.text - static_cast<std::size_t>(n), " %s %zu KiB |", info.name,
                       info.position >> 10);
  });
  std::puts(line.text);
}

}  // namespace

int main() {
  Profiler profiler;
  varena::set_hooks(profiler.hooks());

  varena::Options frame_options, assets_options;
  frame_options.name = "frame";
  assets_options.name = "assets";
  varena::Arena frame(frame_options), assets(assets_options);

  std::atomic<bool> done{false};
  std::thread sampler([&] {
    const auto start = std::chrono::steady_clock::now();
    while (!done.load()) {
      const auto now = std::chrono::steady_clock::now();
      sample(static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count()));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // The program being profiled: frames that build and drop per-frame data,
  // assets that only grow.
  for (int f = 0; f < 40; ++f) {
    for (int i = 0; i < 100 + f * 10; ++i) frame.push(1024);
    assets.push(64 << 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    frame.reset();
  }
  done = true;
  sampler.join();
  varena::set_hooks({});

  std::puts("\nper name: committed now, restores, bytes taken back by restores");
  for (std::size_t i = 0; i < profiler.count; ++i) {
    const Totals& t = profiler.rows[i];
    std::printf("  %-8s %8zu KiB %6zu %10zu KiB\n", t.name, t.committed >> 10, t.restores, t.bytes_taken_back >> 10);
  }
  std::puts("");
  const bool ok = varena::write_report(stdout);
  // The hooks saw every commit and restore of these two arenas.
  std::lock_guard<std::mutex> guard(profiler.lock);
  const bool consistent = profiler.row("frame").committed == frame.committed() &&
                          profiler.row("assets").committed == assets.committed() && profiler.row("frame").restores == 40;
  if (!consistent) std::puts("hooks and arenas disagree");
  return ok && consistent ? 0 : 1;
}
