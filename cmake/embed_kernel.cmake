# embed_kernel.cmake - run with cmake -DIN=file.cl -DOUT=file.c -DNAME=name -P:
# writes OUT defining `const char clcnn__kernel_<NAME>[]`, the bytes of IN
# followed by a terminating zero, so the library needs no file at run time.
# NAME is the file's name without .cl, which host/opencl/cl_kernels.def
# uses to find it (so it must be a C identifier).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from kernels/${NAME}.cl by cmake/embed_kernel.cmake: do not edit. */
#include <stddef.h>
const char clcnn__kernel_${NAME}[] = {
${bytes}0x00};
const size_t clcnn__kernel_${NAME}_size = ${size};
")
