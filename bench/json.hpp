// RapidJSON DOM parses (registered only when RapidJSON is found).
#pragma once

namespace bench {
// Registers "RapidJSON parse 10 MB/<column>" (steady state: many parses in
// this process, warmed up until stable) or, with fresh_process, "RapidJSON
// parse 10 MB, fresh process/<column>" (the first parses of a new process).
// Columns: varena, RapidJSON's MemoryPoolAllocator (with_pool), and
// CrtAllocator over this executable's malloc, named malloc_column.
void register_json(const char* malloc_column, bool with_pool, bool fresh_process);
}  // namespace bench
