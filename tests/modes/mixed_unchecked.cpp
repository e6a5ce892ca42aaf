// Built at -O2 with NDEBUG: VARENA_CHECKS is off here (see mixed_modes.hpp).
#include "mixed_modes.hpp"

static_assert(!VARENA_CHECKS, "this translation unit is the unchecked one");

namespace unchecked {
#include "mixed_body.inc"
}  // namespace unchecked
