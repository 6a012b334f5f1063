# SPDX-License-Identifier: MIT
# cg_write_exports_map(HEADER OUT): a linker version script that exports
# from libcgrad.so the functions declared in HEADER (cgrad.h) and hides
# every other symbol. A declaration is a `cg_name(` outside comments; the
# header declares no variables.
function(cg_write_exports_map header out)
  file(READ ${header} text)
  # Comments first: their prose mentions calls such as "cg_last_error()".
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " text "${text}")
  string(REGEX REPLACE "//[^\n]*" " " text "${text}")
  string(REGEX MATCHALL "[^A-Za-z0-9_]cg_[a-z0-9_]+[ \t\n]*\\(" calls "${text}")
  set(names "")
  foreach(c ${calls})
    string(REGEX MATCH "cg_[a-z0-9_]+" n "${c}")
    list(APPEND names ${n})
  endforeach()
  list(REMOVE_DUPLICATES names)
  list(SORT names)
  list(LENGTH names count)
  if(count LESS 10)
    message(FATAL_ERROR "${header}: found only ${count} functions to export")
  endif()
  set(map "/* Generated from ${header} by cmake/cgrad_exports.cmake */\n{\n  global:\n")
  foreach(n ${names})
    string(APPEND map "    ${n};\n")
  endforeach()
  string(APPEND map "  local: *;\n};\n")
  # Written only when changed, so an unrelated header edit does not relink.
  if(EXISTS ${out})
    file(READ ${out} old)
  endif()
  if(NOT "${old}" STREQUAL "${map}")
    file(WRITE ${out} "${map}")
  endif()
endfunction()
