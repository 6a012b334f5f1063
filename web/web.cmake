# SPDX-License-Identifier: MIT
# The playground (make web): web/playground.c linked with libcgrad into
# playground.js + playground.wasm, next to the page's static files, all in
# CG_WEB_OUT. Included by CMakeLists.txt in an emscripten build only.
set(CG_WEB_OUT "${CMAKE_CURRENT_BINARY_DIR}/web" CACHE PATH "Where the playground's files go")
add_executable(playground ${CMAKE_CURRENT_SOURCE_DIR}/web/playground.c)
target_link_libraries(playground PRIVATE cgrad m)
set_target_properties(playground PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CG_WEB_OUT} SUFFIX ".js")
set(CG_WEB_EXPORTS
  _pg_error _pg_set_data _pg_init _pg_set_lr _pg_train _pg_evaluate _pg_predict _pg_hidden
  _pg_save _pg_export_c _pg_set_optimizer _pg_set_schedule _pg_lr _pg_param_count _pg_race_init _pg_race_step _malloc _free)
list(JOIN CG_WEB_EXPORTS "," CG_WEB_EXPORTS)
target_link_options(playground PRIVATE
  -sMODULARIZE=1 -sEXPORT_NAME=createPlayground
  -sENVIRONMENT=worker,node -sALLOW_MEMORY_GROWTH=1 -sFORCE_FILESYSTEM=1
  "-sEXPORTED_FUNCTIONS=[${CG_WEB_EXPORTS}]"
  "-sEXPORTED_RUNTIME_METHODS=[ccall,cwrap,FS,UTF8ToString,stringToUTF8,lengthBytesUTF8]")
# The page's static files, copied when they change.
file(GLOB CG_WEB_STATIC CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/web/*.html ${CMAKE_CURRENT_SOURCE_DIR}/web/*.js
  ${CMAKE_CURRENT_SOURCE_DIR}/web/*.css)
foreach(f ${CG_WEB_STATIC})
  get_filename_component(name ${f} NAME)
  add_custom_command(OUTPUT ${CG_WEB_OUT}/${name} DEPENDS ${f}
    COMMAND ${CMAKE_COMMAND} -E copy ${f} ${CG_WEB_OUT}/${name})
  list(APPEND CG_WEB_COPIES ${CG_WEB_OUT}/${name})
endforeach()
add_custom_target(web_static ALL DEPENDS ${CG_WEB_COPIES})
