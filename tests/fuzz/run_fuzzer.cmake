# Runs one libFuzzer target on JOBS cores and checks what it did.
# Inputs: FUZZER, INPUTS (executed in all, split over the jobs), SECONDS and
# TIME_CAP (the run must finish within SECONDS * TIME_CAP), JOBS, SEEDS (the
# committed corpus, only read), WORK (a directory in the build tree).
# With the environment variable VARENA_FUZZ_SECONDS set, fuzzes for that long
# instead and requires INPUTS per 60 s.
if(NOT JOBS)
  set(JOBS 1)
endif()
if(NOT SECONDS)
  set(SECONDS 60)
endif()
if(DEFINED ENV{VARENA_FUZZ_SECONDS} AND NOT "$ENV{VARENA_FUZZ_SECONDS}" STREQUAL "")
  set(SECONDS $ENV{VARENA_FUZZ_SECONDS})
  set(limit -max_total_time=${SECONDS})
  math(EXPR required "${INPUTS} * ${SECONDS} / 60")
else()
  # -runs counts per job; the time cap turns a run that got slow into a failure.
  math(EXPR per_job "(${INPUTS} + ${JOBS} - 1) / ${JOBS}")
  math(EXPR cap "${SECONDS} * ${TIME_CAP}")
  set(limit -runs=${per_job} -max_total_time=${cap})
  math(EXPR required "${per_job} * ${JOBS}")
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
  COMMAND ${FUZZER} -jobs=${JOBS} -workers=${JOBS} ${limit} -max_len=256 -print_final_stats=1
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
if(wall GREATER 0)
  math(EXPR rate "${executed} / ${wall}")
else()
  set(rate ${executed})
endif()
message("${FUZZER}: ${executed} inputs executed by ${JOBS} jobs in ${wall} s (${rate} a second; ${required} required)")
if(NOT rc EQUAL 0 OR crashed)
  file(GLOB found_inputs ${artifacts}/*)
  message(FATAL_ERROR "${FUZZER} failed (${rc}): see the report above; the failing input: ${found_inputs}")
endif()
if(executed LESS required)
  message(FATAL_ERROR "too few inputs: ${executed} < ${required} in ${wall} s. The fuzzer got slower (or the machine "
    "is busy): keep the model's per-step checks incremental and the pages each input touches few")
endif()
