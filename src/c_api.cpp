// The C API (include/varena/varena.h) over the C++ core: every failure is a
// status, never an exception or an abort, and changes nothing.
#include <varena/varena.h>
#include <varena/varena.hpp>

#include <new>

struct varena_arena {
  varena::Arena arena;
};

struct varena_snapshot {
  varena::Snapshot snapshot;
};

struct varena_mapped {
  varena::MappedArena mapped;
};

namespace {

varena::Arena* cpp(varena_arena* a) { return reinterpret_cast<varena::Arena*>(a); }
const varena::Arena* cpp(const varena_arena* a) { return reinterpret_cast<const varena::Arena*>(a); }
varena_arena* c(varena::Arena* a) { return reinterpret_cast<varena_arena*>(a); }

// Checks what the C++ API treats as contract violations, so C callers get a
// status instead of an abort.
varena_status push(varena_arena* arena, std::size_t bytes, std::size_t align, void** out, bool zeroed) {
  if (out != nullptr) *out = nullptr;
  if (arena == nullptr || out == nullptr) return VARENA_BAD_ARGUMENT;
  if (!varena::detail::is_power_of_two(align)) return VARENA_BAD_ALIGNMENT;
  void* p = zeroed ? cpp(arena)->try_push(bytes, align) : cpp(arena)->try_push_uninit(bytes, align);
  if (p == nullptr) return VARENA_OUT_OF_MEMORY;
  *out = p;
  return VARENA_OK;
}

// The C hooks run from C++ hooks whose context is the caller's varena_hooks.
const varena_hooks* c_hooks(void* context) { return static_cast<const varena_hooks*>(context); }
const varena_arena* c(const varena::Arena& a) { return reinterpret_cast<const varena_arena*>(&a); }
void reserve_hook(void* h, const varena::Arena& a, void* at, std::size_t n) {
  c_hooks(h)->reserve(c_hooks(h)->context, c(a), at, n);
}
void commit_hook(void* h, const varena::Arena& a, void* at, std::size_t n) {
  c_hooks(h)->commit(c_hooks(h)->context, c(a), at, n);
}
void decommit_hook(void* h, const varena::Arena& a, void* at, std::size_t n) {
  c_hooks(h)->decommit(c_hooks(h)->context, c(a), at, n);
}
void release_hook(void* h, const varena::Arena& a, void* at, std::size_t n) {
  c_hooks(h)->release(c_hooks(h)->context, c(a), at, n);
}
void restore_hook(void* h, const varena::Arena& a, std::size_t from, std::size_t to) {
  c_hooks(h)->restore(c_hooks(h)->context, c(a), from, to);
}

}  // namespace

static_assert(sizeof(varena_arena) == sizeof(varena::Arena), "varena_arena is the Arena itself");

extern "C" {

void varena_options_default(varena_options* options) {
  if (options == nullptr) return;
  const varena::Options d;
  options->reserve = d.reserve;
  options->commit_step = d.commit_step;
  options->retain = d.retain;
  options->keep_recent = d.keep_recent ? 1 : 0;
  options->large_pages = d.large_pages ? 1 : 0;
  options->min_align = d.min_align;
  options->protect = d.protect ? 1 : 0;
  options->commit_limit = d.commit_limit;
  options->name = d.name;
  options->debug_fill = d.debug_fill ? 1 : 0;
  options->copy_on_write = d.copy_on_write ? 1 : 0;
}

varena_status varena_create(const varena_options* options, varena_arena** out) {
  if (out == nullptr) return VARENA_BAD_ARGUMENT;
  *out = nullptr;
  varena::Options o;
  if (options != nullptr) {
    o.reserve = options->reserve;
    o.commit_step = options->commit_step;
    o.retain = options->retain;
    o.keep_recent = options->keep_recent != 0;
    o.large_pages = options->large_pages != 0;
    o.min_align = options->min_align;  // clamped like every option, never refused
    o.protect = options->protect != 0;
    o.commit_limit = options->commit_limit;
    o.name = options->name;
    o.debug_fill = options->debug_fill != 0;
    o.copy_on_write = options->copy_on_write != 0;
  }
  auto* created = new (std::nothrow) varena_arena{varena::Arena(o, std::nothrow)};
  if (created == nullptr || created->arena.reserved() == 0) {
    delete created;
    return VARENA_OUT_OF_MEMORY;
  }
  *out = created;
  return VARENA_OK;
}

varena_status varena_create_in(void* buffer, size_t bytes, const varena_options* options, varena_arena** out) {
  if (out == nullptr) return VARENA_BAD_ARGUMENT;
  *out = nullptr;
  if (buffer == nullptr) return VARENA_BAD_ARGUMENT;
  varena::Options o;
  if (options != nullptr) {
    o.min_align = options->min_align;
    o.name = options->name;
    o.debug_fill = options->debug_fill != 0;
  }
  auto* created = new (std::nothrow) varena_arena{varena::Arena(buffer, bytes, o)};
  if (created == nullptr) return VARENA_OUT_OF_MEMORY;
  *out = created;
  return VARENA_OK;
}

void varena_destroy(varena_arena* arena) { delete arena; }

void varena_set_commit_limit(varena_arena* arena, size_t bytes) {
  if (arena != nullptr) arena->arena.set_commit_limit(bytes);
}

void varena_set_scratch_protect(int on) { varena::set_scratch_protect(on != 0); }

varena_status varena_push(varena_arena* arena, size_t bytes, size_t align, void** out) {
  return push(arena, bytes, align, out, true);
}

varena_status varena_push_uninit(varena_arena* arena, size_t bytes, size_t align, void** out) {
  return push(arena, bytes, align, out, false);
}

void* varena_try_push(varena_arena* arena, size_t bytes, size_t align) {
  void* p = nullptr;
  return push(arena, bytes, align, &p, true) == VARENA_OK ? p : nullptr;
}

size_t varena_position(const varena_arena* arena) { return arena != nullptr ? cpp(arena)->position() : 0; }

varena_status varena_restore(varena_arena* arena, size_t position) {
  if (arena == nullptr) return VARENA_BAD_ARGUMENT;
  if (position > cpp(arena)->position()) return VARENA_BAD_POSITION;
  cpp(arena)->restore(position);
  return VARENA_OK;
}

void varena_pop(varena_arena* arena, size_t bytes) {
  if (arena != nullptr) cpp(arena)->pop(bytes);
}

void varena_reset(varena_arena* arena) {
  if (arena != nullptr) cpp(arena)->reset();
}

void varena_trim(varena_arena* arena) {
  if (arena != nullptr) cpp(arena)->trim();
}

varena_status varena_snapshot_take(varena_arena* arena, varena_snapshot** out) {
  if (out == nullptr) return VARENA_BAD_ARGUMENT;
  *out = nullptr;
  if (arena == nullptr) return VARENA_BAD_ARGUMENT;
  auto* taken = new (std::nothrow) varena_snapshot;
  if (taken == nullptr || !cpp(arena)->try_snapshot(taken->snapshot)) {
    delete taken;
    return VARENA_OUT_OF_MEMORY;
  }
  *out = taken;
  return VARENA_OK;
}

varena_status varena_rollback(varena_arena* arena, const varena_snapshot* snapshot) {
  if (arena == nullptr || snapshot == nullptr || !snapshot->snapshot.of(*cpp(arena))) return VARENA_BAD_ARGUMENT;
  return cpp(arena)->try_rollback(snapshot->snapshot) ? VARENA_OK : VARENA_OUT_OF_MEMORY;
}

size_t varena_snapshot_position(const varena_snapshot* snapshot) {
  return snapshot != nullptr ? snapshot->snapshot.position() : 0;
}

int varena_snapshot_copy_on_write(const varena_snapshot* snapshot) {
  return snapshot != nullptr && snapshot->snapshot.copy_on_write() ? 1 : 0;
}

void varena_snapshot_free(varena_snapshot* snapshot) { delete snapshot; }

void varena_get_stats(const varena_arena* arena, varena_stats* out) {
  if (out == nullptr) return;
  *out = varena_stats{};
  if (arena == nullptr) return;
  const varena::Arena& a = *cpp(arena);
  out->position = a.position();
  out->committed = a.committed();
  out->reserved = a.reserved();
  out->peak = a.peak();
  out->commits = a.stats().commits;
  out->decommits = a.stats().decommits;
}

}  // extern "C"

namespace {
// `options` (nullptr: the defaults) into `o`, as varena_create reads them.
void mapped_options(const varena_options* options, varena::Options& o) {
  if (options == nullptr) return;
  o.reserve = options->reserve;
  o.commit_step = options->commit_step;
  o.retain = options->retain;
  o.keep_recent = options->keep_recent != 0;
  o.min_align = options->min_align;
  o.protect = options->protect != 0;
  o.commit_limit = options->commit_limit;
}
}  // namespace

extern "C" {

varena_status varena_mapped_create(const char* path, const varena_options* options, void* address,
                                   varena_mapped** out) {
  if (out == nullptr) return VARENA_BAD_ARGUMENT;
  *out = nullptr;
  if (path == nullptr) return VARENA_BAD_ARGUMENT;
  varena::MappedOptions o;
  mapped_options(options, o);
  o.address = address;
  auto* created = new (std::nothrow) varena_mapped;
  if (created == nullptr) return VARENA_OUT_OF_MEMORY;
  if (!varena::MappedArena::try_create(path, created->mapped, o)) {
    delete created;
    return VARENA_FILE_ERROR;
  }
  *out = created;
  return VARENA_OK;
}

varena_status varena_mapped_open(const char* path, const varena_options* options, varena_mapped** out) {
  if (out == nullptr) return VARENA_BAD_ARGUMENT;
  *out = nullptr;
  if (path == nullptr) return VARENA_BAD_ARGUMENT;
  varena::Options o;
  mapped_options(options, o);
  auto* opened = new (std::nothrow) varena_mapped;
  if (opened == nullptr) return VARENA_OUT_OF_MEMORY;
  if (!varena::MappedArena::try_open(path, opened->mapped, o)) {
    delete opened;
    return VARENA_FILE_ERROR;
  }
  *out = opened;
  return VARENA_OK;
}

varena_arena* varena_mapped_arena(varena_mapped* mapped) {
  // C records no destructors, so the Arena inside may be handed out here.
  return mapped != nullptr ? c(&varena::detail::mapped_core(mapped->mapped)) : nullptr;
}

varena_status varena_mapped_sync(varena_mapped* mapped) {
  if (mapped == nullptr) return VARENA_BAD_ARGUMENT;
  return mapped->mapped.sync() ? VARENA_OK : VARENA_FILE_ERROR;
}

void varena_mapped_set_root(varena_mapped* mapped, const void* root) {
  if (mapped != nullptr) mapped->mapped.set_root(root);
}

void* varena_mapped_root(const varena_mapped* mapped) {
  return mapped != nullptr ? mapped->mapped.root<void>() : nullptr;
}

void varena_mapped_close(varena_mapped* mapped) { delete mapped; }

const char* varena_mapped_last_error(void) { return varena::MappedArena::last_error(); }

varena_status varena_scratch_begin(varena_arena* const* conflicts, size_t count, varena_scratch* out) {
  if (out == nullptr || (conflicts == nullptr && count != 0)) return VARENA_BAD_ARGUMENT;
  *out = varena_scratch{nullptr, 0};
  bool conflict = false;
  varena::Arena* a = varena::detail::scratch_arena_or_conflict(
      reinterpret_cast<const varena::Arena* const*>(conflicts), count, &conflict);
  if (a == nullptr) return conflict ? VARENA_SCRATCH_CONFLICT : VARENA_OUT_OF_MEMORY;
  *out = varena_scratch{c(a), a->position()};
  return VARENA_OK;
}

void varena_scratch_end(varena_scratch scratch) {
  if (scratch.arena != nullptr && scratch.position <= cpp(scratch.arena)->position())
    cpp(scratch.arena)->restore(scratch.position);
}

const char* varena_arena_name(const varena_arena* arena) { return arena != nullptr ? cpp(arena)->name() : ""; }

void varena_for_each_arena(void (*callback)(const varena_arena_info* info, void* context), void* context) {
  if (callback == nullptr) return;
  varena::for_each_arena([&](const varena::ArenaInfo& i) {
    const varena_arena_info info{i.name,     i.base, i.position, i.committed, i.reserved,
                                 i.peak,     i.commits, i.decommits};
    callback(&info, context);
  });
}

int varena_write_report(FILE* out) { return out != nullptr && varena::write_report(out) ? 1 : 0; }

void varena_set_hooks(const varena_hooks* hooks) {
  varena::Hooks h;
  if (hooks != nullptr) {
    h.context = const_cast<varena_hooks*>(hooks);
    if (hooks->reserve != nullptr) h.reserve = &reserve_hook;
    if (hooks->commit != nullptr) h.commit = &commit_hook;
    if (hooks->decommit != nullptr) h.decommit = &decommit_hook;
    if (hooks->release != nullptr) h.release = &release_hook;
    if (hooks->restore != nullptr) h.restore = &restore_hook;
  }
  varena::set_hooks(h);
}

const char* varena_status_message(varena_status status) {
  switch (status) {
    case VARENA_OK: return "ok";
    case VARENA_OUT_OF_MEMORY: return "out of memory: past the reservation, size overflow, or the OS refused";
    case VARENA_BAD_ALIGNMENT: return "alignment is not a power of two";
    case VARENA_BAD_POSITION: return "position is past the arena's current position";
    case VARENA_BAD_ARGUMENT: return "a required pointer was NULL";
    case VARENA_SCRATCH_CONFLICT: return "every scratch arena of this thread is in the conflict list";
    case VARENA_FILE_ERROR: return "a mapped arena's file could not be used (varena_mapped_last_error says why)";
  }
  return "unknown status";
}

}  // extern "C"
