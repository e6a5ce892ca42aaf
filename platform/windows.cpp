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
#include <varena/detail/thread_exit.hpp>

#include "os_faults.hpp"

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
