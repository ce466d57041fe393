#===- FtcAddPlugin.cmake - Build an ftc plugin shared library -------------===#
# ftc_add_plugin(<name> SOURCES ... [TESTING] [NO_QUERY])
# Builds lib/ftc/plugins/ftc_<name>.so with hidden visibility; only the
# FTC_PLUGIN_EXPORT query symbol is visible. TESTING puts it in the
# testing-plugins directory, which the loader never scans by default.
set(FTC_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/ftc_plugin.map)

function(ftc_add_plugin name)
  cmake_parse_arguments(ARG "TESTING;NO_QUERY" "" "SOURCES;LIBS" ${ARGN})
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
  # Export ftc_plugin_query alone (docs/plugins.md; test/Plugin/exports.test).
  # NO_QUERY: a testing plugin that lacks the symbol on purpose.
  if(NOT ARG_NO_QUERY)
    target_link_options(${target} PRIVATE
      -Wl,--version-script=${FTC_PLUGIN_VERSION_SCRIPT})
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
      ${FTC_PLUGIN_VERSION_SCRIPT})
  endif()
  if(ARG_LIBS)
    target_link_libraries(${target} PRIVATE ${ARG_LIBS})
  endif()
endfunction()
