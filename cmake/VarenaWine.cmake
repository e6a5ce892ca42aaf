# Running Windows test executables under wine from CTest without hangs:
# - the prefix ($WINEPREFIX, set by the preset) is made ready at configure
#   time, before any build-time test discovery needs it;
# - one persistent wineserver, started with its output detached, serves every
#   test: otherwise each wine process starts its own server and services,
#   which inherit CTest's output pipe and hold every test for seconds (or
#   forever).
# CTest fixtures bring wine up before the first test and down after the last.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR MATCHES "wine")
  return()
endif()
if(NOT DEFINED ENV{WINEPREFIX})
  message(FATAL_ERROR "Set WINEPREFIX (the test-windows preset does) so wine keeps its state in the build folder")
endif()
find_program(VARENA_WINESERVER NAMES wineserver REQUIRED)
# Server first, then wineboot, both with their output detached: the services
# wineboot starts (services.exe, winedevice.exe) then live on the persistent
# server with /dev/null for output instead of inheriting a pipe someone waits on.
set(varena_wine_up sh -c
  "\"${VARENA_WINESERVER}\" -p </dev/null >/dev/null 2>&1 || true && ${CMAKE_CROSSCOMPILING_EMULATOR} wineboot </dev/null >/dev/null 2>&1")
execute_process(COMMAND ${varena_wine_up} TIMEOUT 180)

add_test(NAME wine_up COMMAND ${varena_wine_up})
add_test(NAME wine_down COMMAND ${VARENA_WINESERVER} -k)
set_tests_properties(wine_up PROPERTIES FIXTURES_SETUP wine)
set_tests_properties(wine_down PROPERTIES FIXTURES_CLEANUP wine)
set(VARENA_TEST_FIXTURES wine)
