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

# ww_descriptor_set(<target> IMPORT_DIR <dir> NAME <name> PROTOS <file.proto>...)
#
# What server reflection answers from: protoc writes the FileDescriptorSet of
# PROTOS and everything they import (--include_imports, with comments) at
# build time into ${WW_GEN_DIR}/ww_descriptors/<name>.desc, never committed;
# it is embedded in the static library <target> as the bytes
# ww_descriptors_<name> (ww_descriptors/<name>.h declares them).
find_program(PROTOC protoc REQUIRED)
function(ww_descriptor_set target)
  cmake_parse_arguments(ARG "" "IMPORT_DIR;NAME" "PROTOS" ${ARGN})
  set(dir ${WW_GEN_DIR}/ww_descriptors)
  set(desc ${dir}/${ARG_NAME}.desc)
  set(out_c ${dir}/${ARG_NAME}.c)
  set(out_h ${dir}/${ARG_NAME}.h)
  set(abs)
  foreach(proto IN LISTS ARG_PROTOS)
    list(APPEND abs ${ARG_IMPORT_DIR}/${proto})
  endforeach()
  add_custom_command(
    OUTPUT ${desc}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${PROTOC} --descriptor_set_out=${desc} --include_imports
            --include_source_info -I${ARG_IMPORT_DIR} -I${WW_WKT_INCLUDE}
            ${ARG_PROTOS}
    WORKING_DIRECTORY ${ARG_IMPORT_DIR}
    DEPENDS ${abs}
    COMMENT "protoc descriptor set ${ARG_NAME}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out_c} ${out_h}
    COMMAND ${CMAKE_COMMAND} -DIN=${desc} -DOUT_C=${out_c} -DOUT_H=${out_h}
            -DSYMBOL=ww_descriptors_${ARG_NAME}
            -P ${CMAKE_SOURCE_DIR}/cmake/WwEmbed.cmake
    DEPENDS ${desc} ${CMAKE_SOURCE_DIR}/cmake/WwEmbed.cmake
    COMMENT "embed descriptor set ${ARG_NAME}"
    VERBATIM)
  add_library(${target} STATIC ${out_c})
  target_include_directories(${target} PUBLIC ${WW_GEN_DIR})
endfunction()
