# Runs one libFuzzer target for a bounded time from the seed corpus.
# Inputs: FUZZER, SECONDS (default; the VARENA_FUZZ_SECONDS environment
# variable wins), SEEDS (committed corpus, read only), WORK (new inputs).
if(DEFINED ENV{VARENA_FUZZ_SECONDS} AND NOT "$ENV{VARENA_FUZZ_SECONDS}" STREQUAL "")
  set(SECONDS $ENV{VARENA_FUZZ_SECONDS})
endif()
if(NOT SECONDS)
  set(SECONDS 60)
endif()
file(MAKE_DIRECTORY ${WORK})
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1 -timeout=30 -rss_limit_mb=4096
    -detect_leaks=1 ${WORK} ${SEEDS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}): see the report above; the input is saved as crash-*/leak-*")
endif()
