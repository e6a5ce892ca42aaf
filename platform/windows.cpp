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

}  // namespace

const Info& info() noexcept {
  static const Info i = query();
  return i;
}

void* reserve(std::size_t bytes, bool large_pages) noexcept {
  (void)large_pages;  // large pages need SeLockMemoryPrivilege: normal pages for now
  if (bytes == 0) return nullptr;
  return VirtualAlloc(nullptr, bytes, MEM_RESERVE, PAGE_NOACCESS);
}

bool commit(void* addr, std::size_t bytes) noexcept {
  return VirtualAlloc(addr, bytes, MEM_COMMIT, PAGE_READWRITE) != nullptr;
}

void decommit(void* addr, std::size_t bytes) noexcept {
  VirtualFree(addr, bytes, MEM_DECOMMIT);
}

void release(void* base, std::size_t bytes) noexcept {
  (void)bytes;  // MEM_RELEASE frees the whole reservation and requires size 0
  if (base != nullptr) VirtualFree(base, 0, MEM_RELEASE);
}

}  // namespace varena::vm
