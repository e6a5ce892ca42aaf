# Installs lib/pkgconfig/varena.pc for builds that are not CMake (make, Meson,
# a C compiler on the command line). The prefix is found relative to the .pc
# file itself, so the tree works wherever `cmake --install --prefix` put it.
file(RELATIVE_PATH varena_pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
set(varena_pc_cflags "")
if(varena_type STREQUAL "SHARED_LIBRARY")
  string(APPEND varena_pc_cflags " -DVARENA_SHARED")
endif()
if(VARENA_FENCES)
  string(APPEND varena_pc_cflags " -DVARENA_FENCES=1")
endif()
if(VARENA_VALGRIND)
  string(APPEND varena_pc_cflags " -DVARENA_VALGRIND=1")
endif()
# The static library is C++ inside: a C program linking it statically also
# needs the C++ runtime, and threads for the scratch arenas' thread-exit hook.
if(WIN32)
  set(varena_pc_private "-lstdc++ -lpthread -ladvapi32")
else()
  set(varena_pc_private "-lstdc++ -lpthread")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/varena.pc.in ${CMAKE_CURRENT_BINARY_DIR}/varena.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/varena.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
