// Stress: thousands of threads using Scratch, address-space exhaustion, and
// the number of memory mappings an arena costs through any commit pattern.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::Options;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;


}  // namespace

TEST(Stress, ThousandsOfThreadsWithScratchGiveTheAddressSpaceBack) {
  if (test::running_under_valgrind()) GTEST_SKIP() << "2000 threads take minutes under valgrind";
  if (test::under_qemu()) GTEST_SKIP() << "2000 threads each reserving scratch arenas take minutes under qemu-user";
  const int total = 2000, at_once = 16;
  std::atomic<int> bad{0};
  auto worker = [&bad](int id) {
    varena::Scratch a;
    varena::Scratch b(a.arena());
    auto* p = static_cast<unsigned char*>(a->push(4096 + static_cast<std::size_t>(id % 7) * 1000));
    auto* q = static_cast<unsigned char*>(b->push(1000));
    std::memset(p, id & 0xFF, 4096);
    std::memset(q, 0x5A, 1000);
    if (!test::all_bytes(p, 4096, static_cast<unsigned char>(id & 0xFF))) ++bad;
  };
  // Warm up the C library's per-thread caches so they are not counted.
  {
    std::vector<std::thread> warm;
    for (int i = 0; i < at_once; ++i) warm.emplace_back(worker, i);
    for (auto& t : warm) t.join();
  }
  const std::size_t before = test::address_space_bytes();
  for (int started = 0; started < total; started += at_once) {
    std::vector<std::thread> threads;
    for (int i = 0; i < at_once; ++i) threads.emplace_back(worker, started + i);
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(bad.load(), 0);
  if (before != 0) {
    // A leak would keep 2 scratch arenas per thread reserved: terabytes here.
    // The margin is the C library's: a 64 MiB malloc heap per thread arena.
    const std::size_t margin = sizeof(void*) == 8 ? std::size_t{2} << 30 : 512 * kMiB;
    EXPECT_LT(test::address_space_bytes(), before + margin);
  }
}

TEST(Stress, HundredsOfArenasInterleaved) {
  std::vector<std::unique_ptr<Arena>> arenas;
  Options o;
  o.reserve = sizeof(void*) == 8 ? 256 * kMiB : 4 * kMiB;
  o.retain = 0;
  for (int i = 0; i < 300; ++i) arenas.push_back(std::make_unique<Arena>(o));
  std::mt19937 random(7);
  std::vector<std::vector<std::pair<unsigned char*, std::size_t>>> blocks(arenas.size());
  for (int step = 0; step < 20000; ++step) {
    const std::size_t i = random() % arenas.size();
    Arena& a = *arenas[i];
    if (random() % 8 == 0) {
      a.reset();
      blocks[i].clear();
      continue;
    }
    const std::size_t bytes = 1 + random() % 3000;
    auto* p = static_cast<unsigned char*>(a.try_push(bytes));
    if (p == nullptr) continue;  // full: that is fine, and nothing changed
    std::memset(p, static_cast<int>(i & 0xFF), bytes);
    blocks[i].emplace_back(p, bytes);
  }
  for (std::size_t i = 0; i < arenas.size(); ++i)
    for (auto& [p, n] : blocks[i]) ASSERT_TRUE(test::all_bytes(p, n, static_cast<unsigned char>(i & 0xFF)));
}

TEST(Stress, AddressSpaceExhaustionFailsCleanlyAndRecovers) {
  if (test::running_under_valgrind()) GTEST_SKIP() << "valgrind manages about 126 GiB of address space in all";
  if (test::running_under_wine()) GTEST_SKIP() << "wine keeps a byte per reserved page: terabytes would need gigabytes";
  if (test::under_qemu()) GTEST_SKIP() << "qemu-user tracks every reserved guest page: terabytes of reservations take minutes";
  Options o;
  // 1 TiB, or 128 MiB on 32-bit; 64 GiB under ThreadSanitizer, whose few TiB
  // of application ranges hold only a couple of terabyte holes.
  o.reserve = sizeof(void*) == 8 ? std::size_t{1} << (test::under_tsan ? 36 : 40) : 128 * kMiB;
  std::vector<std::unique_ptr<Arena>> arenas;
  for (int i = 0; i < 100000; ++i) {
    try {
      arenas.push_back(std::make_unique<Arena>(o));
    } catch (const varena::OutOfMemory& e) {
      EXPECT_NE(std::string(e.what()).find("cannot reserve"), std::string::npos);
      break;
    }
  }
  ASSERT_GT(arenas.size(), 2u);
  ASSERT_LT(arenas.size(), 100000u) << "the address space never ran out";
  for (std::size_t i = 0; i < arenas.size(); ++i) {  // every earlier arena still works
    auto* p = static_cast<unsigned char*>(arenas[i]->push(100));
    std::memset(p, 7, 100);
  }
  EXPECT_THROW(Arena{o}, varena::OutOfMemory);
  arenas.pop_back();  // give one back: a new one fits again
  EXPECT_NO_THROW(Arena{o});
}

TEST(Stress, AnArenaCostsFewMappingsWhateverItCommits) {
#if defined(__linux__)
  if (test::running_under_valgrind()) GTEST_SKIP() << "valgrind splits mappings its own way";
  const void* base;
  std::size_t span;
  {
    Options o;
    o.retain = 2 * kMiB;
    o.keep_recent = false;
    Arena arena(o);
    base = varena::info(arena).base;
    span = arena.reserved() + varena::vm::info().granularity;  // the guard region too
    std::mt19937 random(99);
    int most = 0;
    for (int step = 0; step < 3000; ++step) {
      switch (random() % 5) {
        case 0:
        case 1:
          static_cast<char*>(arena.push_uninit(random() % (4 * kMiB), 1))[0] = 1;
          break;
        case 2:
          arena.restore(arena.position() / 2);
          break;
        case 3:
          arena.trim();
          break;
        default:
          arena.reset();
      }
      if (step % 100 == 0) most = std::max(most, test::mappings_in(base, span));
    }
    EXPECT_LE(most, 3) << "an arena is a committed prefix and a reserved rest";
  }
  EXPECT_EQ(test::mappings_in(base, span), 0) << "released whole";
#else
  GTEST_SKIP() << "reads /proc/self/maps";
#endif
}
