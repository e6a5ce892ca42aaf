// The platform layer for Linux, macOS and the BSDs: mmap reserves, mprotect
// commits (so strict overcommit can refuse a commit cleanly), madvise +
// mprotect(PROT_NONE) decommits. Linux-only fast paths sit behind
// VARENA_LINUX_EXTRAS; with VARENA_PORTABLE_POSIX they compile out and the
// code left is exactly what macOS and the BSDs build.
#include <varena/vm.hpp>
#include <varena/detail/thread_exit.hpp>

#include "os_faults.hpp"

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

// madvise retried while the kernel answers EAGAIN (transient on macOS).
int advise(void* addr, std::size_t bytes, int advice) noexcept {
  int rc;
  while ((rc = madvise(addr, bytes, advice)) != 0 && errno == EAGAIN) {
  }
  return rc;
}

#if VARENA_LINUX_EXTRAS
// A reservation aligned to the huge-page size and advised for huge pages, so
// commits that cover whole 2 MiB blocks fault in huge pages. nullptr if the
// OS refuses any step (the caller then reserves without alignment).
void* reserve_huge_aligned(std::size_t bytes, std::size_t huge) noexcept {
  if (bytes + huge < bytes) return nullptr;
  char* raw = static_cast<char*>(map_none(bytes + huge));
  if (raw == nullptr) return nullptr;
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(raw);
  char* aligned = raw + ((huge - a % huge) % huge);
  char* end = raw + bytes + huge;
  // Trim the head, then the tail. If the OS refuses to trim, give back what
  // is still mapped so nothing leaks, and let the caller fall back.
  if (aligned != raw && munmap(raw, static_cast<std::size_t>(aligned - raw)) != 0) {
    (void)munmap(raw, bytes + huge);  // nothing more to do if this is refused too
    return nullptr;
  }
  if (end != aligned + bytes && munmap(aligned + bytes, static_cast<std::size_t>(end - (aligned + bytes))) != 0) {
    (void)munmap(aligned, static_cast<std::size_t>(end - aligned));
    return nullptr;
  }
  // Advice only: without it commits still work, with 4 KiB pages.
  (void)madvise(aligned, bytes, MADV_HUGEPAGE);
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
  if (bytes == 0 || detail::os_call_fails(detail::OsCall::reserve)) return nullptr;
#if VARENA_LINUX_EXTRAS
  const std::size_t huge = info().large_page_size;
  if (huge != 0 && bytes >= huge) {
    if (void* p = reserve_huge_aligned(bytes, huge)) return p;
  }
#endif
  return map_none(bytes);
}

bool commit(void* addr, std::size_t bytes) noexcept {
  if (detail::os_call_fails(detail::OsCall::commit)) return false;
  if (mprotect(addr, bytes, PROT_READ | PROT_WRITE) != 0) return false;
#if defined(MADV_FREE_REUSE)
  // Accounting only (the pages count against the process again); the memory
  // is usable whatever it answers.
  (void)advise(addr, bytes, MADV_FREE_REUSE);
#endif
  return true;
}

bool decommit(void* addr, std::size_t bytes) noexcept {
  if (detail::os_call_fails(detail::OsCall::decommit)) return false;
  // Drop the pages first; if that is refused (locked pages: EINVAL/EAGAIN/
  // EPERM), they keep their contents and stay accessible, and we say so.
#if defined(MADV_FREE_REUSABLE)
  if (advise(addr, bytes, MADV_FREE_REUSABLE) != 0) return false;
#else
  if (advise(addr, bytes, MADV_DONTNEED) != 0) return false;
#endif
  // Dropped but still accessible if this fails: report it, and the caller
  // keeps treating the range as committed (and dirty, to be safe).
  return mprotect(addr, bytes, PROT_NONE) == 0;
}

bool protect(void* addr, std::size_t bytes, bool accessible) noexcept {
  if (detail::os_call_fails(detail::OsCall::protect)) return false;
  return mprotect(addr, bytes, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
}

bool release(void* base, std::size_t bytes) noexcept {
  if (base == nullptr || detail::os_call_fails(detail::OsCall::release)) return false;
  return munmap(base, bytes) == 0;
}

}  // namespace varena::vm

namespace varena::detail {

bool at_thread_exit(void (*cleanup)(void*), void* data) noexcept {
  static pthread_key_t key;
  static const bool created = pthread_key_create(&key, cleanup) == 0;
  return created && pthread_setspecific(key, data) == 0;
}

}  // namespace varena::detail
