// The same small API built twice, into two translation units of one program:
// mixed_checked.cpp at -O0 without NDEBUG (VARENA_CHECKS on), and
// mixed_unchecked.cpp at -O2 with NDEBUG (checks off) -- a Debug application
// and a Release library sharing varena's headers. Scopes, restores, scratch
// arenas and destructors cross between them in modes_test.cpp.
#pragma once

#include <varena/varena.hpp>

#include <cstddef>
#include <vector>

#define VARENA_MIXED_MODE_API(ns)                                                                      \
  namespace ns {                                                                                       \
  using RestoreFunction = void (varena::Arena::*)(std::size_t) noexcept;                               \
  /* Which body of Arena::restore this translation unit calls. */                                      \
  RestoreFunction restore_function();                                                                  \
  /* Opens a Scope, pushes, calls `inner` inside it, pushes again; the scope ends here. */             \
  void scope_around(varena::Arena& arena, void (*inner)(varena::Arena&));                              \
  /* A Scope of its own with a push inside. */                                                         \
  void scoped_push(varena::Arena& arena);                                                              \
  /* Restores past the position: aborts with checks, ignored without. */                              \
  void restore_past(varena::Arena& arena);                                                             \
  /* Makes an object whose destructor appends `id` to `log`. */                                        \
  void make_logged(varena::Arena& arena, std::vector<int>* log, int id);                               \
  /* A Scratch that is not `avoid`, with `inner` called inside it; returns the scratch arena. */      \
  varena::Arena* scratch_around(const varena::Arena& avoid, void (*inner)(varena::Arena&));            \
  /* A Cursor's pushes. */                                                                             \
  std::size_t cursor_pushes(varena::Arena& arena, int count);                                          \
  }

VARENA_MIXED_MODE_API(checked)
VARENA_MIXED_MODE_API(unchecked)
