// The platform layer for Windows: VirtualAlloc reserves and commits (commit
// charge is taken at MEM_COMMIT, so a refused commit is a clean failure),
// VirtualFree decommits and releases.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <varena/vm.hpp>
#include <varena/detail/config.hpp>
#include <varena/detail/cow_map.hpp>
#include <varena/detail/file_map.hpp>
#include <varena/detail/thread_exit.hpp>

#include "os_faults.hpp"

#include <cstdio>
#include <new>

namespace varena::vm {
namespace {

Info query() noexcept {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  Info i{};
  i.page_size = si.dwPageSize;
  i.granularity = si.dwAllocationGranularity;
  i.large_page_size = GetLargePageMinimum();
  i.decommit_zeroes = true;
  return i;
}

// Large pages need SeLockMemoryPrivilege enabled in the process token.
// AdjustTokenPrivileges reports success even when it granted nothing: only
// GetLastError() tells (ERROR_NOT_ALL_ASSIGNED).
bool enable_lock_memory_privilege() noexcept {
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) return false;
  TOKEN_PRIVILEGES privileges{};
  privileges.PrivilegeCount = 1;
  privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  bool granted = false;
  if (LookupPrivilegeValueA(nullptr, "SeLockMemoryPrivilege", &privileges.Privileges[0].Luid) &&
      AdjustTokenPrivileges(token, FALSE, &privileges, 0, nullptr, nullptr))
    granted = GetLastError() == ERROR_SUCCESS;
  CloseHandle(token);
  return granted;
}

bool lock_memory_privilege() noexcept {
  static const bool granted = enable_lock_memory_privilege();
  return granted;
}

}  // namespace

const Info& info() noexcept {
  static const Info i = query();
  return i;
}

Region reserve_region(std::size_t bytes, bool large_pages) noexcept {
  if (bytes == 0 || detail::os_call_fails(detail::OsCall::reserve)) return {nullptr, false};
  const std::size_t large = info().large_page_size;
  if (large_pages && large != 0 && lock_memory_privilege()) {
    // Large pages: reserved and committed at once, the size a multiple of the
    // large page; refused (no privilege, no contiguous physical memory) means
    // normal pages instead.
    std::size_t rounded;
    if (detail::align_up(bytes, large, &rounded)) {
      if (void* p = VirtualAlloc(nullptr, rounded, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE))
        return {p, true};
    }
  }
  return {VirtualAlloc(nullptr, bytes, MEM_RESERVE, PAGE_NOACCESS), false};
}

void* reserve(std::size_t bytes, bool large_pages) noexcept { return reserve_region(bytes, large_pages).base; }

bool commit(void* addr, std::size_t bytes) noexcept {
  if (detail::os_call_fails(detail::OsCall::commit)) return false;
  return VirtualAlloc(addr, bytes, MEM_COMMIT, PAGE_READWRITE) != nullptr;
}

bool decommit(void* addr, std::size_t bytes) noexcept {
  if (detail::os_call_fails(detail::OsCall::decommit)) return false;
  // Refused for large pages, which stay committed (the arena never asks).
  return VirtualFree(addr, bytes, MEM_DECOMMIT) != 0;
}

bool protect(void* addr, std::size_t bytes, bool accessible) noexcept {
  if (detail::os_call_fails(detail::OsCall::protect)) return false;
  DWORD previous;
  return VirtualProtect(addr, bytes, accessible ? PAGE_READWRITE : PAGE_NOACCESS, &previous) != 0;
}

bool release(void* base, std::size_t bytes) noexcept {
  (void)bytes;  // MEM_RELEASE frees the whole reservation and requires size 0
  if (base == nullptr || detail::os_call_fails(detail::OsCall::release)) return false;
  return VirtualFree(base, 0, MEM_RELEASE) != 0;
}

// ---------------------------------------------------------------------------
// Files (detail/file_map.hpp). A view of a file cannot be committed piece by
// piece nor shrunk, so the range is a reservation that commits replace from
// the front: each commit that goes past the views maps one more view of the
// file right after them (a granularity multiple), in the address space the
// reservation's tail gave up for it, and reserves what is left again. Another
// thread could take that hole in between: the commit then fails cleanly, and
// so does every later one (the range is no longer all ours). Views are never
// unmapped before the end, so decommit is always refused.

namespace {

HANDLE handle_of(File f) noexcept { return reinterpret_cast<HANDLE>(f.handle); }

// An injected failure looks like a failing disk.
bool injected(detail::OsCall call) noexcept {
  if (!detail::os_call_fails(call)) return false;
  SetLastError(ERROR_IO_DEVICE);
  return true;
}

DWORD high(std::uint64_t x) noexcept { return static_cast<DWORD>(x >> 32); }
DWORD low(std::uint64_t x) noexcept { return static_cast<DWORD>(x & 0xFFFFFFFFu); }

bool set_size(HANDLE file, std::uint64_t bytes) noexcept {
  LARGE_INTEGER at;
  at.QuadPart = static_cast<LONGLONG>(bytes);
  return bytes <= static_cast<std::uint64_t>(INT64_MAX) && SetFilePointerEx(file, at, nullptr, FILE_BEGIN) &&
         SetEndOfFile(file);
}

// ReadFile or WriteFile of exactly `bytes` at `offset`, in chunks a DWORD holds.
template <class Transfer, class Byte>
bool transfer(Transfer call, HANDLE file, Byte* data, std::size_t bytes, std::uint64_t offset) noexcept {
  while (bytes != 0) {
    const DWORD chunk = bytes < (DWORD{1} << 30) ? static_cast<DWORD>(bytes) : (DWORD{1} << 30);
    OVERLAPPED at{};
    at.Offset = low(offset);
    at.OffsetHigh = high(offset);
    DWORD done = 0;
    if (!call(file, data, chunk, &done, &at)) return false;
    if (done == 0) {
      SetLastError(ERROR_HANDLE_EOF);
      return false;
    }
    data += done, bytes -= done, offset += done;
  }
  return true;
}

}  // namespace

File open_file(const char* path, bool create) noexcept {
  if (injected(detail::OsCall::file_io)) return {};
  if (path == nullptr) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return {};
  }
  // Paths are UTF-8, as everywhere else; Windows wants UTF-16.
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, nullptr, 0);
  if (n <= 0) return {};
  wchar_t* wide = new (std::nothrow) wchar_t[static_cast<std::size_t>(n)];
  if (wide == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return {};
  }
  HANDLE h = INVALID_HANDLE_VALUE;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n) == n)
    h = CreateFileW(wide, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                    create ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  const DWORD error = GetLastError();
  delete[] wide;
  SetLastError(error);
  return h == INVALID_HANDLE_VALUE ? File{} : File{reinterpret_cast<std::intptr_t>(h)};
}

bool close_file(File file) noexcept {
  if (injected(detail::OsCall::file_io)) {
    (void)CloseHandle(handle_of(file));  // closed either way: the failure is only reported
    return false;
  }
  return CloseHandle(handle_of(file)) != 0;
}

bool file_size(File file, std::uint64_t* bytes) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  LARGE_INTEGER size;
  if (!GetFileSizeEx(handle_of(file), &size)) return false;
  *bytes = static_cast<std::uint64_t>(size.QuadPart);
  return true;
}

bool read_file(File file, void* data, std::size_t bytes, std::uint64_t offset) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  return transfer(
      [](HANDLE h, char* p, DWORD n, DWORD* done, OVERLAPPED* at) { return ReadFile(h, p, n, done, at) != 0; },
      handle_of(file), static_cast<char*>(data), bytes, offset);
}

bool write_file(File file, const void* data, std::size_t bytes, std::uint64_t offset) noexcept {
  if (injected(detail::OsCall::file_io)) return false;
  return transfer(
      [](HANDLE h, const char* p, DWORD n, DWORD* done, OVERLAPPED* at) { return WriteFile(h, p, n, done, at) != 0; },
      handle_of(file), static_cast<const char*>(data), bytes, offset);
}

bool resize_file(File file, std::uint64_t bytes) noexcept {
  if (injected(detail::OsCall::grow_file)) return false;
  return set_size(handle_of(file), bytes);
}

bool allocate_file(File file, std::uint64_t offset, std::uint64_t bytes) noexcept {
  if (injected(detail::OsCall::grow_file)) return false;
  // NTFS allocates the clusters of a (non-sparse) file when its end moves:
  // a full disk fails here, and the new bytes read zero.
  LARGE_INTEGER size;
  if (!GetFileSizeEx(handle_of(file), &size)) return false;
  const std::uint64_t end = offset + bytes;
  if (end < offset) {
    SetLastError(ERROR_ARITHMETIC_OVERFLOW);
    return false;
  }
  // A view's granularity may have grown it further already: never shrink here.
  return static_cast<std::uint64_t>(size.QuadPart) >= end || set_size(handle_of(file), end);
}

bool sync_file(File file) noexcept {
  if (injected(detail::OsCall::sync)) return false;
  return FlushFileBuffers(handle_of(file)) != 0;
}

bool map_file(FileMapping& m, void* at, bool* taken) noexcept {
  if (taken != nullptr) *taken = false;
  if (injected(detail::OsCall::map_file)) return false;
  void* p = VirtualAlloc(at, m.bytes, MEM_RESERVE, PAGE_NOACCESS);
  if (p == nullptr) {
    // What VirtualAlloc says of a range in use at a given address.
    if (taken != nullptr) *taken = at != nullptr && GetLastError() == ERROR_INVALID_ADDRESS;
    return false;
  }
  if (at != nullptr && p != at) {  // rounded to the granularity: never anywhere else
    (void)VirtualFree(p, 0, MEM_RELEASE);  // nothing else to do if refused
    if (taken != nullptr) *taken = true;
    SetLastError(ERROR_INVALID_ADDRESS);
    return false;
  }
  m.base = static_cast<char*>(p);
  m.views = 0;
  return true;
}

bool commit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  if (injected(detail::OsCall::commit)) return false;
  const std::size_t end = static_cast<std::size_t>(static_cast<char*>(addr) - m.base) + bytes;
  if (end > m.views) {
    // One more view, [views, new_views) of the range, over the file's bytes
    // from offset + views; the file must reach its end (the section object
    // extends it to there if the granularity rounding went past it).
    const std::size_t unit = info().granularity;
    const std::size_t new_views = (end + unit - 1) / unit * unit;
    char* at = m.base + m.views;
    const std::uint64_t section_end = m.offset + new_views;
    HANDLE section =
        CreateFileMappingW(handle_of(m.file), nullptr, PAGE_READWRITE, high(section_end), low(section_end), nullptr);
    if (section == nullptr) return false;
    // The reservation's tail, [at, base + bytes), is one allocation of its own.
    if (!VirtualFree(at, 0, MEM_RELEASE)) {
      const DWORD error = GetLastError();
      (void)CloseHandle(section);
      SetLastError(error);
      return false;
    }
    void* view = MapViewOfFileEx(section, FILE_MAP_WRITE, high(m.offset + m.views), low(m.offset + m.views),
                                 new_views - m.views, at);
    const DWORD error = GetLastError();
    (void)CloseHandle(section);  // the view keeps the section alive
    if (view != at) {
      if (view != nullptr) (void)UnmapViewOfFile(view);
      // Take the tail back; if someone took the hole, later commits fail here.
      (void)VirtualAlloc(at, m.bytes - m.views, MEM_RESERVE, PAGE_NOACCESS);
      SetLastError(view != nullptr ? ERROR_INVALID_ADDRESS : error);
      return false;
    }
    m.views = new_views;
    // What is left stays ours; refused (taken meanwhile), later commits fail.
    if (new_views < m.bytes) (void)VirtualAlloc(m.base + new_views, m.bytes - new_views, MEM_RESERVE, PAGE_NOACCESS);
    // Past `end`, the view's rounding: inaccessible until committed. Refused,
    // those pages are merely accessible early; the file holds them either way.
    DWORD previous;
    if (new_views > end) (void)VirtualProtect(m.base + end, new_views - end, PAGE_NOACCESS, &previous);
    // The view came read/write: the pages asked for are ready.
    const std::size_t before = static_cast<std::size_t>(at - m.base);
    if (static_cast<std::size_t>(static_cast<char*>(addr) - m.base) >= before) return true;
    // Part of the range lay in the earlier views' rounding: open that part.
    return VirtualProtect(addr, before - static_cast<std::size_t>(static_cast<char*>(addr) - m.base), PAGE_READWRITE,
                          &previous) != 0;
  }
  DWORD previous;
  return VirtualProtect(addr, bytes, PAGE_READWRITE, &previous) != 0;
}

bool decommit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  (void)m, (void)addr, (void)bytes;
  if (injected(detail::OsCall::decommit)) return false;
  SetLastError(ERROR_NOT_SUPPORTED);  // part of a view cannot be unmapped, nor its file shrunk
  return false;
}

bool flush_file(FileMapping& m, void* addr, std::size_t bytes) noexcept {
  (void)m;
  if (injected(detail::OsCall::sync)) return false;
  // FlushViewOfFile works within one view: flush each one the range crosses.
  char* p = static_cast<char*>(addr);
  char* const end = p + bytes;
  while (p < end) {
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) != sizeof info) return false;
    char* region_end = static_cast<char*>(info.BaseAddress) + info.RegionSize;
    if (region_end > end) region_end = end;
    if (info.Type == MEM_MAPPED && info.Protect != PAGE_NOACCESS &&
        !FlushViewOfFile(p, static_cast<std::size_t>(region_end - p)))
      return false;
    p = region_end;
  }
  return true;
}

bool unmap_file(FileMapping& m) noexcept {
  if (m.base == nullptr) return true;
  if (injected(detail::OsCall::release)) return false;
  bool ok = true;
  // Each view is an allocation of its own: unmap them one by one.
  for (char* p = m.base; p < m.base + m.views;) {
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) != sizeof info) return false;
    char* view = static_cast<char*>(info.AllocationBase);
    char* next = static_cast<char*>(info.BaseAddress) + info.RegionSize;
    // Skip the view's other regions (protection changes split it).
    while (next < m.base + m.views && VirtualQuery(next, &info, sizeof info) == sizeof info &&
           info.AllocationBase == view)
      next = static_cast<char*>(info.BaseAddress) + info.RegionSize;
    ok = UnmapViewOfFile(view) != 0 && ok;
    p = next;
  }
  if (m.views < m.bytes) ok = VirtualFree(m.base + m.views, 0, MEM_RELEASE) != 0 && ok;
  if (ok) m.base = nullptr;
  return ok;
}

// Copy-on-write snapshots (detail/cow_map.hpp) need a file whose pages a
// view can map privately and drop again (a memfd and MADV_DONTNEED); Windows
// has no way to discard a copy-on-write view's private pages short of
// unmapping it, so snapshots copy here.
bool cow_create(CowMap&, char*, std::size_t) noexcept {
  SetLastError(ERROR_NOT_SUPPORTED);
  return false;
}
bool cow_commit(CowMap&, char*, std::size_t) noexcept { return false; }
bool cow_decommit(CowMap&, char*, std::size_t) noexcept { return false; }
bool cow_freeze(CowMap&, std::size_t) noexcept { return false; }
bool cow_revert(CowMap&, std::size_t) noexcept { return false; }
void cow_thaw(CowMap&) noexcept {}
void cow_destroy(CowMap& m) noexcept { m = CowMap{}; }

void describe_file_error(char* text, std::size_t size) noexcept {
  const DWORD error = GetLastError();
  char words[160] = "";
  const DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0, words,
                                 sizeof words, nullptr);
  std::size_t len = n;
  while (len > 0 && (words[len - 1] == '\n' || words[len - 1] == '\r' || words[len - 1] == ' ' ||
                     words[len - 1] == '.'))
    words[--len] = '\0';
  std::snprintf(text, size, "%s (error %lu)", len != 0 ? words : "unknown error", static_cast<unsigned long>(error));
}

}  // namespace varena::vm

namespace varena::detail {
namespace {
void (*thread_cleanup)(void*) = nullptr;
VOID WINAPI run_thread_cleanup(PVOID data) {
  if (data != nullptr) thread_cleanup(data);
}
}  // namespace

bool at_thread_exit(void (*cleanup)(void*), void* data) noexcept {
  // A fiber-local slot's callback runs when the thread exits, without
  // touching the C runtime's thread-local storage (freed by then under mingw).
  static const DWORD slot = (thread_cleanup = cleanup, FlsAlloc(&run_thread_cleanup));
  return slot != FLS_OUT_OF_INDEXES && FlsSetValue(slot, data);
}

}  // namespace varena::detail
