// How the core tells the installed hooks (src/hooks.cpp) of an event.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>

namespace varena::detail {

enum class HookEvent { reserve, commit, decommit, release };

// Call the installed hook for `event`, if any; a load and a branch otherwise.
void hook_range(HookEvent event, const Arena& arena, void* address, std::size_t bytes) noexcept;
void hook_restore(const Arena& arena, std::size_t from, std::size_t to) noexcept;
// Whether a restore hook is installed now.
bool restore_hook_installed() noexcept;

}  // namespace varena::detail
