// Built at -O0 without NDEBUG: VARENA_CHECKS is on here (see mixed_modes.hpp).
#include "mixed_modes.hpp"

static_assert(VARENA_CHECKS, "this translation unit is the checked one");

namespace checked {
#include "mixed_body.inc"
}  // namespace checked
