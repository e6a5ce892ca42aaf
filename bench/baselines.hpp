// The designs varena is measured against, written here so that every column
// of the table runs in one process: the physical limit (a raw bump over
// memory committed up front) and the classic chained-chunk region arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace bench {

// An inline pointer bump over memory committed and touched in advance: what
// a push would cost if committing were free.
class RawBump {
 public:
  explicit RawBump(std::size_t bytes) : base_(static_cast<char*>(std::malloc(bytes))), cur_(base_), end_(base_ + bytes) {
    if (base_ == nullptr) throw std::bad_alloc();
    for (std::size_t i = 0; i < bytes; i += 4096) base_[i] = 0;
  }
  ~RawBump() { std::free(base_); }
  RawBump(const RawBump&) = delete;
  RawBump& operator=(const RawBump&) = delete;

  void* push(std::size_t bytes, std::size_t align = 16) {
    char* p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1));
    cur_ = p + bytes;
    return p;
  }
  char* mark() const { return cur_; }
  void restore(char* mark) { cur_ = mark; }
  void reset() { cur_ = base_; }

 private:
  char* base_;
  char* cur_;
  char* end_;
};

// The textbook region: a linked list of fixed-size chunks from malloc, as in
// RapidJSON's MemoryPoolAllocator. Requests larger than a chunk get a chunk
// of their own; reset keeps the first chunk and frees the rest.
class ChunkArena {
 public:
  explicit ChunkArena(std::size_t chunk_bytes = 64 * 1024) : chunk_bytes_(chunk_bytes) {}
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

  void* push_in_new_chunk(std::size_t bytes, std::size_t align) {
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
