// An arena's copy-on-write memory (Options::copy_on_write): the Backing that
// sends its commits and decommits to the anonymous file of
// detail/cow_map.hpp, and what its copy-on-write snapshot shares with it.
#pragma once

#include <varena/detail/backing.hpp>
#include <varena/detail/cow_map.hpp>
#include <varena/vm.hpp>

#include <cstddef>

namespace varena::detail {

struct CowBacking final : Backing {
  vm::CowMap map;
  std::size_t mapped = 0;      // the whole reservation, guard region included
  std::size_t frozen_end = 0;  // a copy-on-write snapshot is alive: the file's bytes below this are its
  bool frozen = false;
  int owners = 1;              // the arena, and its copy-on-write snapshot while alive

  bool commit(char* at, std::size_t bytes) noexcept override { return vm::cow_commit(map, at, bytes); }
  // While a snapshot is alive the file holds its bytes: refused below
  // frozen_end (the arena keeps that memory committed until it is dropped).
  bool decommit(char* at, std::size_t bytes) noexcept override {
    if (frozen && static_cast<std::size_t>(at - map.base) < frozen_end) return false;
    return vm::cow_decommit(map, at, bytes);
  }
  bool protect(char* at, std::size_t bytes, bool accessible) noexcept override {
    return vm::protect(at, bytes, accessible);
  }
  void release(char* base, std::size_t bytes) noexcept override {
    vm::cow_destroy(map);
    (void)vm::release(base, bytes);  // the file's mapping and the guard region: nothing to do if refused
    drop();
  }
  // One owner fewer; the last one deletes it.
  void drop() noexcept {
    if (--owners == 0) delete this;
  }
};

}  // namespace varena::detail
