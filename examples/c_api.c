/* The C API: an arena and a scratch scope from C99. */
#include <varena/varena.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  varena_arena* arena = NULL;
  varena_scratch scratch;
  char* text = NULL;
  void* temp = NULL;
  varena_status status = varena_create(NULL, &arena);
  if (status != VARENA_OK) {
    fprintf(stderr, "varena_create: %s\n", varena_status_message(status));
    return 1;
  }
  if (varena_push(arena, 64, 1, (void**)&text) != VARENA_OK) return 1;
  strcpy(text, "hello from C");

  if (varena_scratch_begin(&arena, 1, &scratch) != VARENA_OK) return 1; /* never `arena` itself */
  if (varena_push(scratch.arena, 1 << 20, 16, &temp) != VARENA_OK) return 1;
  varena_scratch_end(scratch);

  status = varena_push(arena, 8, 3, &temp); /* an error is a status, never an abort */
  printf("%s; a bad alignment says: %s\n", text, varena_status_message(status));
  varena_destroy(arena);
  return status == VARENA_BAD_ALIGNMENT ? 0 : 1;
}
