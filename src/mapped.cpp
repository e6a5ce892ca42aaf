// MappedArena: an Arena whose range is a file mapped at a fixed address. The
// arena's core is Arena's own: this file only opens, checks and maps the file,
// and answers the arena's four OS operations (detail/backing.hpp) with file
// operations -- grow the file with its disk space reserved before its pages
// become accessible, shrink it when the arena decommits.
#include <varena/mapped.hpp>
#include <varena/detail/backing.hpp>
#include <varena/detail/file_map.hpp>
#include <varena/vm.hpp>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

namespace varena {
namespace {

constexpr char kMagic[8] = {'v', 'a', 'r', 'e', 'n', 'a', 'M', 'A'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kByteOrder = 0x01020304;  // reads differently on a machine of the other byte order

// The file's first bytes; the rest of its first info().granularity bytes
// (a page; 64 KiB on Windows, where views start at that granularity) is
// padding, and the arena's base is file byte header_bytes.
struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t byte_order;
  std::uint32_t pointer_bits;
  std::uint32_t header_bytes;
  std::uint64_t page_size;
  std::uint64_t base;       // the address the arena lives at
  std::uint64_t reserved;   // usable bytes (the mapping adds a guard region)
  std::uint64_t position;   // as of the last sync
  std::uint64_t committed;  // as of the last sync (or lower: a decommit lowers it first)
  std::uint64_t root;       // offset from base + 1; 0: none
};

thread_local char g_last_error[512] = "";

// Sets this thread's last error; `...` formats, then ": " and the OS's words
// when `os` (which must be read before any other OS call).
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))  // mingw's C++ stdio is the ANSI one, with %zu
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void fail(bool os, const char* format, ...) noexcept {
  char os_words[160] = "";
  if (os) vm::describe_file_error(os_words, sizeof os_words);
  std::va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(g_last_error, sizeof g_last_error, format, args);
  va_end(args);
  if (os && n >= 0 && static_cast<std::size_t>(n) < sizeof g_last_error)
    std::snprintf(g_last_error + n, sizeof g_last_error - static_cast<std::size_t>(n), ": %s", os_words);
}

std::size_t header_bytes() noexcept { return vm::info().granularity; }  // at least a page everywhere

}  // namespace

// The arena's backing: the open file, its mapping, and the header as last written.
struct MappedArena::File final : detail::Backing {
  vm::FileMapping map;
  Header header{};
  // The file may hold old bytes past what the arena has committed: a shrink
  // was refused after the pages became inaccessible. The next commit cuts
  // them off first, so they never come back as "fresh" zeroed pages. (Bytes a
  // failed grow added, and a Windows view's rounding, are zero: no cut.)
  bool stale_tail = false;
  std::size_t usable = 0;
  char path[256] = "";

  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (map.base != nullptr) (void)vm::unmap_file(map);  // only if the arena never adopted it
    if (map.file.valid()) (void)vm::close_file(map.file);  // the data was written back already (or never will be)
  }

  bool write_header() noexcept { return vm::write_file(map.file, &header, sizeof header, 0); }

  bool commit(char* at, std::size_t bytes) noexcept override {
    const std::uint64_t from = static_cast<std::uint64_t>(at - map.base);
    if (stale_tail) {
      if (!vm::resize_file(map.file, header.header_bytes + from)) return false;
      stale_tail = false;
    }
    // Refused part of the way, or the commit below refused: the file is
    // longer than committed by zeros, which the next commit allocates over.
    return vm::allocate_file(map.file, header.header_bytes + from, bytes) && vm::commit_file(map, at, bytes);
  }

  bool decommit(char* at, std::size_t bytes) noexcept override {
    const std::uint64_t from = static_cast<std::uint64_t>(at - map.base);
    // The header never records more than the file holds, even if the process
    // dies right after the file shrinks: lower it first.
    if (header.committed > from) {
      Header lowered = header;
      lowered.committed = from;
      if (lowered.position > from) lowered.position = from;
      if (!vm::write_file(map.file, &lowered, sizeof lowered, 0)) return false;
      header = lowered;
    }
    if (!vm::decommit_file(map, at, bytes)) return false;
    // Refused: the pages are inaccessible but their bytes still in the file;
    // stale_tail says so, and the next commit cuts them off first.
    if (!vm::resize_file(map.file, header.header_bytes + from)) stale_tail = true;
    return true;
  }

  bool protect(char* at, std::size_t bytes, bool accessible) noexcept override {
    return vm::protect(at, bytes, accessible);
  }

  void release(char*, std::size_t) noexcept override {
    // Refused: the address space leaks, as an Arena's would (not tried
    // again: the arena is gone and the OS said no).
    (void)vm::unmap_file(map);
    map.base = nullptr;
  }

  bool create(const char* file_path, const MappedOptions& options) noexcept;
  bool open(const char* file_path) noexcept;
};

namespace {

// The reservation's size for `requested` bytes usable (0: the default), with
// its guard region; false if it cannot be rounded.
bool mapping_size(std::size_t requested, std::size_t* usable, std::size_t* mapped) noexcept {
  const std::size_t unit = vm::info().granularity;
  if (!detail::align_up(requested == 0 ? defaults::reserve : requested, unit, usable)) return false;
  return !detail::add_overflows(*usable, unit, mapped);
}

}  // namespace

bool MappedArena::File::create(const char* file_path, const MappedOptions& options) noexcept {
  std::snprintf(path, sizeof path, "%s", file_path);
  const vm::Info& os = vm::info();
  std::size_t mapped;
  if (!mapping_size(options.reserve, &usable, &mapped)) {
    fail(false, "varena: cannot create the mapped arena '%s': a reservation of %zu bytes cannot be rounded", path,
         options.reserve);
    return false;
  }
  if (detail::address(options.address) % os.granularity != 0) {
    fail(false, "varena: cannot create the mapped arena '%s': address %p is not a multiple of %zu", path,
         options.address, os.granularity);
    return false;
  }
  map.file = vm::open_file(file_path, true);
  if (!map.file.valid()) {
    fail(true, "varena: cannot create the mapped arena file '%s'", path);
    return false;
  }
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kVersion;
  header.byte_order = kByteOrder;
  header.pointer_bits = static_cast<std::uint32_t>(sizeof(void*) * 8);
  header.header_bytes = static_cast<std::uint32_t>(header_bytes());
  header.page_size = os.page_size;
  header.reserved = usable;
  if (!vm::resize_file(map.file, header.header_bytes)) {
    fail(true, "varena: cannot size the mapped arena file '%s'", path);
    return false;
  }
  map.offset = header.header_bytes;
  map.bytes = mapped;
  bool taken = false;
  if (!vm::map_file(map, options.address, &taken)) {
    if (taken)
      fail(true, "varena: cannot map '%s' at %p (%zu bytes): the address range is taken", path, options.address,
           mapped);
    else if (options.address != nullptr)
      fail(true, "varena: cannot map '%s' at %p (%zu bytes)", path, options.address, mapped);
    else
      fail(true, "varena: cannot map '%s' (%zu bytes of address space)", path, mapped);
    return false;
  }
  header.base = static_cast<std::uint64_t>(detail::address(map.base));
  if (!write_header()) {
    fail(true, "varena: cannot write the header of '%s'", path);
    return false;
  }
  return true;
}

bool MappedArena::File::open(const char* file_path) noexcept {
  std::snprintf(path, sizeof path, "%s", file_path);
  const vm::Info& os = vm::info();
  map.file = vm::open_file(file_path, false);
  if (!map.file.valid()) {
    fail(true, "varena: cannot open the mapped arena file '%s'", path);
    return false;
  }
  std::uint64_t size = 0;
  if (!vm::file_size(map.file, &size)) {
    fail(true, "varena: cannot read the size of '%s'", path);
    return false;
  }
  if (size < sizeof header) {
    fail(false, "varena: '%s' is not a varena mapped arena: %llu bytes, shorter than the header (%zu bytes)", path,
         static_cast<unsigned long long>(size), sizeof header);
    return false;
  }
  if (!vm::read_file(map.file, &header, sizeof header, 0)) {
    fail(true, "varena: cannot read the header of '%s'", path);
    return false;
  }
  // Each check names what differs, in the order that tells most.
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) {
    fail(false, "varena: '%s' is not a varena mapped arena (bad magic: the header is corrupt or it is another file)",
         path);
    return false;
  }
  if (header.version != kVersion) {
    fail(false, "varena: '%s' has format version %u; this library reads version %u", path,
         static_cast<unsigned>(header.version), static_cast<unsigned>(kVersion));
    return false;
  }
  if (header.byte_order != kByteOrder || header.pointer_bits != sizeof(void*) * 8) {
    fail(false, "varena: '%s' was written by a program of another byte order or pointer width (%u-bit); this one "
         "is %zu-bit", path, static_cast<unsigned>(header.pointer_bits), sizeof(void*) * 8);
    return false;
  }
  if (header.page_size != os.page_size) {
    fail(false, "varena: '%s' was written on a machine with %llu-byte pages; this one has %zu-byte pages", path,
         static_cast<unsigned long long>(header.page_size), os.page_size);
    return false;
  }
  if (header.header_bytes != header_bytes()) {
    fail(false, "varena: '%s' has a %u-byte header; this platform's is %zu bytes (written on another OS?)", path,
         static_cast<unsigned>(header.header_bytes), header_bytes());
    return false;
  }
  std::size_t mapped = 0;
  const bool sane = header.base != 0 && header.base % os.granularity == 0 && header.reserved <= SIZE_MAX &&
                    header.base <= UINTPTR_MAX && header.committed % os.page_size == 0 &&
                    header.position <= header.committed && header.committed <= header.reserved &&
                    mapping_size(static_cast<std::size_t>(header.reserved), &usable, &mapped) &&
                    usable == header.reserved && header.root <= header.reserved;
  if (!sane) {
    fail(false, "varena: '%s' has a corrupt header (base %#llx, %llu reserved, %llu committed, position %llu)", path,
         static_cast<unsigned long long>(header.base), static_cast<unsigned long long>(header.reserved),
         static_cast<unsigned long long>(header.committed), static_cast<unsigned long long>(header.position));
    return false;
  }
  if (size - header.header_bytes < header.committed) {
    fail(false, "varena: '%s' is truncated: %llu bytes, but its header records %llu committed after a %u-byte header",
         path, static_cast<unsigned long long>(size), static_cast<unsigned long long>(header.committed),
         static_cast<unsigned>(header.header_bytes));
    return false;
  }
  // Past what the header records: what a run that died before its next
  // sync left behind. Cut it off now, while nothing maps it (Windows cannot
  // shrink a mapped file); refused, the first commit tries again.
  if (size - header.header_bytes > header.committed &&
      !vm::resize_file(map.file, header.header_bytes + header.committed))
    stale_tail = true;
  map.offset = header.header_bytes;
  map.bytes = mapped;
  void* base = reinterpret_cast<void*>(static_cast<std::uintptr_t>(header.base));
  bool taken = false;
  if (!vm::map_file(map, base, &taken)) {
    if (taken)
      fail(true, "varena: cannot map '%s' back at its base address %p: the range [%p, %p) is already in use in "
           "this process (a mapped arena only opens where it was created)", path, base, base,
           static_cast<void*>(static_cast<char*>(base) + mapped));
    else
      fail(true, "varena: cannot map '%s' back at its base address %p (%zu bytes)", path, base, mapped);
    return false;
  }
  if (header.committed != 0 && !vm::commit_file(map, map.base, static_cast<std::size_t>(header.committed))) {
    fail(true, "varena: cannot map the %llu committed bytes of '%s'", static_cast<unsigned long long>(header.committed),
         path);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------

const char* MappedArena::last_error() noexcept { return g_last_error; }

Arena& detail::mapped_core(MappedArena& mapped) noexcept { return mapped.arena_; }

bool MappedArena::adopt(File* file, const Options& options) noexcept {
  (void)close();  // the previous arena, if any: its failure is not this call's
  file_ = file;
  root_ = static_cast<std::size_t>(file->header.root);
  arena_.adopt(file->map.base, file->usable, file->map.bytes, static_cast<std::size_t>(file->header.position),
               static_cast<std::size_t>(file->header.committed), file, options);
  return true;
}

bool MappedArena::try_create(const char* path, MappedArena& out, const MappedOptions& options) noexcept {
  if (path == nullptr) {
    fail(false, "varena: no path given for a mapped arena");
    return false;
  }
  File* file = new (std::nothrow) File;
  if (file == nullptr) {
    fail(false, "varena: out of memory creating the mapped arena '%s'", path);
    return false;
  }
  if (!file->create(path, options)) {
    delete file;
    return false;
  }
  return out.adopt(file, options);
}

bool MappedArena::try_open(const char* path, MappedArena& out, const Options& options) noexcept {
  if (path == nullptr) {
    fail(false, "varena: no path given for a mapped arena");
    return false;
  }
  File* file = new (std::nothrow) File;
  if (file == nullptr) {
    fail(false, "varena: out of memory opening the mapped arena '%s'", path);
    return false;
  }
  if (!file->open(path)) {
    delete file;
    return false;
  }
  return out.adopt(file, options);
}

MappedArena::MappedArena(MappedArena&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)), arena_(std::move(other.arena_)), root_(std::exchange(other.root_, 0)) {}

MappedArena& MappedArena::operator=(MappedArena&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    arena_ = std::move(other.arena_);
    root_ = std::exchange(other.root_, 0);
  }
  return *this;
}

bool MappedArena::close() noexcept {
  if (file_ == nullptr) return true;
  // The header as the arena ends; the data itself reaches the file as the OS
  // writes the pages back (sync() waits for it).
  Header h = file_->header;
  h.position = arena_.position();
  h.committed = arena_.committed();
  h.root = root_;
  const bool written = vm::write_file(file_->map.file, &h, sizeof h, 0);
  if (!written) fail(true, "varena: cannot write the header of '%s' as it closes", file_->path);
  arena_ = Arena(Arena::Unreserved{});  // unmaps through the backing
  delete file_;
  file_ = nullptr;
  root_ = 0;
  return written;
}

bool MappedArena::sync() noexcept {
  if (file_ == nullptr) {
    fail(false, "varena: sync of an empty mapped arena (moved from, or never created)");
    return false;
  }
  File& f = *file_;
  // Data first, then the header that points into it: a crash in between
  // leaves the previous header, which describes data still in the file.
  const std::size_t used = detail::align_up(arena_.position(), vm::info().page_size);
  if (!vm::flush_file(f.map, f.map.base, used)) {
    fail(true, "varena: cannot write the data of '%s' to the disk", f.path);
    return false;
  }
  Header h = f.header;
  h.position = arena_.position();
  h.committed = arena_.committed();
  h.root = root_;
  if (!vm::write_file(f.map.file, &h, sizeof h, 0)) {
    fail(true, "varena: cannot write the header of '%s'", f.path);
    return false;
  }
  f.header = h;
  if (!vm::sync_file(f.map.file)) {
    fail(true, "varena: cannot write '%s' to the disk", f.path);
    return false;
  }
  return true;
}

}  // namespace varena
