/// @file
/// The platform layer's file primitives, for MappedArena (src/mapped.cpp):
/// open a file, grow and shrink it, read and write its header, map a range of
/// it at a chosen address, and flush it. Implemented in platform/posix.cpp and
/// platform/windows.cpp next to the primitives of vm.hpp. Not API.
///
/// Error convention, as in vm.hpp: a failure is the return value (false or an
/// invalid handle), never an exception or an abort, and leaves things as they
/// were as far as the OS allows (each function says where it may not). Calls
/// a signal interrupted (EINTR) are retried, nothing else is. The
/// calling thread's last OS error then says why: describe_file_error() turns
/// it into words, and must be called before any other OS call.
#pragma once

#include <cstddef>
#include <cstdint>

namespace varena::vm {

/// An open file: a descriptor on POSIX, a HANDLE on Windows; -1 when none.
struct File {
  std::intptr_t handle = -1;
  bool valid() const noexcept { return handle != -1; }
};

/// Opens `path` (UTF-8) for reading and writing; with `create`, creates it or
/// truncates an existing file to 0 bytes. Invalid on failure.
File open_file(const char* path, bool create) noexcept;
/// Closes the file (its mappings stay valid). False if the OS reported an error.
bool close_file(File file) noexcept;
/// The file's size in bytes.
bool file_size(File file, std::uint64_t* bytes) noexcept;
/// Reads exactly `bytes` at `offset` (a short file is a failure).
bool read_file(File file, void* data, std::size_t bytes, std::uint64_t offset) noexcept;
/// Writes exactly `bytes` at `offset`; a failure may have written part of them.
bool write_file(File file, const void* data, std::size_t bytes, std::uint64_t offset) noexcept;
/// Sets the file's size: shrinking drops the bytes past it, growing adds
/// bytes that read zero (perhaps without disk space reserved for them).
bool resize_file(File file, std::uint64_t bytes) noexcept;
/// Extends the file over [offset, offset + bytes), with disk space reserved
/// (any bytes the file already has there must be zero: they stay so), so that writing those bytes through a
/// mapping can never fail for want of space: a full disk or RLIMIT_FSIZE
/// fails here instead (on POSIX RLIMIT_FSIZE also raises SIGXFSZ, whose
/// default action kills the process: MappedArena's users ignore it). The new
/// bytes read zero. A failure may have extended the file part of the way.
bool allocate_file(File file, std::uint64_t offset, std::uint64_t bytes) noexcept;
/// Writes the file's data and size to the disk (fsync / FlushFileBuffers).
bool sync_file(File file) noexcept;

/// A range of address space whose pages, once committed, are the bytes of
/// `file` from `offset` on: base + i is file byte offset + i.
struct FileMapping {
  File file;
  std::uint64_t offset = 0;  ///< where base lies in the file: a multiple of info().granularity
  char* base = nullptr;      ///< nullptr: not mapped
  std::size_t bytes = 0;     ///< the whole range (a multiple of info().granularity)
  std::size_t views = 0;     ///< Windows: bytes from base mapped as views so far (none on POSIX)
};

/// Takes [at, at + m.bytes) for `m` (m.file, m.offset and m.bytes set),
/// every page inaccessible; at == nullptr lets the OS choose. Never anywhere
/// else than `at`: if any of that range is in use, fails with *taken (when
/// given) set true. Sets m.base.
bool map_file(FileMapping& m, void* at, bool* taken = nullptr) noexcept;
/// Makes [addr, addr + bytes) of the mapping (page multiples) readable and
/// writable, the file's bytes; the file must already extend over them
/// (allocate_file). Returns false, changing nothing the caller sees, if refused.
bool commit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept;
/// Makes [addr, addr + bytes) inaccessible again, keeping the file's bytes
/// (the caller shrinks the file after). False, changing nothing, if refused;
/// Windows cannot unmap part of a view and always refuses.
bool decommit_file(FileMapping& m, void* addr, std::size_t bytes) noexcept;
/// Writes the pages of [addr, addr + bytes) modified through the mapping to
/// the file and waits for it (msync MS_SYNC / FlushViewOfFile).
bool flush_file(FileMapping& m, void* addr, std::size_t bytes) noexcept;
/// Gives the whole range back. False if the OS refused (it may stay mapped).
bool unmap_file(FileMapping& m) noexcept;

/// Words for the calling thread's last OS error (errno / GetLastError), in
/// `text`, NUL-terminated.
void describe_file_error(char* text, std::size_t size) noexcept;

}  // namespace varena::vm
