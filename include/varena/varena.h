/** @file
 * varena's C API (C99): virtual-memory arenas for C and any FFI.
 *
 * Implemented over the C++ core (src/c_api.cpp). Nothing here throws or
 * aborts: every error is a return value, and a failed call changes nothing.
 * Bad alignments and positions are errors here (VARENA_BAD_ALIGNMENT,
 * VARENA_BAD_POSITION), not the contract violations of the C++ API.
 * An arena is not synchronised; scratch arenas belong to the calling thread. */
#ifndef VARENA_VARENA_H
#define VARENA_VARENA_H

#include <stddef.h>
#include <stdio.h>

/* What a shared libvarena exports (see VARENA_API in detail/config.hpp). */
#if defined(VARENA_SHARED) && defined(_WIN32)
#if defined(VARENA_BUILDING)
#define VARENA_C_API __declspec(dllexport)
#else
#define VARENA_C_API __declspec(dllimport)
#endif
#elif defined(VARENA_SHARED) && defined(__GNUC__)
#define VARENA_C_API __attribute__((visibility("default")))
#else
#define VARENA_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct varena_arena varena_arena; /**< an arena (opaque) */

/** What a call that can fail returns. */
typedef enum varena_status {
  VARENA_OK = 0,             /**< success */
  VARENA_OUT_OF_MEMORY = 1,  /**< past the reservation, size overflow, or the OS refused */
  VARENA_BAD_ALIGNMENT = 2,  /**< not a power of two */
  VARENA_BAD_POSITION = 3,   /**< restore past the current position */
  VARENA_BAD_ARGUMENT = 4,   /**< a required pointer was NULL */
  VARENA_SCRATCH_CONFLICT = 5, /**< every scratch arena of the thread is a conflict */
  VARENA_FILE_ERROR = 6        /**< a mapped arena's file: varena_mapped_last_error() says why */
} varena_status;

/** Fill with varena_options_default first. Out-of-range values are clamped as
 * the C++ Options document, never refused. */
typedef struct varena_options {
  size_t reserve;     /**< 0: 64 GiB on 64-bit targets, halved on refusal */
  size_t commit_step; /**< the smallest commit: a power of two from a page to 1 GiB */
  size_t retain;      /**< bytes kept committed past the position after restore */
  int keep_recent;    /**< non-zero: also keep what the last two excursions above the position used */
  int large_pages;    /**< non-zero: best-effort large pages */
  size_t min_align;   /**< pushes are rounded up to a multiple of this (a power of two, 1..4096) */
  int protect;        /**< non-zero: pages past the position are made inaccessible on restore (C++ Options::protect) */
  size_t commit_limit; /**< the most that may be committed (0: no budget); a push past it fails */
  const char* name;    /**< shown in reports and hooks; its first 31 bytes are copied (NULL: none) */
  int debug_fill;      /**< non-zero: in a library built with checks, uninitialised pushes read 0xCD and restores leave 0xDD */
  int copy_on_write;   /**< non-zero: Linux, snapshots share pages copy-on-write (C++ Options::copy_on_write) */
} varena_options;

/** What varena_get_stats reports: the C++ Arena's observers and stats(). */
typedef struct varena_stats {
  /** As the C++ Arena's observers of these names. @{ */
  size_t position, committed, reserved, peak;
  /** @} */
  /** OS calls made. @{ */
  size_t commits, decommits;
  /** @} */
} varena_stats;

/** A scope on one of the thread's scratch arenas; end it with varena_scratch_end. */
typedef struct varena_scratch {
  varena_arena* arena; /**< the scratch arena */
  size_t position;     /**< its position when the scope began */
} varena_scratch;

/** One live arena, as varena_for_each_arena reports it (C++: varena::ArenaInfo). */
typedef struct varena_arena_info {
  const char* name; /**< "" for none; valid during the callback only */
  const void* base; /**< where position 0 lives */
  /** As varena_stats. @{ */
  size_t position, committed, reserved, peak, commits, decommits;
  /** @} */
} varena_arena_info;

/** Process-wide callbacks (C++: varena::Hooks); NULL ones are not called.
 * `arena` is the arena concerned (any arena, not only those made through the
 * C API: use it with varena_position, varena_arena_name, varena_get_stats only). */
typedef struct varena_hooks {
  void* context; /**< passed to every callback */
  /** [address, address + bytes) was reserved / committed / decommitted / is about to be released. @{ */
  void (*reserve)(void* context, const varena_arena* arena, void* address, size_t bytes);
  void (*commit)(void* context, const varena_arena* arena, void* address, size_t bytes);
  void (*decommit)(void* context, const varena_arena* arena, void* address, size_t bytes);
  void (*release)(void* context, const varena_arena* arena, void* address, size_t bytes);
  /** @} */
  /** The position went down from `from` to `to`. */
  void (*restore)(void* context, const varena_arena* arena, size_t from, size_t to);
} varena_hooks;

/** The defaults of the C++ API. */
VARENA_C_API void varena_options_default(varena_options* options);

/** A new arena (options may be NULL for the defaults); *out is NULL on failure. */
VARENA_C_API varena_status varena_create(const varena_options* options, varena_arena** out);
/** Releases the arena and its memory. NULL is ignored. */
VARENA_C_API void varena_destroy(varena_arena* arena);
/** Sets the commit budget (0: none), as the C++ Arena::set_commit_limit. */
VARENA_C_API void varena_set_commit_limit(varena_arena* arena, size_t bytes);
/** An arena over the caller's memory [buffer, buffer + bytes) (C++: Arena(buffer, bytes)): no OS
 * call ever, the buffer never freed by the arena; only `min_align` of `options` (may be NULL)
 * applies. The handle itself is allocated with operator new. VARENA_BAD_ARGUMENT for a NULL
 * buffer or out. */
VARENA_C_API varena_status varena_create_in(void* buffer, size_t bytes, const varena_options* options,
                                            varena_arena** out);

/** Memory of `bytes` aligned to `align` (a power of two), zero-filled. */
VARENA_C_API varena_status varena_push(varena_arena* arena, size_t bytes, size_t align, void** out);
/** The same, contents unspecified. */
VARENA_C_API varena_status varena_push_uninit(varena_arena* arena, size_t bytes, size_t align, void** out);
/** Zero-filled memory, or NULL on any failure. */
VARENA_C_API void* varena_try_push(varena_arena* arena, size_t bytes, size_t align);

/** Bytes in use from the arena's base (0 for a NULL arena). */
VARENA_C_API size_t varena_position(const varena_arena* arena);
/** Back to an earlier position; VARENA_BAD_POSITION (nothing changes) past it. */
VARENA_C_API varena_status varena_restore(varena_arena* arena, size_t position);
/** restore(position - bytes), stopping at 0. */
VARENA_C_API void varena_pop(varena_arena* arena, size_t bytes);
/** Back to position 0. */
VARENA_C_API void varena_reset(varena_arena* arena);
/** Decommits everything committed past the position. */
VARENA_C_API void varena_trim(varena_arena* arena);
/** Fills *out (all zero for a NULL arena). */
VARENA_C_API void varena_get_stats(const varena_arena* arena, varena_stats* out);

/** A mapped arena (C++ MappedArena): an arena whose memory is a file, opened
 * again at the address it was created at, so pointers stored inside stay
 * valid. Push, restore, position and stats through varena_mapped_arena();
 * never varena_destroy that arena: varena_mapped_close closes both. */
typedef struct varena_mapped varena_mapped;

/** Creates the file at `path` (replacing any file there) and maps it at
 * `address` (NULL: where the OS chooses; else a multiple of the allocation
 * granularity, and a range in use fails). `options` may be NULL. *out is NULL
 * on failure: VARENA_FILE_ERROR (varena_mapped_last_error() says why),
 * VARENA_BAD_ARGUMENT for a NULL path or out. */
VARENA_C_API varena_status varena_mapped_create(const char* path, const varena_options* options, void* address,
                                                varena_mapped** out);
/** Opens a mapped arena's file at the address it was created at, with the
 * position and root of its last sync (or close); `options` (may be NULL) as
 * for varena_create but reserve, which is the file's. A corrupt, truncated
 * or foreign file, or an address range in use, is VARENA_FILE_ERROR. */
VARENA_C_API varena_status varena_mapped_open(const char* path, const varena_options* options, varena_mapped** out);
/** The arena, for varena_push, varena_restore, varena_get_stats...; NULL for NULL. */
VARENA_C_API varena_arena* varena_mapped_arena(varena_mapped* mapped);
/** Writes what is in use and the header to the disk and waits; VARENA_FILE_ERROR if refused. */
VARENA_C_API varena_status varena_mapped_sync(varena_mapped* mapped);
/** Records the root (a pointer into the arena, or NULL), written by the next sync or close. */
VARENA_C_API void varena_mapped_set_root(varena_mapped* mapped, const void* root);
/** The root as last set or opened (NULL: none). */
VARENA_C_API void* varena_mapped_root(const varena_mapped* mapped);
/** Records the header (position, committed size, root; no flush) and unmaps. NULL is ignored. */
VARENA_C_API void varena_mapped_close(varena_mapped* mapped);
/** Why this thread's last varena_mapped_* call that returned VARENA_FILE_ERROR failed. */
VARENA_C_API const char* varena_mapped_last_error(void);

/** A snapshot (C++ varena::Snapshot): an arena's position and the bytes below
 * it, for varena_rollback. Not synchronised, like its arena. */
typedef struct varena_snapshot varena_snapshot;

/** Records the arena's position and the bytes below it in *out, freed with
 * varena_snapshot_free. VARENA_OUT_OF_MEMORY (*out NULL) if the copy cannot
 * be had; copy-on-write where the arena was created with copy_on_write. */
VARENA_C_API varena_status varena_snapshot_take(varena_arena* arena, varena_snapshot** out);
/** Returns the arena to the snapshot's position and bytes; the snapshot stays
 * valid. VARENA_BAD_ARGUMENT: NULL, or a snapshot of another arena;
 * VARENA_OUT_OF_MEMORY: the memory could not be committed (nothing changed),
 * or the OS refused to put the bytes back (C++ Arena::try_rollback). */
VARENA_C_API varena_status varena_rollback(varena_arena* arena, const varena_snapshot* snapshot);
/** The arena's position when the snapshot was taken (0 for NULL). */
VARENA_C_API size_t varena_snapshot_position(const varena_snapshot* snapshot);
/** Non-zero if the snapshot shares its arena's pages copy-on-write; 0 if it is a copy. */
VARENA_C_API int varena_snapshot_copy_on_write(const varena_snapshot* snapshot);
/** Gives back what the snapshot holds; it may outlive its arena. NULL is ignored. */
VARENA_C_API void varena_snapshot_free(varena_snapshot* snapshot);

/** Non-zero: scratch arenas reserved from now on (each thread's, on first use)
 * make the pages past their position inaccessible on restore. Process-wide. */
VARENA_C_API void varena_set_scratch_protect(int on);

/** Begins a scratch scope on the first of the thread's scratch arenas that is
 * not among the `count` conflicts (NULL entries are ignored). */
VARENA_C_API varena_status varena_scratch_begin(varena_arena* const* conflicts, size_t count, varena_scratch* out);
/** Restores the scratch arena to where the scope began. */
VARENA_C_API void varena_scratch_end(varena_scratch scratch);

/** The arena's name ("" for none or a NULL arena). */
VARENA_C_API const char* varena_arena_name(const varena_arena* arena);
/** Calls `callback` for every live arena of the process (C++: varena::for_each_arena);
 * the callback must not create or destroy arenas. */
VARENA_C_API void varena_for_each_arena(void (*callback)(const varena_arena_info* info, void* context),
                                        void* context);
/** Prints a line per live arena and a total (C++: varena::write_report); 0 if writing failed. */
VARENA_C_API int varena_write_report(FILE* out);
/** Installs `hooks` (NULL: none) for every arena. The struct is not copied: it
 * must stay valid and unchanged until replaced. */
VARENA_C_API void varena_set_hooks(const varena_hooks* hooks);

/** A short English description of a status. */
VARENA_C_API const char* varena_status_message(varena_status status);

#ifdef __cplusplus
}
#endif

#endif /* VARENA_VARENA_H */
