// A C++ program built with nothing but pkg-config:
//   c++ -std=c++17 prog.cpp $(pkg-config --cflags --libs --static varena)
#include <varena/varena.hpp>

#include <cstdio>
#include <string>

int main() {
  varena::Arena arena;
  auto* name = arena.make<std::string>("a string long enough to live on the heap");
  {
    varena::Scratch scratch(arena);
    int* temps = scratch->push_array<int>(1000);
    temps[999] = 1;
  }
  varena::Vector<int> v;
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  if (name->size() < 10 || v.back() != 99999) return 1;
  std::puts("C++ consumer: ok");
  return 0;
}
