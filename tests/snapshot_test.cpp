// Snapshots and rollback: every test runs on an arena in copy-on-write memory
// (Options::copy_on_write) and on a plain one, whose snapshots copy; both
// must give the same results. Links varena_faulty (OS fault injection) for
// the failure paths: a copy refused, a commit refused on rollback, a freeze
// or revert of the copy-on-write file refused.
#include <gtest/gtest.h>
#include <varena/arena.hpp>
#include <varena/hooks.hpp>
#include <varena/vm.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "os_faults.hpp"
#include "support.hpp"

using varena::Arena;
using varena::Options;
using varena::Snapshot;
using varena::testing::FailOsCall;
using varena::testing::OsCall;

namespace {

constexpr unsigned kind(OsCall c) { return static_cast<unsigned>(c); }

// Where copy-on-write must work: native Linux with its fast paths compiled in
// (under qemu-user it works too, here, but that is the emulator's doing).
bool copy_on_write_expected() {
#if defined(__linux__) && !defined(VARENA_TEST_PORTABLE)
  return !test::under_qemu();
#else
  return false;
#endif
}

// A byte that says where it is and in which round it was written.
unsigned char pattern(std::size_t offset, unsigned round) {
  return static_cast<unsigned char>((offset * 131 + round * 17 + (offset >> 12)) | 1);
}

void fill(void* p, std::size_t bytes, std::size_t from, unsigned round) {
  auto* c = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i) c[i] = pattern(from + i, round);
}

// The first offset of [p, p + bytes) whose byte is not round's pattern; bytes if none.
std::size_t first_mismatch(const void* p, std::size_t bytes, std::size_t from, unsigned round) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i)
    if (c[i] != pattern(from + i, round)) return i;
  return bytes;
}

std::string memory_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "CopyOnWrite" : "Copy";
}

class SnapshotTest : public ::testing::TestWithParam<bool> {
 protected:
  Options options(Options o = {}) const {
    o.copy_on_write = GetParam();
    o.reserve = std::size_t{256} << 20;
    return o;
  }
  // Whether this arena's first snapshot is copy-on-write: required on native
  // Linux; under an emulator, whatever it manages (then checked for correctness alike).
  bool cow() const {
    if (!GetParam()) return false;
    if (copy_on_write_expected()) return true;
    static const bool probed = [] {
      Options o;
      o.copy_on_write = true;
      o.reserve = std::size_t{1} << 20;
      Arena probe(o);
      probe.push(1);
      return probe.snapshot().copy_on_write();
    }();
    return probed;
  }
};

INSTANTIATE_TEST_SUITE_P(Memory, SnapshotTest, ::testing::Values(true, false),
                         memory_name);

TEST_P(SnapshotTest, RollbackRestoresThePositionAndTheBytes) {
  Arena arena(options());
  const std::size_t bytes = 5 * test::page() + 100;
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  const std::size_t position = arena.position();
  Snapshot s = arena.snapshot();
  EXPECT_EQ(s.position(), position);
  EXPECT_EQ(s.copy_on_write(), cow());
  EXPECT_EQ(s.copied() != 0, !cow());

  fill(data, bytes, 0, 2);  // overwrite everything, and push more
  fill(arena.push_uninit(3 * test::page()), 3 * test::page(), bytes, 2);
  arena.rollback(s);
  EXPECT_EQ(arena.position(), position);
  EXPECT_EQ(first_mismatch(data, bytes, 0, 1), bytes);
}

TEST_P(SnapshotTest, RollbackCanBeRepeated) {
  Arena arena(options());
  const std::size_t bytes = 8 * test::page();
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  Snapshot s = arena.snapshot();
  for (unsigned round = 2; round < 8; ++round) {
    // Each round writes a different part, so that reverting must undo each.
    fill(data + round * 100, test::page(), round * 100, round);
    arena.push(round * 1000);
    arena.rollback(s);
    ASSERT_EQ(arena.position(), s.position());
    ASSERT_EQ(first_mismatch(data, bytes, 0, 1), bytes) << "round " << round;
  }
}

TEST_P(SnapshotTest, RollbackRaisesThePositionAfterARestoreBelowIt) {
  Arena arena(options(test::byte_exact([] {
    Options o;
    o.retain = 0;  // the restore gives everything back
    return o;
  }())));
  const std::size_t bytes = 3 * test::page() + 8;
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  const std::size_t position = arena.position();
  Snapshot s = arena.snapshot();
  arena.reset();
  fill(arena.push_uninit(100), 100, 0, 2);
  arena.rollback(s);
  EXPECT_EQ(arena.position(), position);
  EXPECT_EQ(first_mismatch(data, bytes, 0, 1), bytes);
}

TEST_P(SnapshotTest, PushesAfterARollbackAreZeroed) {
  Arena arena(options());
  // Dirty memory above the snapshot's position before and after it is taken.
  fill(arena.push_uninit(4 * test::page()), 4 * test::page(), 0, 1);
  arena.restore(test::page());
  Snapshot s = arena.snapshot();
  fill(arena.push_uninit(6 * test::page()), 6 * test::page(), test::page(), 2);
  arena.rollback(s);
  const std::size_t bytes = 8 * test::page();
  EXPECT_TRUE(test::all_bytes(arena.push(bytes), bytes, 0));
  // And from a copy-on-write file that held dirty bytes past the position.
  arena.rollback(s);
  EXPECT_TRUE(test::all_bytes(arena.push(bytes), bytes, 0));
}

TEST_P(SnapshotTest, OnlyOneCopyOnWriteSnapshotIsAliveAtATime) {
  Arena arena(options());
  fill(arena.push_uninit(2 * test::page()), 2 * test::page(), 0, 1);
  Snapshot first = arena.snapshot();
  Snapshot second = arena.snapshot();
  EXPECT_EQ(first.copy_on_write(), cow());
  EXPECT_FALSE(second.copy_on_write());
  first = Snapshot{};
  Snapshot third = arena.snapshot();
  EXPECT_EQ(third.copy_on_write(), cow());
  // try_snapshot into the copy-on-write snapshot gives it up for the new one.
  ASSERT_TRUE(arena.try_snapshot(third));
  EXPECT_EQ(third.copy_on_write(), cow());
}

TEST_P(SnapshotTest, SnapshotsOfDifferentMomentsRollBackToTheirOwn) {
  Arena arena(options(test::byte_exact()));
  auto* data = static_cast<unsigned char*>(arena.push_uninit(4 * test::page()));
  fill(data, 4 * test::page(), 0, 1);
  Snapshot one = arena.snapshot();  // copy-on-write where available
  fill(data + 10, 5000, 10, 2);
  auto* more = static_cast<unsigned char*>(arena.push_uninit(300));
  fill(more, 300, 4 * test::page(), 2);
  Snapshot two = arena.snapshot();  // a copy
  fill(data, 4 * test::page(), 0, 3);

  arena.rollback(two);
  EXPECT_EQ(arena.position(), two.position());
  EXPECT_EQ(first_mismatch(data, 10, 0, 1), 10u);
  EXPECT_EQ(first_mismatch(data + 10, 5000, 10, 2), 5000u);
  EXPECT_EQ(first_mismatch(data + 5010, 4 * test::page() - 5010, 5010, 1), 4 * test::page() - 5010);
  EXPECT_EQ(first_mismatch(more, 300, 4 * test::page(), 2), 300u);

  arena.rollback(one);
  EXPECT_EQ(arena.position(), one.position());
  EXPECT_EQ(first_mismatch(data, 4 * test::page(), 0, 1), 4 * test::page());
  arena.rollback(two);
  EXPECT_EQ(first_mismatch(data + 10, 5000, 10, 2), 5000u);
}

// A copy-on-write snapshot dropped keeps what was written under it; the next
// snapshot must see those writes (merged into the file) and still revert
// what follows it.
TEST_P(SnapshotTest, WritesUnderADroppedSnapshotAreKept) {
  Arena arena(options());
  const std::size_t bytes = 16 * test::page();
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  {
    Snapshot s = arena.snapshot();
    fill(data + 3 * test::page(), 2 * test::page(), 3 * test::page(), 2);
  }
  fill(data + 9 * test::page() + 5, 100, 9 * test::page() + 5, 3);
  Snapshot s = arena.snapshot();
  fill(data, bytes, 0, 4);
  arena.rollback(s);
  EXPECT_EQ(first_mismatch(data, 3 * test::page(), 0, 1), 3 * test::page());
  EXPECT_EQ(first_mismatch(data + 3 * test::page(), 2 * test::page(), 3 * test::page(), 2), 2 * test::page());
  EXPECT_EQ(first_mismatch(data + 9 * test::page() + 5, 100, 9 * test::page() + 5, 3), 100u);
  EXPECT_EQ(data[bytes - 1], pattern(bytes - 1, 1));
}

TEST_P(SnapshotTest, ALargeArenaWithScatteredWritesRollsBack) {
  Arena arena(options());
  const std::size_t bytes = std::size_t{16} << 20;
  auto* data = static_cast<std::uint32_t*>(arena.push_uninit(bytes));
  const std::size_t words = bytes / sizeof *data;
  for (std::size_t i = 0; i < words; ++i) data[i] = static_cast<std::uint32_t>(i * 2654435761u);
  Snapshot s = arena.snapshot();
  std::mt19937 random(7);
  for (unsigned round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) data[random() % words] = 0xDEADBEEF;
    arena.rollback(s);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < words; ++i) wrong += data[i] != static_cast<std::uint32_t>(i * 2654435761u);
    ASSERT_EQ(wrong, 0u) << "round " << round;
  }
}

TEST_P(SnapshotTest, ObjectsMadeSinceTheSnapshotAreDestroyedOnce) {
  static int live = 0;
  struct Counted {
    Counted() { ++live; }
    ~Counted() { --live; }
  };
  live = 0;
  Arena arena(options());
  arena.push(100);
  Snapshot s = arena.snapshot();
  arena.make<Counted>();
  arena.push_array<Counted>(3);
  EXPECT_EQ(live, 4);
  arena.rollback(s);
  EXPECT_EQ(live, 0);
  arena.make<Counted>();
  arena.rollback(s);
  EXPECT_EQ(live, 0);
}

TEST_P(SnapshotTest, TheSnapshotMayOutliveItsArena) {
  Snapshot s;
  {
    Arena arena(options());
    fill(arena.push_uninit(3 * test::page()), 3 * test::page(), 0, 1);
    s = arena.snapshot();
  }
  EXPECT_FALSE(s.empty());
  s = Snapshot{};  // gives back what it held (sanitizers check nothing leaks)
  EXPECT_TRUE(s.empty());
}

TEST_P(SnapshotTest, AMovedArenaRollsBackToItsSnapshots) {
  Arena arena(options());
  auto* data = static_cast<unsigned char*>(arena.push_uninit(1000));
  fill(data, 1000, 0, 1);
  Snapshot s = arena.snapshot();
  Arena moved = std::move(arena);
  fill(data, 1000, 0, 2);
  moved.rollback(s);
  EXPECT_EQ(first_mismatch(data, 1000, 0, 1), 1000u);
}

TEST_P(SnapshotTest, ProtectModeOpensWhatTheRollbackBringsBack) {
  Options o;
  o.protect = true;
  Arena arena(options(o));
  const std::size_t bytes = 4 * test::page();
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  Snapshot s = arena.snapshot();
  arena.reset();  // the pages become inaccessible
  arena.rollback(s);
  EXPECT_EQ(first_mismatch(data, bytes, 0, 1), bytes);  // readable again
}

TEST_P(SnapshotTest, ARestoreHookSeesTheRollback) {
  struct Seen {
    std::size_t from = 0, to = 0;
  } seen;
  varena::Hooks hooks{};
  hooks.context = &seen;
  hooks.restore = [](void* context, const Arena&, std::size_t from, std::size_t to) {
    static_cast<Seen*>(context)->from = from;
    static_cast<Seen*>(context)->to = to;
  };
  Arena arena(options(test::byte_exact()));
  arena.push(64);
  Snapshot s = arena.snapshot();
  arena.push(64);
  const std::size_t from = arena.position();
  const varena::Hooks previous = varena::set_hooks(hooks);
  arena.rollback(s);
  EXPECT_EQ(seen.from, from);
  EXPECT_EQ(seen.to, s.position());
  // A rollback that raises the position takes nothing back: no restore to hear of.
  arena.reset();
  seen = Seen{};
  arena.rollback(s);
  varena::set_hooks(previous);
  EXPECT_EQ(seen.from, 0u);
  EXPECT_EQ(seen.to, 0u);
}

// While a copy-on-write snapshot is alive its bytes live in the arena's
// file: memory below its position stays committed, memory above goes as usual.
TEST_P(SnapshotTest, RestoresGiveMemoryBackAroundALiveSnapshot) {
  Options o;
  o.retain = 0;
  o.keep_recent = false;
  Arena arena(options(o));
  auto* data = static_cast<unsigned char*>(arena.push_uninit(4 * test::page()));
  fill(data, 4 * test::page(), 0, 1);
  Snapshot s = arena.snapshot();
  const std::size_t kept = test::round_up(s.position(), test::page());
  arena.push(std::size_t{8} << 20);
  arena.restore(s.position());
  EXPECT_EQ(arena.committed(), kept);
  arena.reset();
  EXPECT_EQ(arena.committed(), cow() ? kept : 0);
  arena.rollback(s);
  EXPECT_EQ(first_mismatch(data, 4 * test::page(), 0, 1), 4 * test::page());
  // A restore straight below the snapshot gives back what lies above it.
  arena.push(std::size_t{8} << 20);
  arena.reset();
  EXPECT_EQ(arena.committed(), cow() ? kept : 0);
  arena.push(std::size_t{8} << 20);
  arena.trim();
  EXPECT_EQ(arena.committed(), test::round_up(arena.position(), test::page()));
  arena.reset();
  s = Snapshot{};
  arena.reset();
  EXPECT_EQ(arena.committed(), 0u);
  EXPECT_TRUE(test::all_bytes(arena.push(4 * test::page()), 4 * test::page(), 0));
}

#if defined(__linux__)
// The bytes the arena's anonymous file holds (0 if it has none): found
// among this process's descriptors by its name.
std::size_t file_bytes_of_arenas() {
  std::size_t bytes = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    char link[64], target[256];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    struct stat st;
    if (std::strstr(target, "memfd:varena") != nullptr && std::strstr(target, "probe") == nullptr &&
        fstat(fd, &st) == 0)
      bytes += static_cast<std::size_t>(st.st_blocks) * 512;
  }
  return bytes;
}

// Dropping the copy-on-write snapshot frees what the file kept of the pages
// written since: the memory of the arena is one copy again, not two.
TEST_P(SnapshotTest, DroppingTheSnapshotFreesWhatItKept) {
  if (!cow() || !copy_on_write_expected()) GTEST_SKIP() << "copy-on-write memory, natively";
  Arena arena(options());
  const std::size_t bytes = std::size_t{16} << 20;
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  std::memset(data, 1, bytes);
  const std::size_t before = file_bytes_of_arenas();
  EXPECT_GE(before, bytes);
  Snapshot s = arena.snapshot();
  std::memset(data, 2, bytes);  // every page: a private copy each
  EXPECT_GE(file_bytes_of_arenas(), bytes);
  s = Snapshot{};
  EXPECT_LT(file_bytes_of_arenas(), bytes / 16);
  EXPECT_TRUE(test::all_bytes(data, bytes, 2));
  // And the next snapshot still holds the bytes written meanwhile.
  Snapshot again = arena.snapshot();
  std::memset(data, 3, bytes);
  arena.rollback(again);
  EXPECT_TRUE(test::all_bytes(data, bytes, 2));
}
#endif

#if defined(__linux__)
// A fork()ed child would share a copy-on-write arena's file with its parent;
// it inherits none of the range instead, so touching it there faults rather
// than writing into the parent's memory. A plain arena is copied, as always.
TEST_P(SnapshotTest, AForkedChildDoesNotShareTheArena) {
  if (test::under_qemu()) GTEST_SKIP() << "fork under qemu-user";
  Arena arena(options());
  auto* data = static_cast<volatile unsigned char*>(arena.push_uninit(test::page()));
  data[0] = 42;
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    data[0] = 7;  // faults where the range is not inherited
    _exit(data[0] == 7 ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const bool exited_cleanly = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  EXPECT_EQ(exited_cleanly, !cow());
  EXPECT_EQ(data[0], 42);
}
#endif

// --- failures --------------------------------------------------------------

TEST_P(SnapshotTest, ACopyRefusedFailsAndChangesNothing) {
  Arena arena(options());
  fill(arena.push_uninit(2 * test::page()), 2 * test::page(), 0, 1);
  Snapshot cow_snapshot;
  if (cow()) cow_snapshot = arena.snapshot();  // so that the next one must copy
  Snapshot kept = arena.snapshot();
  ASSERT_FALSE(kept.copy_on_write());
  const std::size_t position = kept.position();
  fill(arena.push_uninit(100), 100, 2 * test::page(), 1);
  // The copy's reservation or its commit refused: false, `kept` as it was.
  for (unsigned call : {kind(OsCall::reserve), kind(OsCall::commit)}) {
    FailOsCall fault(1, false, call);
    EXPECT_FALSE(arena.try_snapshot(kept));
    EXPECT_FALSE(kept.empty());
    EXPECT_EQ(kept.position(), position);
  }
  FailOsCall fault(1, true, kind(OsCall::reserve));
  try {
    Snapshot s = arena.snapshot();
    ADD_FAILURE() << "no exception";
  } catch (const varena::OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("cannot snapshot"), std::string::npos) << e.what();
  }
  arena.rollback(kept);
  EXPECT_EQ(arena.position(), position);
}

TEST_P(SnapshotTest, ARollbackWhoseCommitIsRefusedChangesNothing) {
  Options o;
  o.retain = 0;
  Arena arena(options(test::byte_exact(o)));
  const std::size_t bytes = 3 * test::page();
  fill(arena.push_uninit(bytes), bytes, 0, 1);
  // A copy (taken while a copy-on-write one is alive), and no copy-on-write
  // snapshot left to keep the memory committed.
  Snapshot copy = arena.snapshot();
  if (copy.copy_on_write()) {
    Snapshot second = arena.snapshot();
    copy = std::move(second);
  }
  ASSERT_FALSE(copy.copy_on_write());
  arena.reset();  // decommits everything (no copy-on-write snapshot holds it)
  auto* small = static_cast<unsigned char*>(arena.push_uninit(10));
  fill(small, 10, 0, 2);
  const std::size_t position = arena.position();
  arena.trim();
  ASSERT_LT(arena.committed(), bytes);
  {
    FailOsCall fault(1, true, kind(OsCall::commit));
    EXPECT_FALSE(arena.try_rollback(copy));
    EXPECT_EQ(arena.position(), position);
    EXPECT_EQ(first_mismatch(small, 10, 0, 2), 10u);
    EXPECT_THROW(arena.rollback(copy), varena::OutOfMemory);
  }
  EXPECT_TRUE(arena.try_rollback(copy));
  EXPECT_EQ(arena.position(), copy.position());
}

TEST_P(SnapshotTest, AFreezeRefusedFallsBackToACopy) {
  if (!cow()) GTEST_SKIP() << "copy-on-write memory only";
  Arena arena(options());
  auto* data = static_cast<unsigned char*>(arena.push_uninit(2 * test::page()));
  fill(data, 2 * test::page(), 0, 1);
  Snapshot s;
  {
    FailOsCall fault(1, false, kind(OsCall::snapshot));
    s = arena.snapshot();
  }
  EXPECT_FALSE(s.copy_on_write());
  fill(data, 2 * test::page(), 0, 2);
  arena.rollback(s);
  EXPECT_EQ(first_mismatch(data, 2 * test::page(), 0, 1), 2 * test::page());
}

TEST_P(SnapshotTest, ARevertRefusedReadsTheBytesBackFromTheFile) {
  if (!cow()) GTEST_SKIP() << "copy-on-write memory only";
  Arena arena(options());
  const std::size_t bytes = 6 * test::page();
  auto* data = static_cast<unsigned char*>(arena.push_uninit(bytes));
  fill(data, bytes, 0, 1);
  Snapshot s = arena.snapshot();
  ASSERT_TRUE(s.copy_on_write());
  fill(data, bytes, 0, 2);
  {
    FailOsCall fault(1, false, kind(OsCall::snapshot));  // dropping the private pages
    ASSERT_TRUE(arena.try_rollback(s));
  }
  EXPECT_EQ(first_mismatch(data, bytes, 0, 1), bytes);
  // Both refused: false, the arena at the lower position, usable.
  fill(data, bytes, 0, 3);
  arena.push(100);
  {
    FailOsCall fault(1, true, kind(OsCall::snapshot) | kind(OsCall::file_io));
    EXPECT_FALSE(arena.try_rollback(s));
  }
  EXPECT_EQ(arena.position(), s.position());
  arena.rollback(s);
  EXPECT_EQ(first_mismatch(data, bytes, 0, 1), bytes);
}

TEST_P(SnapshotTest, CopyOnWriteRefusedAtReservationLeavesAWorkingArena) {
  Snapshot s;
  FailOsCall fault(1, false, kind(OsCall::snapshot));
  Arena arena(options());
  fill(arena.push_uninit(1000), 1000, 0, 1);
  s = arena.snapshot();
  EXPECT_FALSE(s.copy_on_write());
  arena.rollback(s);
  EXPECT_EQ(arena.position(), s.position());
}

// --- contract ---------------------------------------------------------------

using SnapshotDeathTest = SnapshotTest;
INSTANTIATE_TEST_SUITE_P(Memory, SnapshotDeathTest, ::testing::Values(true, false),
                         memory_name);

TEST_P(SnapshotDeathTest, ASnapshotOfAnArenaHoldingDestructorsIsRefused) {
  ::testing::FLAGS_gtest_death_test_style = test::death_test_style();
  Arena arena(options());
  arena.make<std::string>("destroyed by a restore, brought back by a rollback");
  EXPECT_DEATH((void)arena.snapshot(), "snapshot of an arena that holds objects with destructors");
}

TEST_P(SnapshotDeathTest, ARollbackToAnotherArenasSnapshotIsRefused) {
  ::testing::FLAGS_gtest_death_test_style = test::death_test_style();
  Arena one(options()), two(options());
  Snapshot s = one.snapshot();
  EXPECT_DEATH(two.rollback(s), "rollback to a snapshot of another arena");
  Snapshot empty;
  EXPECT_DEATH(one.rollback(empty), "rollback to an empty snapshot");
}

}  // namespace
