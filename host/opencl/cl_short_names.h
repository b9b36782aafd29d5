/* cl_short_names.h - short local names for the launch helpers of
 * cl_backend.h, for the files that enqueue many kernels (cl_ops.c,
 * conv/). Include after cl_backend.h, in .c files only. */
#ifndef CLCNN_CL_SHORT_NAMES_H
#define CLCNN_CL_SHORT_NAMES_H

typedef clcnn_conv_shape conv_shape;
typedef clcnn_kernel_arg kernel_arg;
#define ARG CLCNN_ARG
#define set_args clcnn__cl_set_args
#define launch clcnn__cl_launch
#define vector_width_log2 clcnn__cl_vector_width_log2

#endif
