/// @file
/// What an arena's range lives on when it is not anonymous memory (a file,
/// for MappedArena): the four operations Arena makes on its range after it is
/// reserved, which src/arena.cpp sends here instead of to varena::vm when the
/// arena has a backing. Not API: the arena and its owner agree on one.
#pragma once

#include <cstddef>

namespace varena::detail {

// Each operation has the contract of its varena::vm namesake (vm.hpp):
// failure is a false return that leaves the range as the OS left it, and the
// arena then keeps its books as for a refused vm call. One difference the
// arena relies on: decommit is only ever asked for the tail of what is
// committed ([at, committed end)), so a backing may refuse anything else.
class Backing {
 public:
  virtual bool commit(char* at, std::size_t bytes) noexcept = 0;
  // Refused: the range stays committed and keeps its bytes (the arena then
  // zero-fills it by hand). Accepted: it reads zero when committed again
  // wherever vm::info().decommit_zeroes says the OS's own decommit does.
  virtual bool decommit(char* at, std::size_t bytes) noexcept = 0;
  virtual bool protect(char* at, std::size_t bytes, bool accessible) noexcept = 0;
  // The whole range back (the arena is closing); nothing to report.
  virtual void release(char* base, std::size_t bytes) noexcept = 0;

 protected:
  Backing() = default;
  Backing(const Backing&) = default;
  Backing& operator=(const Backing&) = default;
  ~Backing() = default;  // never deleted through this interface
};

}  // namespace varena::detail
