/* The C API, compiled as C99: every call, every error status. */
#include <varena/varena.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                \
    }                                                            \
  } while (0)

/* What the C hooks saw. */
struct seen {
  int commits, restores, releases;
  size_t restored_to;
  const varena_arena* arena;
};
static void on_commit(void* context, const varena_arena* arena, void* address, size_t bytes) {
  struct seen* s = (struct seen*)context;
  (void)address;
  (void)bytes;
  if (arena == s->arena) ++s->commits;
}
static void on_restore(void* context, const varena_arena* arena, size_t from, size_t to) {
  struct seen* s = (struct seen*)context;
  (void)from;
  if (arena == s->arena) ++s->restores, s->restored_to = to;
}
static void on_release(void* context, const varena_arena* arena, void* address, size_t bytes) {
  struct seen* s = (struct seen*)context;
  (void)address;
  (void)bytes;
  if (arena == s->arena) ++s->releases;
}
static void count_named(const varena_arena_info* info, void* context) {
  if (strcmp(info->name, "c arena") == 0 && info->committed >= info->position) ++*(int*)context;
}

static int all_zero(const unsigned char* p, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (p[i] != 0) return 0;
  return 1;
}

/* Snapshots: a rollback puts back position and bytes, for a copy-on-write
 * arena and a plain one; another arena's snapshot is refused. */
static void check_snapshots(int copy_on_write) {
  varena_options options;
  varena_arena* arena = NULL;
  varena_arena* other = NULL;
  varena_snapshot* snapshot = NULL;
  unsigned char* p = NULL;
  size_t i, position;
  varena_options_default(&options);
  CHECK(options.copy_on_write == 0);
  options.copy_on_write = copy_on_write;
  options.reserve = (size_t)64 << 20;
  CHECK(varena_create(&options, &arena) == VARENA_OK);
  CHECK(varena_create(NULL, &other) == VARENA_OK);
  if (arena == NULL || other == NULL) return;
  CHECK(varena_push_uninit(arena, 10000, 16, (void**)&p) == VARENA_OK);
  if (p == NULL) return;
  for (i = 0; i < 10000; ++i) p[i] = (unsigned char)i;
  position = varena_position(arena);
  CHECK(varena_snapshot_take(arena, &snapshot) == VARENA_OK && snapshot != NULL);
  CHECK(varena_snapshot_position(snapshot) == position);
  memset(p, 0xEE, 10000);
  CHECK(varena_try_push(arena, 5000, 16) != NULL);
  CHECK(varena_rollback(arena, snapshot) == VARENA_OK);
  CHECK(varena_position(arena) == position);
  for (i = 0; i < 10000; ++i)
    if (p[i] != (unsigned char)i) break;
  CHECK(i == 10000);
  CHECK(varena_rollback(other, snapshot) == VARENA_BAD_ARGUMENT);
  CHECK(varena_rollback(arena, NULL) == VARENA_BAD_ARGUMENT);
  CHECK(varena_rollback(NULL, snapshot) == VARENA_BAD_ARGUMENT);
  varena_snapshot_free(snapshot);
  CHECK(varena_snapshot_take(NULL, &snapshot) == VARENA_BAD_ARGUMENT && snapshot == NULL);
  CHECK(varena_snapshot_take(arena, &snapshot) == VARENA_OK);
  CHECK(varena_snapshot_copy_on_write(NULL) == 0 && varena_snapshot_position(NULL) == 0);
  varena_destroy(arena);
  varena_snapshot_free(snapshot); /* may outlive its arena */
  varena_snapshot_free(NULL);
  varena_destroy(other);
}

/* A mapped arena: a list in a file, closed and opened again. */
static void check_mapped(void) {
  const char* path = "c_api_test_mapped.arena";
  varena_mapped* m = NULL;
  varena_mapped* again = NULL;
  struct node {
    struct node* next;
    int value;
  }* head = NULL;
  int i;
  varena_options mo;
  /* A fixed address far from the heap, which may take one the OS chose once it is free. */
  void* at = sizeof(void*) == 8 ? (void*)(uintptr_t)0x510000000000ull : NULL;
  varena_options_default(&mo);
  mo.reserve = 16 << 20;
  {
    /* qemu-user cannot map a shared file past its end when it emulates pages
     * larger than the host's (EINVAL): no mapped arena can be made there. */
    const char* emulated_page = getenv("QEMU_PAGESIZE");
    if (emulated_page != NULL && atol(emulated_page) > 4096) {
      printf("c_api_test: mapped arenas skipped (qemu-user with %s-byte pages)\n", emulated_page);
      return;
    }
  }
  CHECK(varena_mapped_create(path, &mo, at, &m) == VARENA_OK && m != NULL);
  if (m == NULL) return;
  for (i = 0; i < 100; ++i) {
    struct node* n = NULL;
    CHECK(varena_push(varena_mapped_arena(m), sizeof *n, 8, (void**)&n) == VARENA_OK);
    n->next = head;
    n->value = i;
    head = n;
  }
  varena_mapped_set_root(m, head);
  CHECK(varena_mapped_root(m) == head);
  CHECK(varena_mapped_sync(m) == VARENA_OK);
  CHECK(varena_mapped_open(path, NULL, &again) == VARENA_FILE_ERROR && again == NULL); /* its range is in use */
  CHECK(strstr(varena_mapped_last_error(), "already in use") != NULL);
  varena_mapped_close(m);
  CHECK(varena_mapped_open(path, NULL, &m) == VARENA_OK);
  head = (struct node*)varena_mapped_root(m);
  for (i = 99; i >= 0 && head != NULL; --i, head = head->next) CHECK(head->value == i);
  CHECK(i == -1 && head == NULL);
  varena_mapped_close(m);
  varena_mapped_close(NULL);
  CHECK(varena_mapped_open("no such file.arena", NULL, &m) == VARENA_FILE_ERROR && m == NULL);
  CHECK(strstr(varena_mapped_last_error(), "cannot open") != NULL);
  CHECK(varena_mapped_create(NULL, NULL, NULL, &m) == VARENA_BAD_ARGUMENT);
  CHECK(varena_mapped_sync(NULL) == VARENA_BAD_ARGUMENT);
  CHECK(varena_mapped_arena(NULL) == NULL && varena_mapped_root(NULL) == NULL);
  CHECK(strlen(varena_status_message(VARENA_FILE_ERROR)) > 10);
  remove(path);
}

int main(void) {
  varena_options options;
  varena_arena* arena = NULL;
  varena_arena* small = NULL;
  varena_stats stats;
  varena_scratch s1, s2, s3;
  void* p = NULL;
  size_t mark;

  varena_options_default(&options);
  CHECK(options.reserve == 0 && options.commit_step == 64 * 1024 && options.keep_recent == 1);
  check_snapshots(1);
  check_snapshots(0);
  CHECK(varena_create(NULL, &arena) == VARENA_OK && arena != NULL);

  CHECK(varena_push(arena, 100, 16, &p) == VARENA_OK && p != NULL);
  CHECK(((uintptr_t)p % 16) == 0 && all_zero((const unsigned char*)p, 100));
  memset(p, 0xAB, 100);
  CHECK(varena_position(arena) >= 100);
  mark = varena_position(arena);
  CHECK(varena_push_uninit(arena, 1000, 4096, &p) == VARENA_OK && ((uintptr_t)p % 4096) == 0);
  CHECK(varena_try_push(arena, 10, 1) != NULL);

  /* Errors: nothing changes. */
  {
    const size_t before = varena_position(arena);
    CHECK(varena_push(arena, 8, 3, &p) == VARENA_BAD_ALIGNMENT && p == NULL);
    CHECK(varena_push(arena, 8, 0, &p) == VARENA_BAD_ALIGNMENT);
    CHECK(varena_push(arena, SIZE_MAX, 16, &p) == VARENA_OUT_OF_MEMORY && p == NULL);
    CHECK(varena_push_uninit(arena, SIZE_MAX - 5, 8, &p) == VARENA_OUT_OF_MEMORY);
    CHECK(varena_try_push(arena, SIZE_MAX, 1) == NULL);
    CHECK(varena_try_push(arena, 8, 12) == NULL);
    CHECK(varena_push(NULL, 8, 8, &p) == VARENA_BAD_ARGUMENT);
    CHECK(varena_push(arena, 8, 8, NULL) == VARENA_BAD_ARGUMENT);
    CHECK(varena_restore(arena, before + 1) == VARENA_BAD_POSITION);
    CHECK(varena_restore(NULL, 0) == VARENA_BAD_ARGUMENT);
    CHECK(varena_position(arena) == before);
  }

  CHECK(varena_restore(arena, mark) == VARENA_OK && varena_position(arena) == mark);
  varena_pop(arena, 50); /* takes back 50 rounded up to the minimum alignment, as a push of 50 took */
  CHECK(varena_position(arena) == mark - 64);
  varena_pop(arena, SIZE_MAX);
  CHECK(varena_position(arena) == 0);
  CHECK(varena_push(arena, 100, 16, &p) == VARENA_OK && all_zero((const unsigned char*)p, 100)); /* reused: zeroed */
  varena_reset(arena);
  varena_trim(arena);
  varena_get_stats(arena, &stats);
  CHECK(stats.position == 0 && stats.committed == 0 && stats.peak >= 1100 && stats.reserved > 0);
  CHECK(stats.commits >= 1 && stats.decommits >= 1);
  varena_get_stats(NULL, &stats);
  CHECK(stats.reserved == 0);

  /* An explicit size, and one the OS cannot give. */
  options.reserve = 1 << 20;
  CHECK(varena_create(&options, &small) == VARENA_OK);
  CHECK(varena_push(small, (1 << 20) + 1, 1, &p) == VARENA_OUT_OF_MEMORY);
#if !defined(VARENA_FENCES) || !VARENA_FENCES /* with debug fences, a fence takes room too */
  CHECK(varena_push(small, 1 << 20, 1, &p) == VARENA_OK);
#endif
  varena_destroy(small);

  /* Options out of range are clamped, never a failure and never a broken
   * arena: a commit step of SIZE_MAX once committed nothing at all. */
  options.reserve = 16 << 20;
  options.commit_step = SIZE_MAX;
  options.min_align = 3; /* becomes 4 */
  CHECK(varena_create(&options, &small) == VARENA_OK);
  CHECK(varena_push(small, 100000, 1, &p) == VARENA_OK && all_zero((const unsigned char*)p, 100000));
  memset(p, 1, 100000); /* committed, or this faults */
  CHECK(varena_push(small, 5, 1, &p) == VARENA_OK && ((size_t)p & 3) == 0);
  varena_get_stats(small, &stats);
  CHECK(stats.committed >= stats.position && stats.position % 4 == 0);
  varena_destroy(small);
  varena_options_default(&options);
  options.reserve = SIZE_MAX;
  small = (varena_arena*)1;
  CHECK(varena_create(&options, &small) == VARENA_OUT_OF_MEMORY && small == NULL);
  CHECK(varena_create(NULL, NULL) == VARENA_BAD_ARGUMENT);
  varena_destroy(NULL);
  check_mapped();

  /* Scratch with conflicts. */
  CHECK(varena_scratch_begin(NULL, 0, &s1) == VARENA_OK && s1.arena != NULL);
  CHECK(varena_push(s1.arena, 64, 8, &p) == VARENA_OK);
  CHECK(varena_scratch_begin(&s1.arena, 1, &s2) == VARENA_OK && s2.arena != s1.arena);
  {
    varena_arena* both[2];
    both[0] = s1.arena;
    both[1] = s2.arena;
    CHECK(varena_scratch_begin(both, 2, &s3) == VARENA_SCRATCH_CONFLICT && s3.arena == NULL);
    both[1] = arena;
    CHECK(varena_scratch_begin(both, 2, &s3) == VARENA_OK && s3.arena == s2.arena);
    varena_scratch_end(s3);
  }
  varena_scratch_end(s2);
  varena_scratch_end(s1);
  CHECK(varena_position(s1.arena) == s1.position);
  CHECK(varena_scratch_begin(NULL, 1, &s1) == VARENA_BAD_ARGUMENT);

  /* Names, the registry and hooks. */
  {
    struct seen seen;
    varena_hooks hooks;
    varena_arena* named = NULL;
    int listed = 0;
    FILE* sink;
    memset(&seen, 0, sizeof seen);
    memset(&hooks, 0, sizeof hooks);
    hooks.context = &seen;
    hooks.commit = &on_commit;
    hooks.restore = &on_restore;
    hooks.release = &on_release;
    varena_options_default(&options);
    CHECK(options.name == NULL && options.debug_fill == 1);
    options.name = "c arena";
    options.reserve = 1 << 24;
    CHECK(varena_create(&options, &named) == VARENA_OK);
    CHECK(strcmp(varena_arena_name(named), "c arena") == 0 && strcmp(varena_arena_name(NULL), "") == 0);
    varena_set_hooks(&hooks);
    seen.arena = named;
    CHECK(varena_push(named, 5000, 16, &p) == VARENA_OK);
    varena_reset(named);
    CHECK(seen.commits == 1 && seen.restores == 1 && seen.restored_to == 0);
    varena_for_each_arena(&count_named, &listed);
    CHECK(listed == 1);
    sink = tmpfile();
    if (sink != NULL) {
      CHECK(varena_write_report(sink) == 1);
      fclose(sink);
    }
    CHECK(varena_write_report(NULL) == 0);
    varena_destroy(named);
    CHECK(seen.releases == 1);
    varena_set_hooks(NULL);
    listed = 0;
    varena_for_each_arena(&count_named, &listed);
    CHECK(listed == 0);
  }

  CHECK(strcmp(varena_status_message(VARENA_OK), "ok") == 0);
  CHECK(strlen(varena_status_message(VARENA_SCRATCH_CONFLICT)) > 10);

  varena_destroy(arena);
  printf("c_api_test: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
