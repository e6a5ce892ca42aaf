// Debug fences (VARENA_FENCES): every block is followed by a fence, a known
// pattern and then the block's position and size and a link to the previous
// fence. Restore, reset and destruction walk the fences of the blocks they
// take back and stop the program, naming the block, at the first one a write
// ran over. Compiled always, called only when VARENA_FENCES is on.
#include <varena/arena.hpp>

#include <cstdio>
#include <cstring>

namespace varena {
namespace {

constexpr unsigned char kPattern = 0xFD;
constexpr std::size_t kPatternBytes = 16;

// Pattern first: the usual overrun, a few bytes, spoils only the pattern and
// leaves the block's position and size readable for the report.
struct Fence {
  unsigned char pattern[kPatternBytes];
  std::size_t position;  // of the block it guards
  std::size_t size;
  std::size_t previous;  // 1 + position of the previous fence, 0: none
};

constexpr std::size_t kFenceAlign = alignof(Fence);
static_assert(!VARENA_FENCES || (sizeof(Fence) == Arena::fence_bytes && kFenceAlign == Arena::fence_align),
              "Arena::fence_bytes and fence_align describe the fence");

bool round_up_fence(std::size_t x, std::size_t* out) noexcept { return detail::align_up(x, kFenceAlign, out); }

// Where the position goes after a fence at fence_at: past it, kept a
// multiple of the arena's minimum alignment like every position.
bool fence_end(std::size_t fence_at, std::size_t min_align, std::size_t* out) noexcept {
  std::size_t end;
  return !detail::add_overflows(fence_at, sizeof(Fence), &end) && detail::align_up(end, min_align, out);
}

bool intact(const Fence& f) noexcept {
  for (unsigned char b : f.pattern)
    if (b != kPattern) return false;
  return true;
}

[[noreturn]] void overrun(const char* name, const Fence& f, std::size_t fence_at) noexcept {
  detail::Message m;
  if (f.position <= fence_at && fence_at - f.position < f.size + kFenceAlign)
    std::snprintf(m.text, sizeof m.text,
                  "varena: fence overwritten after the block at position %zu (%zu bytes): a write ran past its end",
                  f.position, f.size);
  else
    std::snprintf(m.text, sizeof m.text,
                  "varena: fence overwritten after the block ending at position %zu (its size was overwritten too)",
                  fence_at);
  detail::name_message(m, name);
  detail::contract_violation(m.text);
}

}  // namespace

void* Arena::push_fenced(std::size_t bytes, std::size_t align) noexcept {
  if (!detail::is_power_of_two(align) || base_ == nullptr) return nullptr;
  const std::size_t before = position();
  const std::size_t pad = static_cast<std::size_t>(0 - detail::address(cur_)) & (align - 1);
  std::size_t start, block_end, fence_at, end;
  if (detail::add_overflows(before, pad, &start) || detail::add_overflows(start, bytes, &block_end) ||
      !round_up_fence(block_end, &fence_at) || !fence_end(fence_at, min_align(), &end) ||
      !commit_through(before, end - before))
    return nullptr;
  detail::unpoison(base_ + start, end - start);
  Fence* f = reinterpret_cast<Fence*>(base_ + fence_at);
  std::memset(f->pattern, kPattern, kPatternBytes);
  std::memset(base_ + block_end, kPattern, fence_at - block_end);  // the gap up to the fence is fence too
  f->position = start;
  f->size = bytes;
  f->previous = last_fence_;
  last_fence_ = fence_at + 1;
  cur_ = base_ + end;
  ++stats_.pushes;
  stats_.bytes_requested += bytes;
  stats_.alignment_padding += pad;
  return base_ + start;
}

bool Arena::extend_fenced(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept {
  if (block == nullptr || last_fence_ == 0) return false;
  const std::size_t old_fence_at = last_fence_ - 1;
  Fence* f = reinterpret_cast<Fence*>(base_ + old_fence_at);
  if (!intact(*f)) overrun(name_, *f, old_fence_at);
  std::size_t old_end;
  if (base_ + f->position != block || f->size != old_bytes || !fence_end(old_fence_at, min_align(), &old_end) ||
      old_end != position())
    return false;  // not the last block
  const std::size_t start = f->position, previous = f->previous;
  std::size_t block_end, fence_at, end;
  if (detail::add_overflows(start, new_bytes, &block_end) || !round_up_fence(block_end, &fence_at) ||
      !fence_end(fence_at, min_align(), &end))
    return false;
  const std::size_t current = position();
  if (end > current && !commit_through(current, end - current)) return false;
  if (end < current) {  // shrinking: what lies past the new fence is taken back
    if (cur_ > high_) high_ = cur_;
    detail::poison(base_ + end, current - end);
  } else {
    detail::unpoison(base_ + current, end - current);
  }
  if (new_bytes > old_bytes) {
    // The old fence lies in the grown part: clear it like any reused memory.
    std::memset(base_ + start + old_bytes, 0, new_bytes - old_bytes);
    stats_.bytes_requested += new_bytes - old_bytes;
  }
  Fence* moved = reinterpret_cast<Fence*>(base_ + fence_at);
  std::memset(base_ + block_end, kPattern, fence_at - block_end);
  std::memset(moved->pattern, kPattern, kPatternBytes);
  moved->position = start;
  moved->size = new_bytes;
  moved->previous = previous;
  last_fence_ = fence_at + 1;
  cur_ = base_ + end;
  if (end < current) {  // a shrink is a restore: protect mode and the retain policy apply
    protect_from(cur_);
    if (static_cast<std::size_t>(commit_end_ - cur_) > retain_) {
      review(end);
    } else {
      if (cur_ < low_) low_ = cur_;
      update_floor();
    }
  }
  return true;
}

void Arena::check_fences(std::size_t position) noexcept {
  // Newest first, every fence the restore reaches: those of blocks taken back.
  while (last_fence_ != 0 && last_fence_ - 1 + sizeof(Fence) > position) {
    const std::size_t at = last_fence_ - 1;
    const Fence& f = *reinterpret_cast<const Fence*>(base_ + at);
    if (!intact(f) || f.position > at || f.size > at - f.position) overrun(name_, f, at);
    for (std::size_t gap = f.position + f.size; gap < at; ++gap)
      if (static_cast<unsigned char>(base_[gap]) != kPattern) overrun(name_, f, at);
    last_fence_ = f.previous;
  }
}

}  // namespace varena
