/* bounds_big.h - the big-tensor cases of test_bounds (test_bounds_big.c,
 * OpenCL builds), which main (test_bounds.c) registers. */
#ifndef CLCNN_BOUNDS_BIG_H
#define CLCNN_BOUNDS_BIG_H

#include "helpers.h"

/* zero_pad by 1 into a tensor of more than 2^31 bytes (runs by default). */
void zero_pad_of_the_largest_tensors(void **state);

/* Pooling forward and backward, f 2, stride 2; the state: a clcnn_pool_mode
 * (CLCNN_BIG_TESTS=1). */
void pool_of_the_largest_tensors(void **state);

/* A 3x3 convolution's forward and backward data; the state: a
 * clcnn_conv_algo (CLCNN_BIG_TESTS=1). */
void conv_of_the_largest_tensors(void **state);

#endif
