# th_embed_lua(TARGET <lib> NAMESPACE <ns> PRELUDES <files...> SCRIPTS <files...>)
#
# Embeds Lua scripts into a static library at build time. Each script
# `foo_bar.lua` becomes `const townhall::LuaScript k<FooBar>` in
# `<ns>`, declared in the generated header `<lib>.h`. The PRELUDES (shared
# helpers such as the change feed) are prepended to every script, so scripts
# stay self-contained for EVALSHA.
function(th_embed_lua)
  cmake_parse_arguments(ARG "" "TARGET;NAMESPACE" "PRELUDES;SCRIPTS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/lua_gen)
  set(header ${out_dir}/${ARG_TARGET}.h)
  set(source ${out_dir}/${ARG_TARGET}.cc)
  set(abs_scripts "")
  foreach(script ${ARG_SCRIPTS})
    list(APPEND abs_scripts ${CMAKE_CURRENT_SOURCE_DIR}/${script})
  endforeach()
  # Lists travel as "|"-separated strings: ";" would split the command line.
  string(REPLACE ";" "|" preludes_arg "${ARG_PRELUDES}")
  string(REPLACE ";" "|" scripts_arg "${abs_scripts}")
  add_custom_command(
    OUTPUT ${header} ${source}
    COMMAND ${CMAKE_COMMAND}
      -DOUT_HEADER=${header} -DOUT_SOURCE=${source}
      -DNAMESPACE=${ARG_NAMESPACE} "-DPRELUDES=${preludes_arg}"
      "-DSCRIPTS=${scripts_arg}"
      -P ${PROJECT_SOURCE_DIR}/cmake/EmbedLua.cmake
    DEPENDS ${abs_scripts} ${ARG_PRELUDES} ${PROJECT_SOURCE_DIR}/cmake/EmbedLua.cmake
    COMMENT "Embedding Lua scripts for ${ARG_TARGET}"
    VERBATIM)
  add_library(${ARG_TARGET} STATIC ${source})
  target_include_directories(${ARG_TARGET} PUBLIC ${out_dir})
  target_link_libraries(${ARG_TARGET} PUBLIC townhall_lua_script)
endfunction()
