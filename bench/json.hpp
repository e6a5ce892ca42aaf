// Workload 8: RapidJSON DOM parses (registered only when RapidJSON is found).
#pragma once

namespace bench {
// Registers "RapidJSON parse .../<malloc_column>" with CrtAllocator over this
// executable's malloc and, with with_arenas, the varena and pool columns.
void register_json(const char* malloc_column, bool with_arenas);
}  // namespace bench
