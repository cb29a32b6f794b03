# cmake -DIN=<file> -DOUT_C=<c> -DOUT_H=<h> -DSYMBOL=<name> -P WwEmbed.cmake
#
# Writes the bytes of IN as `const unsigned char SYMBOL[]` and
# `const size_t SYMBOL_len` (OUT_C), declared in OUT_H: how a file made at
# build time (a descriptor set) is linked into a binary.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" bytes "${bytes}")
get_filename_component(name ${IN} NAME)
file(WRITE ${OUT_H}
"/* ${SYMBOL} - generated at build time from ${name}; not committed. */
#ifndef ${SYMBOL}_H
#define ${SYMBOL}_H
#include <stddef.h>
extern const unsigned char ${SYMBOL}[];
extern const size_t ${SYMBOL}_len;
#endif
")
file(WRITE ${OUT_C}
"/* ${SYMBOL} - generated at build time from ${name}; not committed. */
#include <stddef.h>
const unsigned char ${SYMBOL}[${len} + 1] = {
${bytes}0};
const size_t ${SYMBOL}_len = ${len};
")
