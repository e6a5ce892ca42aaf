// Must not compile (tests/CMakeLists.txt checks the compiler's message): a
// MappedArena records no destructors and its file outlives the process, so
// make/push_array of a type with a non-trivial destructor or a vtable is
// refused at compile time.
#include <varena/mapped.hpp>

#include <string>

#if defined(VARENA_CASE_DESTRUCTOR)
void refused(varena::MappedArena& arena) { arena.make<std::string>("its destructor would never run"); }
#elif defined(VARENA_CASE_POLYMORPHIC)
// Trivially destructible, but its vtable pointer means nothing in another process.
struct Shape {
  virtual int sides() const { return 0; }
};
struct Square : Shape {
  int sides() const override { return 4; }
};
void refused(varena::MappedArena& arena) { arena.push_array<Square>(2); }
#else
#error "define VARENA_CASE_DESTRUCTOR or VARENA_CASE_POLYMORPHIC"
#endif
