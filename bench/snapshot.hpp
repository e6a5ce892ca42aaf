// Snapshots and rollback (issue 14) on 1 GiB in use (16 MiB with
// VARENA_BENCH_SMOKE), every page faulted in before timing:
//
//   snapshot + 1% dirty + rollback: one whole cycle a batch (snapshot, a byte
//     written in 1% of the pages, rollback, the snapshot dropped);
//   1% dirty + rollback: the snapshot taken once, before timing (a fuzzing
//     harness or rollback netcode going back to one state again and again);
//   1% dirty + rollback + read every page: as above, then one byte of each
//     page read, as a program going on from the state it rolled back to does
//     (copy-on-write pays there for the pages its rollback dropped);
//   snapshot alone: snapshot + drop, nothing written since the last one.
//
// Columns: varena copy-on-write (Options::copy_on_write: the snapshot shares
// the pages, a rollback drops the pages written since), varena copy (a plain
// arena: the snapshot is a copy into a new reservation, a rollback copies it
// back), and memcpy, the limit of a copy: the same bytes copied out to (and
// back from) a buffer faulted in before timing (transparent huge pages, as
// the plain arena's), so no page fault and no allocation in its figure.
//
// The dirtied pages are the same in every column: 1% of the pages, picked
// pseudo-randomly with a fixed seed, one byte written in each.
//
// The arenas and the buffer are made once per process and shared by every
// case here (filling 1 GiB costs more than the rows themselves; they stay,
// 3 GiB, until the process ends); each case leaves them as it found them,
// which is checked after timing. The copy-on-write arena has had its first
// snapshot (which maps the range privately: a one-off cost, tens of
// milliseconds at 1 GiB, that no row includes) and every page read again.
#pragma once

#include <varena/arena.hpp>
#include <varena/vm.hpp>

#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"

namespace bench {

inline std::size_t snap_bytes() { return smoke() ? 16 * kMiB : 1024 * kMiB; }
inline std::size_t snap_page() { return varena::vm::info().page_size; }

// What byte `offset` of the used range holds when not dirtied: a value per page.
inline char snap_pattern(std::size_t offset) {
  return static_cast<char>((offset / snap_page()) * 31 + 7);
}

// Offsets of the bytes written: one in each of 1% of the pages, in a fixed
// pseudo-random order, the same for every column.
inline const std::vector<std::size_t>& snap_dirty_offsets() {
  static const std::vector<std::size_t> offsets = [] {
    const std::size_t page = snap_page(), pages = snap_bytes() / page;
    std::vector<std::size_t> all(pages);
    for (std::size_t i = 0; i < pages; ++i) all[i] = i;
    std::mt19937_64 rng(14);  // issue 14
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(std::max<std::size_t>(1, pages / 100));
    std::vector<std::size_t> at;
    at.reserve(all.size());
    for (std::size_t p : all) at.push_back(p * page + (p * 64) % page);
    return at;
  }();
  return offsets;
}

// Writes one byte (not the one there) in each page of snap_dirty_offsets().
inline void snap_dirty(char* data) {
  for (std::size_t off : snap_dirty_offsets()) data[off] = static_cast<char>(~snap_pattern(off));
  benchmark::ClobberMemory();  // the stores happen before the rollback (or memcpy) that undoes them
}

// Reads one byte of every page, so each is mapped before timing.
inline void snap_touch(const char* data) {
  unsigned sum = 0;
  for (std::size_t at = 0; at < snap_bytes(); at += snap_page())
    sum += static_cast<unsigned char>(*static_cast<const volatile char*>(data + at));
  keep(&sum);
}

// The used range is as it was filled: the dirtied bytes were put back.
inline void snap_check(const char* data, const char* what) {
  const std::size_t last = snap_bytes() - 1;
  bool ok = data[0] == snap_pattern(0) && data[last] == snap_pattern(last);
  for (std::size_t off : snap_dirty_offsets()) ok = ok && data[off] == snap_pattern(off);
  if (!ok) die(what);
}

// An arena with snap_bytes() in use, filled with snap_pattern.
struct SnapArena {
  varena::Arena arena;
  char* data = nullptr;

  explicit SnapArena(bool copy_on_write) : arena(options(copy_on_write)) {
    data = arena.push_array_uninit<char>(snap_bytes());
    for (std::size_t at = 0; at < snap_bytes(); at += snap_page())
      std::memset(data + at, snap_pattern(at), snap_page());
  }
  static varena::Options options(bool copy_on_write) {
    varena::Options o;
    o.copy_on_write = copy_on_write;
    return o;
  }
};

inline SnapArena& snap_arena(bool copy_on_write) {
  static std::unique_ptr<SnapArena> cow, plain;
  std::unique_ptr<SnapArena>& a = copy_on_write ? cow : plain;
  if (!a) {
    a = std::make_unique<SnapArena>(copy_on_write);
    if (copy_on_write) {
      // The first copy-on-write snapshot maps the range privately: every page
      // is unmapped then (reads fault again). Once, here; each case then
      // starts by reading every page, so that it starts with the range mapped.
      varena::Snapshot s;
      if (!a->arena.try_snapshot(s)) die("snapshot refused");
    }
  }
  snap_touch(a->data);
  return *a;
}

// The memcpy columns' buffer: snap_bytes(), huge pages advised (as the
// plain arena's memory), every page written, holding the plain arena's bytes
// (every case that writes it copies those bytes into it, so it always does:
// "1% dirty + rollback" checks that before timing instead of copying again).
inline char* snap_buffer() {
  static char* buffer = [] {
    const std::size_t huge = std::size_t{2} * kMiB, bytes = snap_bytes() + huge;
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) die("mmap of the memcpy buffer failed");
    char* p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(m) + huge - 1) & ~(huge - 1));
    (void)madvise(p, snap_bytes(), MADV_HUGEPAGE);
    std::memcpy(p, snap_arena(false).data, snap_bytes());
    return p;
  }();
  return buffer;
}

// Budgets. A copy's batch takes 0.1-0.5 s at 1 GiB: no warm-up (the arenas
// and the buffer are in memory already, nothing else settles), one batch a
// repetition. A copy-on-write batch takes milliseconds: a short warm-up.
inline Budget snap_copy_budget() { return Budget{0, 0, 0.0, 1, 1.0}; }
inline Budget snap_cow_budget() { return Budget{4, 4000, 0.08, 2, 0.10}; }
template <bool Cow>
Budget snap_budget() {
  return Cow ? snap_cow_budget() : snap_copy_budget();
}

// Whether the arena's snapshots are of the column's kind. A plain arena's
// never is copy-on-write (the benchmark is wrong if it is); the
// copy-on-write column is skipped with an error if its snapshot is a copy
// (no memfd, or /proc/self/pagemap unreadable), rather than timing copies.
template <bool Cow>
bool snap_kind_ok(benchmark::State& state, bool copy_on_write) {
  if (copy_on_write == Cow) return true;
  if (!Cow) die("a plain arena's snapshot claims to be copy-on-write");
  state.SkipWithError("the snapshot is a copy, not copy-on-write (no memfd, or /proc/self/pagemap unreadable)");
  return false;
}

// Before timing, for the copy-on-write column (a copy's snapshot is not
// cheap enough to take just to look: the batches check theirs).
template <bool Cow>
bool snap_check_kind(benchmark::State& state, SnapArena& a) {
  if (!Cow) return true;
  varena::Snapshot s;
  if (!a.arena.try_snapshot(s)) die("snapshot refused");
  return snap_kind_ok<Cow>(state, s.copy_on_write());
}

// snapshot + 1% dirty + rollback, the snapshot dropped: one cycle a batch.
template <bool Cow>
void snap_cycle(benchmark::State& state) {
  SnapArena& a = snap_arena(Cow);
  if (!snap_check_kind<Cow>(state, a)) return;
  bool same_kind = true;
  run_batches(state, 1, [&] {
    varena::Snapshot s;
    if (!a.arena.try_snapshot(s)) die("snapshot refused");
    same_kind = same_kind && s.copy_on_write() == Cow;
    snap_dirty(a.data);
    if (!a.arena.try_rollback(s)) die("rollback refused");
  }, snap_budget<Cow>());
  snap_check(a.data, "snapshot + dirty + rollback: the bytes did not come back");
  if (!same_kind) (void)snap_kind_ok<Cow>(state, !Cow);
}

inline void snap_cycle_memcpy(benchmark::State& state) {
  SnapArena& a = snap_arena(false);
  char* buffer = snap_buffer();
  run_batches(state, 1, [&] {
    std::memcpy(buffer, a.data, snap_bytes());
    snap_dirty(a.data);
    std::memcpy(a.data, buffer, snap_bytes());
    benchmark::ClobberMemory();
  }, snap_copy_budget());
  snap_check(a.data, "memcpy + dirty + memcpy back: the bytes did not come back");
}

// 1% dirty + rollback to a snapshot taken before timing; with Read, then one
// byte of every page read (what a program that goes on from the state it
// rolled back to pays: with copy-on-write, the pages dropped fault again).
template <bool Cow, bool Read>
void snap_rollback(benchmark::State& state) {
  SnapArena& a = snap_arena(Cow);
  varena::Snapshot s;
  if (!a.arena.try_snapshot(s)) die("snapshot refused");
  if (!snap_kind_ok<Cow>(state, s.copy_on_write())) return;
  run_batches(state, 1, [&] {
    snap_dirty(a.data);
    if (!a.arena.try_rollback(s)) die("rollback refused");
    if (Read) snap_touch(a.data);
  }, snap_budget<Cow>());
  snap_check(a.data, "dirty + rollback: the bytes did not come back");
}

template <bool Read>
void snap_rollback_memcpy(benchmark::State& state) {
  SnapArena& a = snap_arena(false);
  char* buffer = snap_buffer();
  snap_check(buffer, "the memcpy buffer does not hold the arena's bytes");
  run_batches(state, 1, [&] {
    snap_dirty(a.data);
    std::memcpy(a.data, buffer, snap_bytes());
    benchmark::ClobberMemory();
    if (Read) snap_touch(a.data);
  }, snap_copy_budget());
  snap_check(a.data, "dirty + memcpy back: the bytes did not come back");
}

// snapshot + drop, nothing written since the last snapshot.
template <bool Cow>
void snap_alone(benchmark::State& state) {
  SnapArena& a = snap_arena(Cow);
  if (!snap_check_kind<Cow>(state, a)) return;
  bool same_kind = true;
  run_batches(state, 1, [&] {
    varena::Snapshot s;
    if (!a.arena.try_snapshot(s)) die("snapshot refused");
    same_kind = same_kind && s.copy_on_write() == Cow;
  }, snap_budget<Cow>());
  if (!same_kind) (void)snap_kind_ok<Cow>(state, !Cow);
}

inline void snap_alone_memcpy(benchmark::State& state) {
  SnapArena& a = snap_arena(false);
  char* buffer = snap_buffer();
  run_batches(state, 1, [&] {
    std::memcpy(buffer, a.data, snap_bytes());
    benchmark::ClobberMemory();
  }, snap_copy_budget());
}

// "+ read every page" without the copy column (it costs what memcpy does
// there, as in the row before), to keep the set's run short.
inline void register_snapshots() {
  const int copies = 1, cow = smoke() ? 1 : 5;
  const std::string cycle = "snapshot + 1% dirty + rollback 1 GiB/", rollback = "1% dirty + rollback 1 GiB/",
                    read = "1% dirty + rollback + read every page 1 GiB/", alone = "snapshot alone 1 GiB/";
  const auto ms = benchmark::kMillisecond;
  add_case(cycle + "varena copy-on-write", snap_cycle<true>)->Unit(ms)->Iterations(cow);
  add_case(cycle + "varena copy", snap_cycle<false>)->Unit(ms)->Iterations(copies);
  add_case(cycle + "memcpy", snap_cycle_memcpy)->Unit(ms)->Iterations(copies);
  add_case(rollback + "varena copy-on-write", snap_rollback<true, false>)->Unit(ms)->Iterations(cow);
  add_case(rollback + "varena copy", snap_rollback<false, false>)->Unit(ms)->Iterations(copies);
  add_case(rollback + "memcpy", snap_rollback_memcpy<false>)->Unit(ms)->Iterations(copies);
  add_case(read + "varena copy-on-write", snap_rollback<true, true>)->Unit(ms)->Iterations(cow);
  add_case(read + "memcpy", snap_rollback_memcpy<true>)->Unit(ms)->Iterations(copies);
  add_case(alone + "varena copy-on-write", snap_alone<true>)->Unit(ms)->Iterations(cow);
  add_case(alone + "varena copy", snap_alone<false>)->Unit(ms)->Iterations(copies);
  add_case(alone + "memcpy", snap_alone_memcpy)->Unit(ms)->Iterations(copies);
}

}  // namespace bench
