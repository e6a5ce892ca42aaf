// Functions of a translation unit built without exceptions.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>

namespace noexc {
void push(varena::Arena& arena, std::size_t bytes);
void push_uninit(varena::Arena& arena, std::size_t bytes);
void push_array(varena::Arena& arena, std::size_t count);
void make(varena::Arena& arena);
void push_string(varena::Arena& arena, std::size_t length);
void allocate(varena::Arena& arena, std::size_t count);
void reserve(std::size_t bytes);
bool try_push_fails(varena::Arena& arena, std::size_t bytes);
std::size_t push_and_count(std::size_t n);
void open_mapped(const char* path);
}  // namespace noexc
