// Every failure is a clean OutOfMemory (or nullptr from try_push) and changes
// nothing: past the reservation, overflowing sizes, impossible reservations,
// and commits or reservations the OS refuses (in child processes with limits).
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "support.hpp"

using varena::Arena;
using varena::Options;
using varena::OutOfMemory;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

Options sized(std::size_t reserve) {
  Options o;
  o.reserve = reserve;
  return o;
}

// The arena as observed from outside, to prove a failure changed nothing.
struct Snapshot {
  std::size_t position, committed, reserved;
  explicit Snapshot(const Arena& a) : position(a.position()), committed(a.committed()), reserved(a.reserved()) {}
  bool operator==(const Snapshot& o) const {
    return position == o.position && committed == o.committed && reserved == o.reserved;
  }
};

}  // namespace

TEST(OutOfMemoryTest, IsABadAllocWithTheFigures) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact(sized(kMiB)));
  arena.push(1000, 1);
  try {
    arena.push(2 * kMiB, 16);
    FAIL() << "no exception";
  } catch (const std::bad_alloc& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot push 2097152 bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("alignment 16"), std::string::npos) << what;
    EXPECT_NE(what.find("1000 in use"), std::string::npos) << what;
    EXPECT_NE(what.find("1048576 reserved"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(arena.committed()) + " committed"), std::string::npos) << what;
    EXPECT_NE(what.find("exceeds the reservation"), std::string::npos) << what;
  }
}

TEST(OutOfMemoryTest, EveryImpossiblePushThrowsAndChangesNothing) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact(sized(kMiB)));
  auto* data = static_cast<unsigned char*>(arena.push(3000));
  std::memset(data, 0x5C, 3000);
  const Snapshot before(arena);
  const std::size_t huge_align = std::size_t{1} << (sizeof(std::size_t) * 8 - 2);
  struct Case {
    std::size_t bytes, align;
  } cases[] = {{kMiB, 1}, {SIZE_MAX, 1}, {SIZE_MAX, 16}, {SIZE_MAX - 10, 4096}, {1, huge_align},
               {kMiB - 3000 + 1, 1}, {SIZE_MAX / 2 + 1, 2}};
  for (const Case& c : cases) {
    EXPECT_THROW(arena.push(c.bytes, c.align), OutOfMemory) << c.bytes << " " << c.align;
    EXPECT_THROW(arena.push_uninit(c.bytes, c.align), OutOfMemory) << c.bytes << " " << c.align;
    EXPECT_EQ(arena.try_push(c.bytes, c.align), nullptr) << c.bytes << " " << c.align;
    EXPECT_TRUE(Snapshot(arena) == before) << c.bytes << " " << c.align;
  }
  EXPECT_NE(test::failure_of(arena, SIZE_MAX, 1).find(std::to_string(SIZE_MAX)), std::string::npos);
  EXPECT_TRUE(test::all_bytes(data, 3000, 0x5C));
  // Still usable, right up to the end of the reservation.
  void* rest = arena.push(kMiB - 3008, 1);
  ASSERT_NE(rest, nullptr);
  EXPECT_EQ(arena.position(), kMiB - 8);
}

TEST(OutOfMemoryTest, TypedPushesFailCleanly) {
  SKIP_IF_FENCED();
  Arena arena(sized(kMiB));
  arena.push(kMiB - 16, 1);
  const Snapshot before(arena);
  EXPECT_THROW(arena.push_array<int>(SIZE_MAX / 2), OutOfMemory);
  EXPECT_THROW(arena.push_array<int>(100), OutOfMemory);
  EXPECT_THROW(arena.make<std::string>("does not fit"), OutOfMemory);
  EXPECT_THROW(arena.push_string(std::string(100, 'x')), OutOfMemory);
  EXPECT_TRUE(Snapshot(arena) == before);
}

TEST(OutOfMemoryTest, ImpossibleReservationsThrow) {
  for (std::size_t size : {SIZE_MAX, SIZE_MAX - varena::vm::info().granularity, test::more_than_address_space()}) {
    try {
      Arena arena(sized(size));
      ADD_FAILURE() << "reserved " << size;
    } catch (const OutOfMemory& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(size)), std::string::npos) << e.what();
    }
  }
}

#if defined(__SANITIZE_THREAD__)
#define VARENA_TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VARENA_TEST_SANITIZER 1
#endif
#endif
#if VARENA_ASAN
#define VARENA_TEST_SANITIZER 1
#endif

#if VARENA_TEST_HAS_FORK && defined(__linux__)

// Codes the children exit with, so a failure names its step.
enum Step : int { kOk = 0, kNoLimit = 10, kNeverFailed, kWrongMessage, kChanged, kDataLost, kTryPush, kNoRecovery,
                  kNoDegrade, kWrongSize, kUnexpected };

// Under valgrind or a user-mode emulator (qemu) the rlimits govern that
// runtime's own memory as much as the program's.
#define SKIP_WHERE_LIMITS_GOVERN_A_RUNTIME()                                                         \
  if (test::running_under_valgrind()) GTEST_SKIP() << "valgrind's own memory counts against the limits"; \
  if (test::under_qemu()) GTEST_SKIP() << "the emulator's own memory counts against the limits"

// Sanitizer runtimes allocate memory of their own (shadow, thread-local
// blocks) and abort when RLIMIT_DATA refuses it: these run in plain builds.
#if defined(VARENA_TEST_SANITIZER)
#define SKIP_UNDER_SANITIZERS() GTEST_SKIP() << "a sanitizer runtime cannot live under RLIMIT_DATA"
#else
#define SKIP_UNDER_SANITIZERS() SKIP_WHERE_LIMITS_GOVERN_A_RUNTIME()
#endif

TEST(OsRefusal, RefusedCommitIsACleanFailureAndRecovers) {
  SKIP_UNDER_SANITIZERS();
  const int code = test::in_child([] {
    Options o;
    o.retain = 0;
    o.keep_recent = false;
    Arena arena(o);
    if (!test::limit(RLIMIT_DATA, test::status_bytes("VmData:") + 48 * kMiB)) return int{kNoLimit};
    auto* first = static_cast<unsigned char*>(arena.push(kMiB));
    std::memset(first, 0x3A, kMiB);
    int failures = 0;
    for (int i = 0; i < 1000 && failures == 0; ++i) {
      const Snapshot before(arena);
      try {
        arena.push(kMiB, 1);
      } catch (const OutOfMemory& e) {
        ++failures;
        if (std::string(e.what()).find("refused to commit") == std::string::npos) {
          std::fprintf(stderr, "message: %s\n", e.what());
          return int{kWrongMessage};
        }
        if (!(Snapshot(arena) == before)) return int{kChanged};
        if (arena.try_push(kMiB, 1) != nullptr || !(Snapshot(arena) == before)) return int{kTryPush};
      }
    }
    if (failures != 1) return int{kNeverFailed};
    if (!test::all_bytes(first, kMiB, 0x3A)) return int{kDataLost};
    arena.reset();  // gives the commit back: pushing works again
    try {
      for (int i = 0; i < 8; ++i) arena.push(kMiB, 1);
    } catch (const OutOfMemory& e) {
      std::fprintf(stderr, "after reset: %s\n", e.what());
      return int{kNoRecovery};
    }
    return int{kOk};
  });
  EXPECT_EQ(code, kOk);
}

TEST(OsRefusal, PushThatFitsTheLimitSucceedsWhenTheGeometricStepDoesNot) {
  SKIP_UNDER_SANITIZERS();
  const int code = test::in_child([] {
    Arena arena;  // default growth: the next step after 40 MiB would be 64 MiB
    arena.push_uninit(40 * kMiB, 1);
    const std::size_t committed = arena.committed();
    if (!test::limit(RLIMIT_DATA, test::status_bytes("VmData:") + 8 * kMiB)) return int{kNoLimit};
    try {
      arena.push_uninit(committed - arena.position() + 4 * kMiB, 1);
    } catch (const OutOfMemory& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return int{kNoRecovery};
    }
    return int{kOk};
  });
  EXPECT_EQ(code, kOk);
}

TEST(OsRefusal, RefusedReservationDegradesTheDefaultAndFailsExplicitSizes) {
  SKIP_WHERE_LIMITS_GOVERN_A_RUNTIME();
  const int code = test::in_child([] {
    if (!test::limit(RLIMIT_AS, test::address_space_bytes() + 512 * kMiB)) return int{kNoLimit};
    try {
      Arena arena;
      if (arena.reserved() < varena::defaults::min_reserve || arena.reserved() > 512 * kMiB) {
        std::fprintf(stderr, "reserved %zu\n", arena.reserved());
        return int{kWrongSize};
      }
      static_cast<char*>(arena.push(kMiB))[kMiB - 1] = 1;
    } catch (const OutOfMemory& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return int{kNoDegrade};
    }
    try {
      Arena explicit_size(sized(std::size_t{1} << 30));
      return int{kUnexpected};
    } catch (const OutOfMemory&) {
    }
    if (!test::limit(RLIMIT_AS, test::address_space_bytes() + 16 * kMiB)) return int{kNoLimit};
    try {
      Arena nothing_fits;
      return int{kUnexpected};
    } catch (const OutOfMemory& e) {
      if (std::string(e.what()).find("cannot reserve") == std::string::npos) return int{kWrongMessage};
    }
    return int{kOk};
  });
  EXPECT_EQ(code, kOk);
}

TEST(OsRefusal, ScratchThatCannotReserveThrows) {
  SKIP_WHERE_LIMITS_GOVERN_A_RUNTIME();
  const int code = test::in_child([] {
    if (!test::limit(RLIMIT_AS, test::address_space_bytes() + 8 * kMiB)) return int{kNoLimit};
    try {
      varena::Scratch scratch;
      return int{kUnexpected};
    } catch (const OutOfMemory& e) {
      if (std::string(e.what()).find("scratch") == std::string::npos) return int{kWrongMessage};
    }
    return int{kOk};
  });
  EXPECT_EQ(code, kOk);
}

#endif
