// The platform layer for Linux, macOS and the BSDs: mmap reserves, mprotect
// commits (so strict overcommit can refuse a commit cleanly), madvise +
// mprotect(PROT_NONE) decommits. Linux-only fast paths sit behind
// VARENA_LINUX_EXTRAS; with VARENA_PORTABLE_POSIX they compile out and the
// code left is exactly what macOS and the BSDs build.
#include <varena/vm.hpp>
#include <varena/detail/thread_exit.hpp>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#if defined(__linux__) && !defined(VARENA_PORTABLE_POSIX)
#define VARENA_LINUX_EXTRAS 1
#else
#define VARENA_LINUX_EXTRAS 0
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0  // absent on some BSDs, where PROT_NONE is never charged anyway
#endif
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

namespace varena::vm {
namespace {

#if VARENA_LINUX_EXTRAS
// Transparent huge pages usable through madvise (mode "always" or "madvise"):
// the PMD size, else 0.
std::size_t transparent_huge_page_size() noexcept {
  char mode[64] = {};
  if (FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r")) {
    const std::size_t n = std::fread(mode, 1, sizeof mode - 1, f);
    std::fclose(f);
    mode[n] = '\0';
  }
  bool usable = false;
  for (const char* p = mode; *p != '\0'; ++p)
    if (*p == '[') usable = p[1] != 'n';  // "[never]" is the only mode that refuses
  unsigned long long size = 0;
  if (FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r")) {
    if (std::fscanf(f, "%llu", &size) != 1) size = 0;
    std::fclose(f);
  }
  return usable ? static_cast<std::size_t>(size) : 0;
}
#endif

Info query() noexcept {
  Info i{};
  const long page = sysconf(_SC_PAGESIZE);
  i.page_size = page > 0 ? static_cast<std::size_t>(page) : 4096;
  i.granularity = i.page_size;
#if VARENA_LINUX_EXTRAS
  i.large_page_size = transparent_huge_page_size();
#else
  i.large_page_size = 0;
#endif
#if defined(MADV_FREE_REUSABLE)
  i.decommit_zeroes = false;  // macOS: reusable pages may come back with their old contents
#else
  i.decommit_zeroes = true;   // MADV_DONTNEED on private anonymous memory refills with zeros
#endif
  return i;
}

// NetBSD with PaX MPROTECT only lets mprotect raise protections named at
// mmap time: PROT_MPROTECT declares read/write as the ceiling.
#ifdef PROT_MPROTECT
constexpr int kReserveProtection = PROT_NONE | PROT_MPROTECT(PROT_READ | PROT_WRITE);
#else
constexpr int kReserveProtection = PROT_NONE;
#endif

void* map_none(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, kReserveProtection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

#if VARENA_LINUX_EXTRAS
// A reservation aligned to the huge-page size and advised for huge pages, so
// commits that cover whole 2 MiB blocks fault in huge pages.
void* reserve_huge_aligned(std::size_t bytes, std::size_t huge) noexcept {
  if (bytes + huge < bytes) return nullptr;
  char* raw = static_cast<char*>(map_none(bytes + huge));
  if (raw == nullptr) return nullptr;
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(raw);
  char* aligned = raw + ((huge - a % huge) % huge);
  if (aligned != raw) munmap(raw, static_cast<std::size_t>(aligned - raw));
  const std::size_t tail = static_cast<std::size_t>(raw + bytes + huge - (aligned + bytes));
  if (tail != 0) munmap(aligned + bytes, tail);
  madvise(aligned, bytes, MADV_HUGEPAGE);  // advice only: ignore failure
  return aligned;
}
#endif

}  // namespace

const Info& info() noexcept {
  static const Info i = query();
  return i;
}

Region reserve_region(std::size_t bytes, bool large_pages) noexcept { return {reserve(bytes, large_pages), false}; }

void* reserve(std::size_t bytes, bool large_pages) noexcept {
  // Linux: every reservation of a huge page or more gets transparent huge
  // pages (faults cost ~4x less per byte); explicit hugetlbfs pages would need
  // an administrator's pool, so large_pages asks for nothing more here.
  (void)large_pages;
  if (bytes == 0) return nullptr;
#if VARENA_LINUX_EXTRAS
  const std::size_t huge = info().large_page_size;
  if (huge != 0 && bytes >= huge) return reserve_huge_aligned(bytes, huge);
#endif
  return map_none(bytes);
}

bool commit(void* addr, std::size_t bytes) noexcept {
  if (mprotect(addr, bytes, PROT_READ | PROT_WRITE) != 0) return false;
#if defined(MADV_FREE_REUSE)
  while (madvise(addr, bytes, MADV_FREE_REUSE) != 0 && errno == EAGAIN) {
  }
#endif
  return true;
}

void decommit(void* addr, std::size_t bytes) noexcept {
#if defined(MADV_FREE_REUSABLE)
  while (madvise(addr, bytes, MADV_FREE_REUSABLE) != 0 && errno == EAGAIN) {
  }
#else
  madvise(addr, bytes, MADV_DONTNEED);
#endif
  mprotect(addr, bytes, PROT_NONE);
}

void release(void* base, std::size_t bytes) noexcept {
  if (base != nullptr) munmap(base, bytes);
}

}  // namespace varena::vm

namespace varena::detail {

bool at_thread_exit(void (*cleanup)(void*), void* data) noexcept {
  static pthread_key_t key;
  static const bool created = pthread_key_create(&key, cleanup) == 0;
  return created && pthread_setspecific(key, data) == 0;
}

}  // namespace varena::detail
