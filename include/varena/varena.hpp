/// @file
/// varena: virtual-memory arenas. Include this for the whole C++ library
/// (`<varena/varena.h>` is the C API).
#pragma once

#include <varena/vm.hpp>
#include <varena/arena.hpp>
#include <varena/snapshot.hpp>
#include <varena/scratch.hpp>
#include <varena/pmr.hpp>
#include <varena/pool.hpp>
#include <varena/frame.hpp>
#include <varena/vector.hpp>
#include <varena/mapped.hpp>
#include <varena/concurrent.hpp>
#include <varena/hooks.hpp>
#include <varena/registry.hpp>
