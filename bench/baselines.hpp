// The designs varena is measured against that are written here: the physical
// limit of a push (a pointer bump whose pointer is a local variable, kept in
// a register), the same bump with its pointer in memory (what any arena
// object pays unless the compiler can keep its position in a register), and
// the classic chained-chunk region arena.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "harness.hpp"

namespace bench {

constexpr std::size_t kHuge = 2 * kMiB;

constexpr std::size_t round_up(std::size_t n, std::size_t align) { return (n + align - 1) & ~(align - 1); }

// Memory mapped, advised and touched up front: 2 MiB-aligned with
// MADV_HUGEPAGE, as varena's reservations are, so that a column given one
// measures its own code, not page sizes or first touches. The raw limit runs
// in one; RapidJSON's pool and pmr's monotonic buffer get one as their user
// buffer.
class Buffer {
 public:
  explicit Buffer(std::size_t bytes) : bytes_(round_up(bytes, kHuge)) {
    void* m = mmap(nullptr, bytes_ + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    map_ = static_cast<char*>(m);
    base_ = reinterpret_cast<char*>(round_up(reinterpret_cast<std::uintptr_t>(map_), kHuge));
    madvise(base_, bytes_, MADV_HUGEPAGE);
    for (std::size_t i = 0; i < bytes_; i += 4096) base_[i] = 1;
  }
  ~Buffer() { munmap(map_, bytes_ + kHuge); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  char* data() const { return base_; }
  std::size_t size() const { return bytes_; }

 private:
  std::size_t bytes_;
  char* map_;
  char* base_;
};

[[noreturn]] [[gnu::noinline, gnu::cold]] inline void raw_overflow() { die("raw bump: buffer too small"); }

// The limit: what a push costs when nothing but the bump itself is paid. The
// pointer is a local variable of the loop, so it stays in a register; each
// step is rounded up to the alignment off the loop-carried chain (the
// pointer stays aligned), and the bound is checked as any allocator must.
// A batch starts from the buffer's base: that is the reset. With g++ 12 -O3
// a 16 B push compiles to: bound check (sub, cmp, branch), mov, add $16 to
// the pointer register, the 8-byte store, and the loop's add/cmp/branch: the
// only loop-carried dependency is that one add (check with objdump -d when
// changing this loop or consume()).
struct RawLimit {
  static constexpr bool kOwnLoop = true;  // runs the batch itself (workloads.hpp)
  Buffer buffer;
  explicit RawLimit(std::size_t capacity) : buffer(capacity) {}

  template <std::size_t Align, class SizeOf>
  void batch(std::size_t n, SizeOf size_of) {
    char* p = buffer.data();
    char* const end = p + buffer.size();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t step = round_up(size_of(i), Align);
      if (step > static_cast<std::size_t>(end - p)) raw_overflow();
      char* q = p;
      p += step;
      consume(q, i);
    }
  }
};

// The same bump with its position in an object whose address escapes to an
// out-of-line slow path, as an arena's does: the compiler must store the
// position and load it back around every push. Labelled "memory-resident":
// it shows what keeping the position in memory costs, not the limit.
class RawInMemory {
 public:
  explicit RawInMemory(std::size_t capacity) : buffer_(capacity), cur_(buffer_.data()), end_(cur_ + buffer_.size()) {}

  void* alloc(std::size_t bytes, std::size_t align) {
    const std::size_t step = round_up(bytes, align);
    if (step > static_cast<std::size_t>(end_ - cur_)) return grow(bytes);
    char* q = cur_;
    cur_ += step;
    return q;
  }
  void reset() { cur_ = buffer_.data(); }

 private:
  // Never taken (the buffer holds a batch), but it returns, like an arena's
  // slow path: so the compiler must assume it changed the position.
  [[gnu::noinline, gnu::cold]] void* grow(std::size_t bytes) {
    if (bytes > buffer_.size()) raw_overflow();
    reset();
    char* q = cur_;
    cur_ += bytes;
    return q;
  }

  Buffer buffer_;
  char* cur_;
  char* end_;
};

// The textbook region: a linked list of fixed-size chunks from malloc, as in
// RapidJSON's MemoryPoolAllocator. Requests larger than a chunk get a chunk
// of their own; reset keeps the first chunk and frees the rest.
class ChunkArena {
 public:
  explicit ChunkArena(std::size_t chunk_bytes = 64 * kKiB) : chunk_bytes_(chunk_bytes) {}
  ~ChunkArena() {
    reset();
    std::free(head_);
  }
  ChunkArena(const ChunkArena&) = delete;
  ChunkArena& operator=(const ChunkArena&) = delete;

  void* push(std::size_t bytes, std::size_t align = 16) {
    char* p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1));
    if (p + bytes <= end_ && cur_ != nullptr) {
      cur_ = p + bytes;
      return p;
    }
    return push_in_new_chunk(bytes, align);
  }

  void reset() {
    while (head_ != nullptr && head_->next != nullptr) {
      Chunk* next = head_->next;
      std::free(head_);
      head_ = next;
    }
    if (head_ != nullptr) start_in(head_, head_->size);
  }

 private:
  struct Chunk {
    Chunk* next;
    std::size_t size;
  };

  void start_in(Chunk* c, std::size_t size) {
    cur_ = reinterpret_cast<char*>(c + 1);
    end_ = reinterpret_cast<char*>(c) + size;
  }

  [[gnu::noinline]] void* push_in_new_chunk(std::size_t bytes, std::size_t align) {
    const std::size_t need = sizeof(Chunk) + bytes + align;
    const std::size_t size = need > chunk_bytes_ ? need : chunk_bytes_;
    auto* c = static_cast<Chunk*>(std::malloc(size));
    if (c == nullptr) throw std::bad_alloc();
    c->next = head_;
    c->size = size;
    head_ = c;
    start_in(c, size);
    return push(bytes, align);
  }

  std::size_t chunk_bytes_;
  Chunk* head_ = nullptr;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace bench
