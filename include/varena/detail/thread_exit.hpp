// A hook into thread exit, implemented by the platform layer (platform/).
#pragma once

namespace varena::detail {

// Arranges for cleanup(data) to run when the calling thread exits: through a
// pthread key on POSIX (after the thread's C++ thread_local destructors, so
// they may still use scratch memory), a fiber-local slot on Windows. One
// pointer per thread; `cleanup` must be the same function on every call.
// False if the OS refused: data is then never cleaned up.
bool at_thread_exit(void (*cleanup)(void*), void* data) noexcept;

}  // namespace varena::detail
