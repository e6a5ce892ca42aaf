// The platform layer on its own: sizes, reserve/commit/decommit/release.
#include <gtest/gtest.h>
#include <varena/vm.hpp>

#include <cstring>

#include "support.hpp"

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace vm = varena::vm;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

bool power_of_two(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }


}  // namespace

TEST(Vm, InfoIsSaneAndStable) {
  const vm::Info& info = vm::info();
  EXPECT_TRUE(power_of_two(info.page_size));
  EXPECT_TRUE(power_of_two(info.granularity));
  EXPECT_GE(info.page_size, 4096u);
  EXPECT_EQ(info.granularity % info.page_size, 0u);
  EXPECT_TRUE(info.large_page_size == 0 || info.large_page_size % info.page_size == 0);
  EXPECT_EQ(&vm::info(), &info);
#if defined(_WIN32)
  EXPECT_EQ(info.granularity, 65536u);
#else
  EXPECT_EQ(info.page_size, static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(info.granularity, info.page_size);
#endif
}

TEST(Vm, ReserveCommitsNothing) {
  // Valgrind refuses single mappings of 64 GiB or more.
  const std::size_t size = sizeof(void*) != 8 ? 256 * kMiB
                           : test::running_under_valgrind() ? std::size_t{32} << 30 : std::size_t{64} << 30;
  const std::size_t before = test::resident_bytes();
  void* p = vm::reserve(size);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(test::aligned(p, vm::info().granularity));
  // Wine keeps a byte of protection state per reserved page (16 MiB for
  // 64 GiB); Windows itself and Linux commit nothing for a reservation.
  const std::size_t slack = (test::running_under_wine() ? 32 : 4) * kMiB;
  if (before != 0) {
    EXPECT_LT(test::resident_bytes(), before + slack);
  }
  vm::release(p, size);
}

TEST(Vm, CommitGivesZeroedReadWriteMemory) {
  const std::size_t size = 16 * vm::info().granularity;
  char* p = static_cast<char*>(vm::reserve(size));
  ASSERT_NE(p, nullptr);
  const std::size_t half = size / 2;
  ASSERT_TRUE(vm::commit(p, half));
  EXPECT_TRUE(test::all_bytes(p, half, 0));
  std::memset(p, 0x42, half);
  ASSERT_TRUE(vm::commit(p + half, half));  // the neighbour: the first half keeps its data
  EXPECT_TRUE(test::all_bytes(p, half, 0x42));
  EXPECT_TRUE(test::all_bytes(p + half, half, 0));
  vm::release(p, size);
}

TEST(Vm, DecommitThenCommitReadsZeroWhereThePlatformSaysSo) {
  const std::size_t size = 8 * vm::info().granularity;
  char* p = static_cast<char*>(vm::reserve(size));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(vm::commit(p, size));
  std::memset(p, 0x17, size);
  vm::decommit(p + size / 2, size / 2);
  EXPECT_TRUE(test::all_bytes(p, size / 2, 0x17));
  ASSERT_TRUE(vm::commit(p + size / 2, size / 2));
  if (vm::info().decommit_zeroes) {
    EXPECT_TRUE(test::all_bytes(p + size / 2, size / 2, 0));
  }
  vm::release(p, size);
}

TEST(Vm, DecommitGivesResidentMemoryBack) {
  if (!test::memory_readings_available()) GTEST_SKIP() << "no resident-memory reading on this OS";
  const std::size_t size = 64 * kMiB;
  char* p = static_cast<char*>(vm::reserve(size));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(vm::commit(p, size));
  const std::size_t before = test::resident_bytes();
  std::memset(p, 1, size);
  const std::size_t touched = test::resident_bytes();
  EXPECT_GE(touched, before + size * 3 / 4);
  vm::decommit(p, size);
  EXPECT_LE(test::resident_bytes(), touched - size * 3 / 4);
  vm::release(p, size);
}

TEST(Vm, ImpossibleRequestsReturnNull) {
  EXPECT_EQ(vm::reserve(0), nullptr);
  const std::size_t gran = vm::info().granularity;
  EXPECT_EQ(vm::reserve(SIZE_MAX & ~(gran - 1)), nullptr);
  EXPECT_EQ(vm::reserve(test::more_than_address_space()), nullptr);
}

TEST(Vm, AdjacentCommitsAndDecommitsKeepFewMappings) {
#if defined(__linux__)
  const std::size_t step = 16 * vm::info().page_size;  // 64 KiB to 1 MiB
  const std::size_t size = 512 * step;                  // room for the 500 steps below at any page size
  char* p = static_cast<char*>(vm::reserve(size));
  ASSERT_NE(p, nullptr);
  const int before = test::mapping_count();
  std::size_t committed = 0;
  for (int cycle = 0; cycle < 1000; ++cycle) {
    const std::size_t target = step * static_cast<std::size_t>(1 + (cycle * 7919) % 500);
    if (target > committed) {
      ASSERT_TRUE(vm::commit(p + committed, target - committed));
      p[target - 1] = 1;
    } else if (target < committed) {
      vm::decommit(p + target, committed - target);
    }
    committed = target;
  }
  EXPECT_LE(test::mapping_count(), before + 2);
  vm::release(p, size);
#else
  GTEST_SKIP() << "reads /proc/self/maps";
#endif
}
