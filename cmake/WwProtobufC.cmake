# ww_protobuf_c(<target> IMPORT_DIR <dir> PROTOS <file.proto>...)
#
# Generates protobuf-c sources at build time (never committed) into
# ${CMAKE_BINARY_DIR}/gen and builds them into a static library <target>.
# Paths in PROTOS are relative to IMPORT_DIR, as protoc sees them; the
# well-known types (google/protobuf/*.proto) come from the system include dir.
find_program(PROTOC_C protoc-c REQUIRED)
find_path(WW_WKT_INCLUDE google/protobuf/timestamp.proto
          PATHS /usr/include /usr/local/include REQUIRED)
set(WW_GEN_DIR ${CMAKE_BINARY_DIR}/gen)

function(ww_protobuf_c target)
  cmake_parse_arguments(ARG "" "IMPORT_DIR" "PROTOS;DEPENDS" ${ARGN})
  set(srcs)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    if(EXISTS ${ARG_IMPORT_DIR}/${proto})
      set(abs ${ARG_IMPORT_DIR}/${proto})
    else()
      set(abs ${WW_WKT_INCLUDE}/${proto})
    endif()
    set(out_c ${WW_GEN_DIR}/${stem}.pb-c.c)
    set(out_h ${WW_GEN_DIR}/${stem}.pb-c.h)
    add_custom_command(
      OUTPUT ${out_c} ${out_h}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${WW_GEN_DIR}
      COMMAND ${PROTOC_C} --c_out=${WW_GEN_DIR}
              -I${ARG_IMPORT_DIR} -I${WW_WKT_INCLUDE} ${abs}
      DEPENDS ${abs}
      COMMENT "protoc-c ${proto}"
      VERBATIM)
    list(APPEND srcs ${out_c})
  endforeach()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${WW_GEN_DIR})
  target_link_libraries(${target} PUBLIC PkgConfig::PROTOBUF_C ${ARG_DEPENDS})
  # Generated code is not ours to lint.
  target_compile_options(${target} PRIVATE -w)
endfunction()
