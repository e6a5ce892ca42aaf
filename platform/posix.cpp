// The platform layer for Linux, macOS and the BSDs: mmap reserves, mprotect
// commits (so strict overcommit can refuse a commit cleanly), madvise +
// mprotect(PROT_NONE) decommits. Linux-only fast paths sit behind
// VARENA_LINUX_EXTRAS; with VARENA_PORTABLE_POSIX they compile out and the
// code left is exactly what macOS and the BSDs build.
#include <varena/vm.hpp>
#include <varena/detail/cow_map.hpp>
#include <varena/detail/file_map.hpp>
#include <varena/detail/thread_exit.hpp>

#include "os_faults.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

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

// ---------------------------------------------------------------------------
// Files (detail/file_map.hpp): a descriptor, pread/pwrite for the header, a
// MAP_SHARED mapping whose pages mprotect commits once the file covers them.

namespace {

int fd_of(File f) noexcept { return static_cast<int>(f.handle); }

// An injected failure looks like a failing disk.
bool injected(detail::OsCall call) noexcept {
  if (!detail::os_call_fails(call)) return false;
  errno = EIO;
  return true;
}

// A file offset as off_t; false (EOVERFLOW) past what off_t holds.
bool to_off(std::uint64_t x, off_t* out) noexcept {
  if (x > static_cast<std::uint64_t>(INT64_MAX) || static_cast<std::uint64_t>(static_cast<off_t>(x)) != x) {
    errno = EOVERFLOW;
    return false;
  }
  *out = static_cast<off_t>(x);
  return true;
}

}  // namespace

File open_file(const char* path, bool create) noexcept {
  if (injected(detail::OsCall::file_io)) return {};
  if (path == nullptr) {
    errno = EINVAL;
    return {};
  }
  const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
  int fd;
  while ((fd = ::open(path, flags, 0666)) == -1 && errno == EINTR) {
  }
  return fd == -1 ? File{} : File{fd};
}

bool close_file(File file) noexcept {
  if (injected(detail::OsCall::file_io)) {
    (void)::close(fd_of(file));  // the descriptor is gone either way (POSIX leaves it unspecified on EINTR)
    return false;
  }
  return ::close(fd_of(file)) == 0;
}

bool file_size(File file, std::uint64_t* bytes) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  struct stat st;
  if (fstat(fd_of(file), &st) != 0) return false;
  *bytes = static_cast<std::uint64_t>(st.st_size);
  return true;
}

bool read_file(File file, void* data, std::size_t bytes, std::uint64_t offset) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  char* p = static_cast<char*>(data);
  while (bytes != 0) {
    off_t at;
    if (!to_off(offset, &at)) return false;
    const ssize_t n = pread(fd_of(file), p, bytes, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file ends first: callers check its size before
      return false;
    }
    p += n, bytes -= static_cast<std::size_t>(n), offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool write_file(File file, const void* data, std::size_t bytes, std::uint64_t offset) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  const char* p = static_cast<const char*>(data);
  while (bytes != 0) {
    off_t at;
    if (!to_off(offset, &at)) return false;
    const ssize_t n = pwrite(fd_of(file), p, bytes, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    p += n, bytes -= static_cast<std::size_t>(n), offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool resize_file(File file, std::uint64_t bytes) noexcept {
  if (injected(detail::OsCall::grow_file)) return false;
  off_t size;
  if (!to_off(bytes, &size)) return false;
  int rc;
  while ((rc = ftruncate(fd_of(file), size)) != 0 && errno == EINTR) {
  }
  return rc == 0;
}

bool allocate_file(File file, std::uint64_t offset, std::uint64_t bytes) noexcept {
  if (injected(detail::OsCall::grow_file)) return false;
  off_t at, length, end;
  if (!to_off(offset, &at) || !to_off(bytes, &length) || !to_off(offset + bytes, &end)) return false;
#if VARENA_LINUX_EXTRAS
  // Blocks reserved without writing them (ext4, xfs, btrfs, tmpfs; glibc
  // writes them itself where the file system cannot).
  int rc;
  while ((rc = posix_fallocate(fd_of(file), at, length)) == EINTR) {
  }
  if (rc != 0) errno = rc;  // posix_fallocate returns the error instead of setting errno
  return rc == 0;
#else
  // macOS has no posix_fallocate (and some BSD file systems refuse it):
  // writing the zeros is what reserves the blocks on every file system.
  static const char zeros[64 * 1024] = {};
  while (bytes != 0) {
    const std::size_t chunk = bytes < sizeof zeros ? static_cast<std::size_t>(bytes) : sizeof zeros;
    const ssize_t n = pwrite(fd_of(file), zeros, chunk, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    at += n, bytes -= static_cast<std::uint64_t>(n);
  }
  return true;
#endif
}

bool sync_file(File file) noexcept {
  if (injected(detail::OsCall::sync)) return false;
  int rc;
  while ((rc = fsync(fd_of(file))) != 0 && errno == EINTR) {
  }
  return rc == 0;
}

bool map_file(FileMapping& m, void* at, bool* taken) noexcept {
  if (taken != nullptr) *taken = false;
  if (injected(detail::OsCall::map_file)) return false;
  off_t offset;
  if (m.bytes == 0 || !to_off(m.offset, &offset)) return false;
  int flags = MAP_SHARED;
#if VARENA_LINUX_EXTRAS && defined(MAP_FIXED_NOREPLACE)
  // Never over an existing mapping (Linux 4.17; older kernels take it as a
  // hint, which the check below catches).
  if (at != nullptr) flags |= MAP_FIXED_NOREPLACE;
#endif
  // Pages past the file's end are mapped too, inaccessible: touching them
  // faults (SIGSEGV) rather than raising SIGBUS, and commit_file opens them
  // only once the file covers them.
  void* p = mmap(at, m.bytes, kReserveProtection, flags, fd_of(m.file), offset);
  if (p == MAP_FAILED) {
    if (taken != nullptr) *taken = at != nullptr && errno == EEXIST;  // MAP_FIXED_NOREPLACE's word for it
    return false;
  }
  if (at != nullptr && p != at) {  // a hint the kernel placed elsewhere: never use it there
    (void)munmap(p, m.bytes);     // nothing else to do if refused: the range is not ours to keep
    if (taken != nullptr) *taken = true;
    errno = EEXIST;
    return false;
  }
  m.base = static_cast<char*>(p);
  return true;
}

bool commit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  (void)m;
  if (detail::os_call_fails(detail::OsCall::commit)) return (errno = EIO, false);
  return mprotect(addr, bytes, PROT_READ | PROT_WRITE) == 0;
}

bool decommit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  (void)m;
  if (detail::os_call_fails(detail::OsCall::decommit)) return (errno = EIO, false);
  return mprotect(addr, bytes, PROT_NONE) == 0;
}

bool flush_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  (void)m;
  if (injected(detail::OsCall::sync)) return false;
  if (bytes == 0) return true;
  int rc;
  while ((rc = msync(addr, bytes, MS_SYNC)) != 0 && errno == EINTR) {
  }
  return rc == 0;
}

bool unmap_file(FileMapping& m) noexcept {
  if (m.base == nullptr) return true;
  if (injected(detail::OsCall::release)) return false;
  if (munmap(m.base, m.bytes) != 0) return false;
  m.base = nullptr;
  return true;
}

// ---------------------------------------------------------------------------
// Copy-on-write (detail/cow_map.hpp): a memfd mapped over the reservation,
// shared until the first freeze, then privately. Linux only.

#if VARENA_LINUX_EXTRAS
namespace {

constexpr std::uint64_t kPresent = std::uint64_t{1} << 63, kSwapped = std::uint64_t{1} << 62,
                        kFilePage = std::uint64_t{1} << 61;

// A page of a private file mapping the process wrote: its own copy, in memory or swapped out.
bool written(std::uint64_t entry) noexcept { return (entry & kSwapped) != 0 || (entry & (kPresent | kFilePage)) == kPresent; }

int open_pagemap() noexcept {
  int fd;
  while ((fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) == -1 && errno == EINTR) {
  }
  return fd;
}

// Reads the pagemap entries of `count` pages from `page` (an index).
bool read_pagemap(int fd, std::uint64_t* entries, std::size_t count, std::uint64_t page) noexcept {
  char* p = reinterpret_cast<char*>(entries);
  std::size_t bytes = count * sizeof *entries;
  off_t at = static_cast<off_t>(page * sizeof *entries);
  while (bytes != 0) {
    const ssize_t n = pread(fd, p, bytes, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, bytes -= static_cast<std::size_t>(n), at += n;
  }
  return true;
}

// Does /proc/self/pagemap tell this process's written pages? Asked once, on
// two pages of a private mapping of a small anonymous file: one written (its
// own copy), one only read (the file's page); each must read as such.
// pagemap indexes the host's pages, which an emulator (qemu-user with pages
// larger than the host's) may not share with the program, and /proc may be
// absent or locked down: then every caller falls back to whole ranges.
bool probe_pagemap() noexcept {
  const std::size_t page = info().page_size;
  const int file = memfd_create("varena-pagemap-probe", MFD_CLOEXEC);
  if (file == -1) return false;
  bool trusted = false;
  const char one = 1;
  if (ftruncate(file, static_cast<off_t>(2 * page)) == 0 && pwrite(file, &one, 1, static_cast<off_t>(page)) == 1) {
    void* mapped = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0);
    if (mapped != MAP_FAILED) {
      volatile char* p = static_cast<volatile char*>(mapped);
      p[0] = 2;                   // a private copy
      const char seen = p[page];  // the file's page, mapped
      const int pagemap = open_pagemap();
      std::uint64_t entries[2];
      if (pagemap != -1) {
        trusted = seen == 1 && read_pagemap(pagemap, entries, 2, detail::address(mapped) / page) &&
                  written(entries[0]) && (entries[1] & (kPresent | kFilePage)) == (kPresent | kFilePage);
        (void)::close(pagemap);
      }
      (void)munmap(mapped, 2 * page);
    }
  }
  (void)::close(file);
  return trusted;
}

bool pagemap_trusted() noexcept {
  static const bool trusted = probe_pagemap();
  return trusted;
}

// Calls run(offset, bytes) for each run of pages of [m.base, m.base + bytes)
// (mapped privately) that the process wrote since the last freeze, as
// /proc/self/pagemap says; false if it cannot be read or trusted (then
// nothing was called), or if run returned false.
template <class Run>
bool for_each_written(const CowMap& m, std::size_t bytes, Run run) noexcept {
  const std::size_t page = info().page_size, pages = bytes / page;
  if (pages == 0) return true;
  if (!pagemap_trusted()) return false;
  const int fd = open_pagemap();
  if (fd == -1) return false;
  const std::uint64_t first = detail::address(m.base) / page;
  std::uint64_t entries[1024];
  bool ok = true;
  std::size_t run_start = 0, run_pages = 0;
  for (std::size_t i = 0; ok && i < pages; i += sizeof entries / sizeof *entries) {
    const std::size_t n = std::min(pages - i, sizeof entries / sizeof *entries);
    if (!read_pagemap(fd, entries, n, first + i)) {
      ok = false;
      break;
    }
    for (std::size_t j = 0; ok && j < n; ++j) {
      if (written(entries[j])) {
        if (run_pages == 0) run_start = i + j;
        ++run_pages;
      } else if (run_pages != 0) {
        ok = run(run_start * page, run_pages * page);
        run_pages = 0;
      }
    }
  }
  if (ok && run_pages != 0) ok = run(run_start * page, run_pages * page);
  (void)::close(fd);
  return ok;
}

// Frees the file's pages under [offset, offset + bytes): they read zero from
// it (a private copy over them is kept).
bool punch(const CowMap& m, std::size_t offset, std::size_t bytes) noexcept {
  int rc;
  while ((rc = fallocate(static_cast<int>(m.file), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         static_cast<off_t>(offset), static_cast<off_t>(bytes))) != 0 &&
         errno == EINTR) {
  }
  return rc == 0;
}

// Writes [m.base + offset, + bytes) to the file at the same offset.
bool write_back(const CowMap& m, std::size_t offset, std::size_t bytes) noexcept {
  return write_file(File{m.file}, m.base + offset, bytes, offset);
}

}  // namespace

bool cow_create(CowMap& m, char* base, std::size_t bytes) noexcept {
  if (injected(detail::OsCall::snapshot)) return false;
  int fd;
  while ((fd = memfd_create("varena", MFD_CLOEXEC)) == -1 && errno == EINTR) {
  }
  if (fd == -1) return false;
  off_t size;
  int rc = -1;
  if (to_off(bytes, &size))
    while ((rc = ftruncate(fd, size)) != 0 && errno == EINTR) {
    }
  if (rc != 0 || mmap(base, bytes, kReserveProtection, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
    const int e = errno;
    (void)::close(fd);
    errno = e;
    return false;
  }
  m = CowMap{fd, base, bytes, 0};
  // A child of fork() would share the file's pages with its parent, not copy
  // them as it does anonymous memory: it inherits none of the range instead
  // (touching it there faults), never silently writes into its parent's.
  // Refused: back to anonymous memory; if even that is refused, the range
  // stays the file's (only a fork would notice).
  if (advise(base, bytes, MADV_DONTFORK) != 0) {
    const int e = errno;
    if (mmap(base, bytes, kReserveProtection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
      return true;
    cow_destroy(m);
    errno = e;
    return false;
  }
  return true;
}

bool cow_commit(CowMap& m, char* addr, std::size_t bytes) noexcept {
  (void)m;
  if (injected(detail::OsCall::commit)) return false;
  return mprotect(addr, bytes, PROT_READ | PROT_WRITE) == 0;
}

bool cow_decommit(CowMap& m, char* addr, std::size_t bytes) noexcept {
  if (injected(detail::OsCall::decommit)) return false;
  // The private copies too (a punched hole unmaps only the file's pages).
  return punch(m, static_cast<std::size_t>(addr - m.base), bytes) && advise(addr, bytes, MADV_DONTNEED) == 0 &&
         mprotect(addr, bytes, PROT_NONE) == 0;
}

bool cow_freeze(CowMap& m, std::size_t accessible) noexcept {
  if (injected(detail::OsCall::snapshot)) return false;
  // What was written in the private part since the last freeze goes to the
  // file, and the private copies are dropped (they read the same from it).
  const std::size_t merge = std::min(accessible, m.private_bytes);
  const auto merge_run = [&m](std::size_t offset, std::size_t bytes) {
    if (!write_back(m, offset, bytes)) return false;
    (void)advise(m.base + offset, bytes, MADV_DONTNEED);  // refused: private copies of the same bytes, harmless
    return true;
  };
  if (!for_each_written(m, merge, merge_run) && !merge_run(0, merge)) return false;
  if (accessible > m.private_bytes) {
    // The shared part's bytes are the file's already: mapping it privately changes nothing it reads.
    if (mmap(m.base + m.private_bytes, accessible - m.private_bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_FIXED, static_cast<int>(m.file), static_cast<off_t>(m.private_bytes)) == MAP_FAILED)
      return false;
    // A new mapping: not inherited by fork() either (refused: a child would
    // get a private copy of this part, which is what fork gives anyway).
    (void)advise(m.base + m.private_bytes, accessible - m.private_bytes, MADV_DONTFORK);
    m.private_bytes = accessible;
  }
  return true;
}

bool cow_revert(CowMap& m, std::size_t bytes) noexcept {
  if (bytes > m.private_bytes) return (errno = EINVAL, false);
  const auto drop = [&m](std::size_t offset, std::size_t n) { return advise(m.base + offset, n, MADV_DONTNEED) == 0; };
  if (!detail::os_call_fails(detail::OsCall::snapshot) && (for_each_written(m, bytes, drop) || drop(0, bytes)))
    return true;
  // Dropping refused (locked pages): copy the file's bytes over the private ones.
  return read_file(File{m.file}, m.base, bytes, 0);
}

void cow_thaw(CowMap& m) noexcept {
  if (m.file == -1) return;
  // What the file holds under a private copy is needed again only by a
  // freeze, which writes the copy back: free it now. Refused, or pagemap
  // untrusted: it stays until then (only memory is at stake).
  (void)for_each_written(m, m.private_bytes, [&m](std::size_t offset, std::size_t bytes) {
    return punch(m, offset, bytes);
  });
}

void cow_destroy(CowMap& m) noexcept {
  if (m.file != -1) (void)::close(static_cast<int>(m.file));
  m = CowMap{};
}
#else
bool cow_create(CowMap&, char*, std::size_t) noexcept {
  errno = ENOSYS;
  return false;
}
bool cow_commit(CowMap&, char*, std::size_t) noexcept { return false; }
bool cow_decommit(CowMap&, char*, std::size_t) noexcept { return false; }
bool cow_freeze(CowMap&, std::size_t) noexcept { return false; }
bool cow_revert(CowMap&, std::size_t) noexcept { return false; }
void cow_thaw(CowMap&) noexcept {}
void cow_destroy(CowMap& m) noexcept { m = CowMap{}; }
#endif

void describe_file_error(char* text, std::size_t size) noexcept {
  const int e = errno;
  std::snprintf(text, size, "%s (errno %d)", std::strerror(e), e);
}

}  // namespace varena::vm

namespace varena::detail {

bool at_thread_exit(void (*cleanup)(void*), void* data) noexcept {
  static pthread_key_t key;
  static const bool created = pthread_key_create(&key, cleanup) == 0;
  return created && pthread_setspecific(key, data) == 0;
}

}  // namespace varena::detail
