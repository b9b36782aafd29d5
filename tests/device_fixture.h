/* device_fixture.h - what the files of test_device share: the shapes as
 * their lists write them, contexts made under a setting, the check of one
 * case against the host reference, and the tests each file defines, which
 * main (test_device.c) registers. */
#ifndef CLCNN_DEVICE_FIXTURE_H
#define CLCNN_DEVICE_FIXTURE_H

#include "helpers.h"

/* A conv shape written as the lists give it: a (n, h, w, c), w (fh, fw, c,
 * cout), stride, pad, bias, the device's algorithm. */
tc_shape conv_shape(int n, int h, int w, int c, int fh, int fw, int cout, int stride, int pad, int bias,
                    clcnn_conv_algo algo);
tc_shape pool_shape(int n, int h, int w, int c, int f, int stride, clcnn_pool_mode mode);

/* An OpenCL context created with environment variable `var` set to `value`
 * (NULL: as it is), owned by f. */
clcnn_context *context_with(th_fixture *f, const char *var, const char *value);

/* What the device's convolutions must report having run per direction
 * while a test sets it (AUTO: unchecked); the teardown resets it. */
extern clcnn_conv_algo expect_ran[3];

/* Runs a case and checks which algorithms its convolution ran. */
void run_case(tc_tensors *t);

/* One case of op on dev against the host reference: integer data exactly,
 * else within tc_tolerance. */
void check_case(th_fixture *f, clcnn_context *dev, np_random *r, const tc_op *op, const tc_shape *s,
                clcnn_dtype dt, int integers);

/* A convolution shape's forward and backward. */
void check_conv(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *s, clcnn_dtype dt,
                int integers);

/* Every case of cases[n], random and integer data, in F32 and (f64) F64. */
void check_cases(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *cases, int n, int f64);

/* test_device_conv.c: layer layouts, the tiled kernels, the GEMM views. */
void wide_layers_match_reference(void **state);
void pointwise_layers_match_reference(void **state);
void tiled_kernels_give_the_direct_kernels_bits(void **state);
void gemm_views_past_the_index_limit_match_reference(void **state);

/* test_device_workspace.c */
void workspace_is_kept_within_the_limit(void **state);

/* test_device_special.c: non-finite values, huge strides, no cl_khr_fp64. */
void f64_without_cl_khr_fp64_is_unsupported(void **state);
void non_finite_weights_spread_like_the_reference(void **state);
void non_finite_pool_inputs_match_the_reference(void **state);
void huge_strides_match_reference(void **state);

#endif
