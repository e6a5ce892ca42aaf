// The installed hooks. Readers run on every arena's slow paths in any thread
// while set_hooks may replace them, so the set is published with a sequence
// lock: a reader never sees a callback with another set's context.
#include <varena/hooks.hpp>

#include "hooks_call.hpp"

#include <atomic>
#include <mutex>

namespace varena {
namespace detail {

namespace {

std::atomic<bool> restore_hooked{false};


template <class F>
using Slot = std::atomic<F>;
using RangeHook = void (*)(void*, const Arena&, void*, std::size_t);
using RestoreHook = void (*)(void*, const Arena&, std::size_t, std::size_t);

struct Published {
  std::atomic<unsigned> sequence{0};  // odd while a writer is changing the slots
  Slot<void*> context{nullptr};
  Slot<RangeHook> reserve{nullptr}, commit{nullptr}, decommit{nullptr}, release{nullptr};
  Slot<RestoreHook> restore{nullptr};
  std::atomic<bool> any{false};  // some callback is installed: the slow paths read the set
};

Published published;
std::mutex writers;

Hooks read() noexcept {
  Hooks h;
  for (;;) {
    const unsigned before = published.sequence.load(std::memory_order_acquire);
    if (before % 2 == 0) {
      // Acquire loads (no fences, which ThreadSanitizer cannot follow): a
      // slot a writer has already changed makes the recheck see its odd count.
      h.context = published.context.load(std::memory_order_acquire);
      h.reserve = published.reserve.load(std::memory_order_acquire);
      h.commit = published.commit.load(std::memory_order_acquire);
      h.decommit = published.decommit.load(std::memory_order_acquire);
      h.release = published.release.load(std::memory_order_acquire);
      h.restore = published.restore.load(std::memory_order_acquire);
      if (published.sequence.load(std::memory_order_relaxed) == before) return h;
    }
  }
}

}  // namespace

void hook_range(HookEvent event, const Arena& arena, void* address, std::size_t bytes) noexcept {
  if (!published.any.load(std::memory_order_acquire)) return;
  const Hooks h = read();
  RangeHook f = event == HookEvent::reserve    ? h.reserve
                : event == HookEvent::commit   ? h.commit
                : event == HookEvent::decommit ? h.decommit
                                               : h.release;
  if (f != nullptr) f(h.context, arena, address, bytes);
}

bool restore_hook_installed() noexcept { return restore_hooked.load(std::memory_order_acquire); }

void hook_restore(const Arena& arena, std::size_t from, std::size_t to) noexcept {
  if (!published.any.load(std::memory_order_acquire)) return;
  const Hooks h = read();
  if (h.restore != nullptr) h.restore(h.context, arena, from, to);
}

}  // namespace detail

Hooks set_hooks(const Hooks& hooks) noexcept {
  using detail::published;
  std::lock_guard<std::mutex> lock(detail::writers);
  const Hooks previous = detail::read();
  published.sequence.fetch_add(1, std::memory_order_relaxed);  // odd: readers retry
  published.context.store(hooks.context, std::memory_order_release);
  published.reserve.store(hooks.reserve, std::memory_order_release);
  published.commit.store(hooks.commit, std::memory_order_release);
  published.decommit.store(hooks.decommit, std::memory_order_release);
  published.release.store(hooks.release, std::memory_order_release);
  published.restore.store(hooks.restore, std::memory_order_release);
  published.sequence.fetch_add(1, std::memory_order_release);  // even: a consistent set
  published.any.store(hooks.reserve != nullptr || hooks.commit != nullptr || hooks.decommit != nullptr ||
                          hooks.release != nullptr || hooks.restore != nullptr,
                      std::memory_order_release);
  detail::restore_hooked.store(hooks.restore != nullptr, std::memory_order_release);
  return previous;
}

Hooks hooks() noexcept { return detail::read(); }

}  // namespace varena
