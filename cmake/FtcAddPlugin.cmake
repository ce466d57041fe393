#===- FtcAddPlugin.cmake - Build an ftc plugin shared library -------------===#
# ftc_add_plugin(<name> SOURCES ... [TESTING])
# Builds lib/ftc/plugins/ftc_<name>.so with hidden visibility; only the
# FTC_PLUGIN_EXPORT query symbol is visible. TESTING puts it in the
# testing-plugins directory, which the loader never scans by default.
function(ftc_add_plugin name)
  cmake_parse_arguments(ARG "TESTING" "" "SOURCES;LIBS" ${ARGN})
  set(target ftc_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "ftc_${name}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_TESTING)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${FTC_TESTING_PLUGIN_OUTPUT_DIR})
  else()
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${FTC_PLUGIN_OUTPUT_DIR})
  endif()
  target_include_directories(${target} PRIVATE ${FTC_PLUGIN_API_INCLUDE})
  target_compile_options(${target} PRIVATE -fexceptions)
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  if(ARG_LIBS)
    target_link_libraries(${target} PRIVATE ${ARG_LIBS})
  endif()
endfunction()
