// varena: virtual-memory arenas. Include this for the whole library.
#pragma once

#include <varena/vm.hpp>
#include <varena/arena.hpp>
#include <varena/scratch.hpp>
#include <varena/pmr.hpp>
