// ConcurrentArena's shared half: taking slabs and large blocks from the
// reservation under one lock, destructor registration, reset.
#include <varena/concurrent.hpp>
#include <varena/registry.hpp>

#include <algorithm>
#include <cstdio>
#include <new>

namespace varena {
namespace detail {

// The slabs of two generations. Threads are told apart by a serial number
// given on their first slab, never reused, so a new thread never inherits
// an old one's memory by mistake.
struct SlabHistory {
  struct Claim {
    std::uint64_t thread;  // 0: taken again already
    std::size_t offset, size;
  };
  static constexpr std::size_t kClaims = 512;  // slabs remembered a generation; more are simply not
  Claim current[kClaims];
  Claim previous[kClaims];
  std::size_t current_count = 0, previous_count = 0;

  void record(std::uint64_t thread, std::size_t offset, std::size_t size) noexcept {
    if (current_count < kClaims) current[current_count++] = Claim{thread, offset, size};
  }
  // The thread's next slab of the last generation with room for `need` bytes.
  bool reclaim(std::uint64_t thread, std::size_t need, std::size_t* offset, std::size_t* size) noexcept {
    for (std::size_t i = 0; i < previous_count; ++i) {
      Claim& c = previous[i];
      if (c.thread != thread || c.size < need) continue;
      c.thread = 0;
      *offset = c.offset;
      *size = c.size;
      return true;
    }
    return false;
  }
  // A new generation: this one's slabs are set aside for their threads, and
  // the arena keeps everything below the highest of them. Returns where the
  // arena's position goes: 0 (a full reset) when that would keep more than
  // twice what the slabs hold, so memory around slabs nobody took again (and
  // large blocks between them) is never held for long.
  std::size_t next_generation(std::size_t largest_slab) noexcept {
    std::size_t top = 0, held = 0;
    for (std::size_t i = 0; i < current_count; ++i) {
      top = std::max(top, current[i].offset + current[i].size);
      held += current[i].size;
    }
    if (top > 2 * held + largest_slab) current_count = 0, top = 0;
    std::copy(current, current + current_count, previous);
    previous_count = current_count;
    current_count = 0;
    return top;
  }
};

}  // namespace detail

namespace {

std::uint64_t this_thread_serial() noexcept {
  static std::atomic<std::uint64_t> last{0};
  thread_local std::uint64_t serial = 0;
  if (serial == 0) serial = last.fetch_add(1, std::memory_order_relaxed) + 1;
  return serial;
}

// Slabs double per thread from the first to the largest; a request that
// would not fit well in the largest gets a block of its own.
constexpr std::size_t kFirstSlab = std::size_t{4} << 10;
constexpr std::size_t kLargestSlab = std::size_t{256} << 10;
constexpr std::size_t kOwnBlock = kLargestSlab / 4;

// Unique for the process's lifetime: 2^64 resets and moves do not happen.
std::uint64_t next_epoch() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

Options slab_source(Options options) noexcept {
  options.min_align = detail::kInlineMinAlign;  // slabs and the inline push agree on it
  // Slabs are handed out as they come from the arena: the zero-fill
  // bookkeeping (dirty_) counts on memory past the last peak reading zero.
  options.debug_fill = false;
  return options;
}

// This thread's entry for `epoch`, moved to the front (the inline push reads
// entry 0); a new, empty entry if the thread has none, the least recent one
// making room.
detail::Slab& front_entry(detail::Slab* cache, std::uint64_t epoch) noexcept {
  std::size_t i = 0;
  while (i < detail::kSlabCache - 1 && cache[i].epoch != epoch) ++i;
  detail::Slab found = cache[i].epoch == epoch ? cache[i] : detail::Slab{epoch, nullptr, nullptr, nullptr, kFirstSlab};
  for (; i > 0; --i) cache[i] = cache[i - 1];
  cache[0] = found;
  return cache[0];
}

}  // namespace

ConcurrentArena::ConcurrentArena(const Options& options)
    : epoch_(next_epoch()), arena_(slab_source(options)), history_(new (std::nothrow) detail::SlabHistory) {
  reserved_ = arena_.reserved();
  base_ = static_cast<char*>(const_cast<void*>(info(arena_).base));
  // Protect mode makes everything past position 0 fault after a reset, which
  // memory set aside for threads would escape.
  if (options.protect) history_.reset();
}

ConcurrentArena::ConcurrentArena(ConcurrentArena&& other) noexcept : arena_(std::move(other.arena_)) {
  other.check_idle("moving");
  take_state(other);
}

ConcurrentArena& ConcurrentArena::operator=(ConcurrentArena&& other) noexcept {
  if (this != &other) {
    check_idle("move-assigning to");
    other.check_idle("moving");
    run_destructors();
    arena_ = std::move(other.arena_);
    take_state(other);
  }
  return *this;
}

// Everything but the reservation itself, which the caller moved. Both get new
// epochs: slabs threads took from `other` now belong to this arena's memory.
void ConcurrentArena::take_state(ConcurrentArena& other) noexcept {
  reserved_ = std::exchange(other.reserved_, 0);
  base_ = std::exchange(other.base_, nullptr);
  history_ = std::move(other.history_);
  dirty_ = std::exchange(other.dirty_, 0);
  committed_.store(other.committed_.exchange(0));
  destructors_.store(other.destructors_.exchange(nullptr));
  slabs_.store(other.slabs_.exchange(0));
  slab_bytes_.store(other.slab_bytes_.exchange(0));
  slab_waste_.store(other.slab_waste_.exchange(0));
  epoch_ = next_epoch();
  other.epoch_ = next_epoch();
}

ConcurrentArena::~ConcurrentArena() {
  check_idle("destroying");
  run_destructors();
}

void* ConcurrentArena::take(detail::Slab* cache, std::size_t bytes, std::size_t align, int flags) {
  constexpr std::size_t unit = detail::kInlineMinAlign;
  std::size_t size;
  if (reserved_ == 0 || !detail::is_power_of_two(align) || align > kOwnBlock || !detail::align_up(bytes, unit, &size) ||
      size > kOwnBlock)
    return take_block(bytes, align, flags);  // Arena's rules and errors, word for word
  const std::size_t a = std::max(align, unit);

  detail::Slab& s = front_entry(cache, epoch_);
  if (s.cur != nullptr) {
    char* start = s.cur + (static_cast<std::size_t>(0 - detail::address(s.cur)) & (a - 1));
    if (start <= s.end && size <= static_cast<std::size_t>(s.end - start)) {
      s.cur = start + size;
      detail::unpoison(start, bytes);
      if (flags & kZeroed) detail::zero_dirty(start, bytes, s.dirty);
      return start;
    }
  }

  // A new slab, big enough for this push at any alignment.
  std::size_t slab = s.next_size;
  while (slab < size + a) slab *= 2;
  char* fresh;
  std::size_t dirty;  // bytes at the slab's start that were handed out before the last reset
  {
    Busy busy(*this);
    std::lock_guard<std::mutex> lock(mutex_);
    const std::uint64_t thread = this_thread_serial();
    std::size_t at;
    if (history_ != nullptr && history_->reclaim(thread, size + a, &at, &slab)) {
      fresh = base_ + at;  // this thread's slab before the reset: likely still in its cache
    } else {
      at = arena_.position();
      fresh = static_cast<char*>(arena_.try_push_uninit(slab, unit));
    }
    if (fresh != nullptr && history_ != nullptr) history_->record(thread, at, slab);
    dirty = dirty_ > at ? std::min(slab, dirty_ - at) : 0;
    committed_.store(arena_.committed(), std::memory_order_relaxed);
  }
  if (fresh == nullptr) return take_block(bytes, align, flags);  // the exact request may still fit
  if (s.cur != nullptr) slab_waste_.fetch_add(static_cast<std::size_t>(s.end - s.cur), std::memory_order_relaxed);
  slabs_.fetch_add(1, std::memory_order_relaxed);
  slab_bytes_.fetch_add(slab, std::memory_order_relaxed);
  detail::poison(fresh, slab);  // each push unpoisons what it hands out
  s.cur = fresh;
  s.end = fresh + slab;
  s.dirty = fresh + dirty;
  s.next_size = std::min(slab * 2, kLargestSlab);
  char* start = fresh + (static_cast<std::size_t>(0 - detail::address(fresh)) & (a - 1));
  s.cur = start + size;
  detail::unpoison(start, bytes);
  if (flags & kZeroed) detail::zero_dirty(start, bytes, s.dirty);
  return start;
}

void* ConcurrentArena::take_block(std::size_t bytes, std::size_t align, int flags) {
  Busy busy(*this);
  std::lock_guard<std::mutex> lock(mutex_);
  void* p;
  switch (flags) {
    case kThrows | kZeroed: p = arena_.push(bytes, align); break;
    case kThrows: p = arena_.push_uninit(bytes, align); break;
    case kZeroed: p = arena_.try_push(bytes, align); break;
    default: p = arena_.try_push_uninit(bytes, align); break;
  }
  committed_.store(arena_.committed(), std::memory_order_relaxed);
  return p;
}

void ConcurrentArena::link(detail::DestructorRecord* record) noexcept {
  record->previous = destructors_.load(std::memory_order_relaxed);
  while (!destructors_.compare_exchange_weak(record->previous, record, std::memory_order_release,
                                             std::memory_order_relaxed)) {
  }
}

void ConcurrentArena::run_destructors() noexcept {
  detail::DestructorRecord* r = destructors_.exchange(nullptr, std::memory_order_acquire);
  while (r != nullptr) {
    detail::DestructorRecord* previous = r->previous;  // the record may lie in what it destroys
    r->destroy(r->objects, r->count);
    r = previous;
  }
}

void ConcurrentArena::reset() noexcept {
  check_idle("resetting");
  run_destructors();
  std::lock_guard<std::mutex> lock(mutex_);
  dirty_ = std::max(dirty_, arena_.peak());
  const std::size_t kept = history_ != nullptr ? history_->next_generation(kLargestSlab) : 0;
  arena_.restore(kept);
  detail::poison(base_, kept);  // the slabs set aside: each push unpoisons what it hands out
  committed_.store(arena_.committed(), std::memory_order_relaxed);
  slabs_.store(0, std::memory_order_relaxed);
  slab_bytes_.store(0, std::memory_order_relaxed);
  slab_waste_.store(0, std::memory_order_relaxed);
  epoch_ = next_epoch();  // every thread's slab of the old generation is forgotten
}

void ConcurrentArena::trim() noexcept {
  check_idle("trimming");
  std::lock_guard<std::mutex> lock(mutex_);
  arena_.trim();
  committed_.store(arena_.committed(), std::memory_order_relaxed);
}

ConcurrentArena::Stats ConcurrentArena::stats() const noexcept {
  Arena::Stats os;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    os = arena_.stats();
  }
  return Stats{os.commits, os.decommits, slabs_.load(std::memory_order_relaxed),
               slab_bytes_.load(std::memory_order_relaxed), slab_waste_.load(std::memory_order_relaxed)};
}

void ConcurrentArena::check_idle(const char* operation) const noexcept {
  // Always looked at: translation units built with VARENA_CHECKS count their
  // operations in flight even when the library was built without.
  {
    const int busy = busy_.load(std::memory_order_relaxed);
    if (busy != 0) {
      char text[200];
      std::snprintf(text, sizeof text,
                    "varena: %s a ConcurrentArena while %d push/make operation(s) on it are in flight "
                    "(reset, trim, moves and destruction need every push to have finished)",
                    operation, busy);
      detail::contract_violation(text);
    }
  }
}

}  // namespace varena
