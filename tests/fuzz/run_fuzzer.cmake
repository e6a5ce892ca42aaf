# Runs one libFuzzer target for a bounded time on JOBS cores and checks how
# many inputs it executed.
# Inputs: FUZZER, SECONDS (default; the VARENA_FUZZ_SECONDS environment
# variable wins), JOBS, MIN_INPUTS (per 60 s, scaled to SECONDS), SEEDS (the
# committed corpus, only read), WORK (a directory in the build tree).
if(DEFINED ENV{VARENA_FUZZ_SECONDS} AND NOT "$ENV{VARENA_FUZZ_SECONDS}" STREQUAL "")
  set(SECONDS $ENV{VARENA_FUZZ_SECONDS})
endif()
if(NOT SECONDS)
  set(SECONDS 60)
endif()
if(NOT JOBS)
  set(JOBS 1)
endif()

# libFuzzer adds new inputs to (and reduces) its first corpus directory, so it
# works on a fresh copy of the committed seeds every run: the source tree
# stays clean, and every run fuzzes (and is counted) from the same start.
set(corpus ${WORK}/corpus)
set(logs ${WORK}/logs)
set(artifacts ${WORK}/artifacts)
file(REMOVE_RECURSE ${logs} ${corpus})
file(MAKE_DIRECTORY ${corpus} ${logs} ${artifacts})
file(GLOB seeds ${SEEDS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${corpus})
endif()

# -jobs runs JOBS fuzzing processes at once, sharing the corpus directory and
# picking up each other's new inputs; each writes its own log (fuzz-N.log).
# An input runs at most kMaxSteps operations, so longer ones only cost time.
string(TIMESTAMP start "%s")
execute_process(
  COMMAND ${FUZZER} -jobs=${JOBS} -workers=${JOBS} -max_total_time=${SECONDS} -max_len=256 -print_final_stats=1
    -timeout=30 -rss_limit_mb=4096 -detect_leaks=1 -artifact_prefix=${artifacts}/ ${corpus}
  WORKING_DIRECTORY ${logs}
  RESULT_VARIABLE rc)
string(TIMESTAMP end "%s")
math(EXPR wall "${end} - ${start}")

file(GLOB job_logs ${logs}/fuzz-*.log)
set(executed 0)
set(crashed "")
foreach(log ${job_logs})
  file(READ ${log} text)
  string(REGEX MATCH "stat::number_of_executed_units: ([0-9]+)" found "${text}")
  if(found)
    math(EXPR executed "${executed} + ${CMAKE_MATCH_1}")
  endif()
  if(text MATCHES "ERROR: |SUMMARY: |model mismatch|varena: ")
    list(APPEND crashed ${log})
  endif()
endforeach()

foreach(log ${crashed})
  file(READ ${log} text)
  message("---- ${log}\n${text}")
endforeach()
math(EXPR required "${MIN_INPUTS} * ${SECONDS} / 60")
message("${FUZZER}: ${executed} inputs executed by ${JOBS} jobs in ${wall} s (at least ${required} required)")
if(NOT rc EQUAL 0 OR crashed)
  file(GLOB found_inputs ${artifacts}/*)
  message(FATAL_ERROR "${FUZZER} failed (${rc}): see the report above; the failing input: ${found_inputs}")
endif()
if(executed LESS required)
  message(FATAL_ERROR "too few inputs: ${executed} < ${required}. The fuzzer got slower (or the machine is busy): "
    "keep the model's per-step checks incremental and the sizes small")
endif()
