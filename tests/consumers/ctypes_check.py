#!/usr/bin/env python3
"""Loads the installed libvarena.so from Python's ctypes and drives the C API:
create, an aligned zero-filled push, position, restore, destroy. What an FFI
user (Python, Rust, Go, Lua...) does first."""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
c_size = ctypes.c_size_t
OK = 0


class Options(ctypes.Structure):
    _fields_ = [("reserve", c_size), ("commit_step", c_size), ("retain", c_size), ("keep_recent", ctypes.c_int),
                ("large_pages", ctypes.c_int), ("min_align", c_size), ("protect", ctypes.c_int),
                ("commit_limit", c_size), ("name", ctypes.c_char_p), ("debug_fill", ctypes.c_int),
                ("copy_on_write", ctypes.c_int)]


class Stats(ctypes.Structure):
    _fields_ = [(name, c_size) for name in ("position", "committed", "reserved", "peak", "commits", "decommits")]


lib.varena_options_default.argtypes = [ctypes.POINTER(Options)]
lib.varena_create.argtypes = [ctypes.POINTER(Options), ctypes.POINTER(ctypes.c_void_p)]
lib.varena_create.restype = ctypes.c_int
lib.varena_push.argtypes = [ctypes.c_void_p, c_size, c_size, ctypes.POINTER(ctypes.c_void_p)]
lib.varena_push.restype = ctypes.c_int
lib.varena_position.argtypes = [ctypes.c_void_p]
lib.varena_position.restype = c_size
lib.varena_restore.argtypes = [ctypes.c_void_p, c_size]
lib.varena_restore.restype = ctypes.c_int
lib.varena_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(Stats)]
lib.varena_destroy.argtypes = [ctypes.c_void_p]
lib.varena_status_message.argtypes = [ctypes.c_int]
lib.varena_status_message.restype = ctypes.c_char_p


def check(ok, what):
    if not ok:
        print("ctypes: FAILED: " + what)
        sys.exit(1)


options = Options()
lib.varena_options_default(ctypes.byref(options))
options.reserve = 64 << 20
options.name = b"from python"
arena = ctypes.c_void_p()
check(lib.varena_create(ctypes.byref(options), ctypes.byref(arena)) == OK and arena.value, "create")

block = ctypes.c_void_p()
check(lib.varena_push(arena, 4096, 256, ctypes.byref(block)) == OK, "push")
check(block.value % 256 == 0, "alignment")
check(ctypes.string_at(block.value, 4096) == bytes(4096), "zero-filled")
ctypes.memset(block.value, 0x5A, 4096)
mark = lib.varena_position(arena)
check(mark >= 4096, "position")

check(lib.varena_push(arena, 1 << 20, 16, ctypes.byref(block)) == OK, "second push")
check(lib.varena_restore(arena, mark) == OK and lib.varena_position(arena) == mark, "restore")
check(lib.varena_restore(arena, mark + 16) == 3, "restore past the position is VARENA_BAD_POSITION")
check(lib.varena_status_message(3).startswith(b"position"), "status message")
check(lib.varena_push(arena, 1 << 40, 16, ctypes.byref(block)) == 1, "out of memory is a status")
check(lib.varena_push(arena, 8, 3, ctypes.byref(block)) == 2, "bad alignment is a status")

stats = Stats()
lib.varena_get_stats(arena, ctypes.byref(stats))
check(stats.position == mark and stats.committed >= mark and stats.reserved >= 64 << 20, "stats")
lib.varena_arena_name.argtypes = [ctypes.c_void_p]
lib.varena_arena_name.restype = ctypes.c_char_p
check(lib.varena_arena_name(arena) == b"from python", "name")
lib.varena_destroy(arena)
print("ctypes: ok")
