# Warning flags for varena's own targets (never imposed on consumers).
function(varena_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${VARENA_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<BOOL:${VARENA_WERROR}>:-Werror>)
  endif()
endfunction()
