#include <varena/varena.hpp>
void* noexc_push(varena::Arena& a, std::size_t n) { return a.push(n); }
