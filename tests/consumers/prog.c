/* A C program built with nothing but pkg-config:
 *   cc prog.c $(pkg-config --cflags --libs --static varena) */
#include <varena/varena.h>

#include <stdio.h>

int main(void) {
  varena_arena* arena = NULL;
  void* p = NULL;
  size_t mark;
  if (varena_create(NULL, &arena) != VARENA_OK) return 1;
  if (varena_push(arena, 100, 64, &p) != VARENA_OK || ((size_t)p & 63) != 0 || ((unsigned char*)p)[99] != 0) return 2;
  mark = varena_position(arena);
  if (varena_push_uninit(arena, 1 << 20, 16, &p) != VARENA_OK) return 3;
  if (varena_restore(arena, mark) != VARENA_OK || varena_position(arena) != mark) return 4;
  varena_destroy(arena);
  puts("C consumer: ok");
  return 0;
}
