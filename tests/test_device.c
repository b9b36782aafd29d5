/* test_device.c - the OpenCL backend against the host reference path:
 * seeded random shapes for every op and direction in F32 and F64, exact
 * agreement on integer-valued data, and identical bytes from repeated calls.
 * In canary builds (CLCNN_CANARIES) the guards of every tensor are checked
 * after every operation.
 *
 * Every op runs through its descriptor (ops.h): the shapes drawn by
 * tc_draw within tc_device_limits, the inputs by tc_inputs, and the bound
 * of tc_tolerance, 2 (K + 3) u M, where M = sum|terms| comes from the
 * reference on the inputs' magnitudes (th_case_magnitudes) and K is the
 * op's reduction length (ops.h says why the bound holds). Integer data and
 * data-moving ops (zero_pad, the max-pool forward) must match exactly.
 *
 * Here: the checks every file shares, the random shapes, repeatability and
 * main; the other cases in test_device_conv.c (layer layouts, the tiled
 * kernels, the GEMM views), test_device_workspace.c and
 * test_device_special.c (non-finite values, huge strides, no cl_khr_fp64),
 * declared in device_fixture.h. */
#include "device_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLCNN_DEVICE_CASES
#define CLCNN_DEVICE_CASES 300
#endif

/* A conv shape written as the lists below give it: a (n, h, w, c), w (fh,
 * fw, c, cout), stride, pad, bias, the device's algorithm. */
tc_shape conv_shape(int n, int h, int w, int c, int fh, int fw, int cout, int stride, int pad, int bias,
                    clcnn_conv_algo algo)
{
    tc_shape s = {0};
    s.n = n, s.h = h, s.w = w, s.c = c, s.fh = fh, s.fw = fw, s.cout = cout;
    s.stride = stride, s.pad = pad, s.bias = bias, s.algo = algo;
    return s;
}

tc_shape pool_shape(int n, int h, int w, int c, int f, int stride, clcnn_pool_mode mode)
{
    tc_shape s = {0};
    s.n = n, s.h = h, s.w = w, s.c = c, s.fh = s.fw = f, s.stride = stride, s.mode = mode;
    return s;
}

/* An OpenCL context created with environment variable `var` set to
 * `value` (NULL: as it is), as contexts read such settings at creation;
 * the variable is restored afterwards. Owned by f. */
clcnn_context *context_with(th_fixture *f, const char *var, const char *value)
{
    if (!value)
        return th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    char *saved = th_env_swap(var, value);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    th_env_restore(var, saved);
    return th_own_context(f, ctx);
}

/* What the device's convolutions must report having run per direction
 * (clcnn_context_last_conv_algos), while a test sets it; AUTO: unchecked. */
clcnn_conv_algo expect_ran[3];

static void expect_algos(clcnn_context *ctx, const char *call, int first, int last)
{
    if (clcnn_context_backend(ctx) != CLCNN_BACKEND_OPENCL)
        return;
    clcnn_conv_algo got[3];
    assert_int_equal(clcnn_context_last_conv_algos(ctx, got), CLCNN_OK);
    for (int d = first; d <= last; d++)
        if (expect_ran[d] != CLCNN_CONV_AUTO && got[d] != expect_ran[d])
            fail_msg("%s: direction %d ran algorithm %d, expected %d", call, d, (int)got[d],
                     (int)expect_ran[d]);
}

/* The fixture's teardown, which also forgets expect_ran (a test that set
 * it may have failed midway). */
static int teardown(void **state)
{
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_AUTO;
    return th_teardown(state);
}

/* Runs a case and checks which algorithms its convolution ran. */
void run_case(tc_tensors *t)
{
    th_case_run(t);
    if (t->op->id == TC_CONV_FORWARD)
        expect_algos(t->ctx, "conv2d_forward", 0, 0);
    else if (t->op->id == TC_CONV_BACKWARD)
        expect_algos(t->ctx, "conv2d_backward", 1, 2);
}

/* One case of op on the device dev against the host reference: inputs of
 * style drawn from r (integers: every result must be exact), else within
 * tc_tolerance. */
void check_case(th_fixture *f, clcnn_context *dev, np_random *r, const tc_op *op, const tc_shape *s,
                clcnn_dtype dt, int integers)
{
    char desc[256];
    tc_describe(op, s, dt, desc, sizeof desc);
    double *in[TC_MAX_IN];
    assert_int_equal(tc_inputs(op, s, integers ? TC_INTEGERS : TC_NORMAL, r, in), 0);
    tc_tensors got, ref;
    th_case_make(f, dev, op, s, dt, in, &got);
    run_case(&got);
    th_case_reference(f, op, s, dt, in, &ref);
    double *mag[TC_MAX_OUT] = {NULL, NULL, NULL};
    if (!integers) /* sum|terms| of every output: the reference on |inputs| */
        th_case_magnitudes(f, op, s, in, mag);
    th_case_compare(&got, &ref, integers ? NULL : mag, desc);
    for (int o = 0; o < TC_MAX_OUT; o++)
        free(mag[o]);
    th_case_free(f, &got);
    th_case_free(f, &ref);
    tc_inputs_free(in);
}

/* A convolution shape's forward and backward. */
void check_conv(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *s, clcnn_dtype dt,
                int integers)
{
    check_case(f, dev, r, tc_op_of(TC_CONV_FORWARD), s, dt, integers);
    check_case(f, dev, r, tc_op_of(TC_CONV_BACKWARD), s, dt, integers);
}

/* Every case of cases[n] against the reference, random data and integer
 * data, in F32 and (f64) F64. */
void check_cases(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *cases, int n, int f64)
{
    for (int d = 0; d <= f64; d++)
        for (int integers = 0; integers < 2; integers++)
            for (int i = 0; i < n; i++)
                check_conv(f, dev, r, &cases[i], d ? CLCNN_F64 : CLCNN_F32, integers);
}

/* ------------------------------------------------------------- drivers --- */

typedef enum { OP_PAD, OP_CONV, OP_POOL_MAX, OP_POOL_AVG } op_kind;

typedef struct {
    op_kind op;
    clcnn_dtype dtype;
    int integers;
} random_config;

/* One random case of kind: zero_pad; a convolution's forward and backward;
 * a pooling's forward and backward, on one drawn shape. */
static void random_case(th_fixture *f, np_random *r, op_kind kind, clcnn_dtype dt, int integers)
{
    clcnn_context *dev = th_device(f);
    if (kind == OP_PAD) {
        const tc_op *op = tc_op_of(TC_ZERO_PAD);
        const tc_shape s = tc_draw(op, &tc_device_limits, r, NULL);
        check_case(f, dev, r, op, &s, dt, integers);
    } else if (kind == OP_CONV) {
        const tc_shape s = tc_draw(tc_op_of(TC_CONV_FORWARD), &tc_device_limits, r, NULL);
        check_conv(f, dev, r, &s, dt, integers);
    } else {
        tc_shape base = {0};
        base.mode = kind == OP_POOL_MAX ? CLCNN_POOL_MAX : CLCNN_POOL_AVG;
        const tc_shape s = tc_draw(tc_op_of(TC_POOL_FORWARD), &tc_device_limits, r, &base);
        check_case(f, dev, r, tc_op_of(TC_POOL_FORWARD), &s, dt, integers);
        check_case(f, dev, r, tc_op_of(TC_POOL_BACKWARD), &s, dt, integers);
    }
}

static void run_cases(void **state, int cases)
{
    th_fixture *f = th_fx(state);
    const random_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r,
                   1000u + 10u * (uint32_t)cfg->op + (uint32_t)cfg->dtype + 100u * (uint32_t)cfg->integers);
    for (int i = 0; i < cases; i++)
        random_case(f, &r, cfg->op, cfg->dtype, cfg->integers);
}

static void random_shapes_match_reference(void **state)
{
    run_cases(state, CLCNN_DEVICE_CASES);
}

static void integer_data_matches_reference_exactly(void **state)
{
    run_cases(state, CLCNN_DEVICE_CASES / 5);
}

/* Three identical calls of each op give identical bytes. */
static void repeated_calls_give_identical_bytes(void **state)
{
    th_fixture *f = th_fx(state);
    const clcnn_dtype dt = *(const clcnn_dtype *)th_param(state);
    clcnn_context *ctx = th_device(f);
    np_random r;
    np_random_seed(&r, 77);
    enum { CASES = 5 };
    tc_shape s[CASES];
    s[0] = conv_shape(3, 20, 18, 9, 3, 4, 11, 2, 1, 0, CLCNN_CONV_AUTO);
    s[1] = s[0];
    s[2] = pool_shape(3, 20, 18, 9, 4, 2, CLCNN_POOL_AVG);
    s[3] = s[2];
    s[4] = (tc_shape){.n = 3, .h = 20, .w = 18, .c = 9, .pad = 1};
    static const tc_op_id ids[CASES] = {TC_CONV_FORWARD, TC_CONV_BACKWARD, TC_POOL_FORWARD, TC_POOL_BACKWARD,
                                        TC_ZERO_PAD};
    tc_tensors t[CASES];
    for (int i = 0; i < CASES; i++) {
        double *in[TC_MAX_IN];
        assert_int_equal(tc_inputs(tc_op_of(ids[i]), &s[i], TC_NORMAL, &r, in), 0);
        th_case_make(f, ctx, tc_op_of(ids[i]), &s[i], dt, in, &t[i]);
        tc_inputs_free(in);
    }
    unsigned char *first[CASES][TC_MAX_OUT] = {{0}};
    size_t sizes[CASES][TC_MAX_OUT];
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < CASES; i++) {
            th_case_run(&t[i]);
            for (int o = 0; o < t[i].op->n_out; o++) {
                if (rep == 0)
                    first[i][o] = th_snapshot(t[i].out[o], &sizes[i][o]);
                else
                    th_expect_unchanged(t[i].out[o], first[i][o], sizes[i][o], "a repeated call's output");
            }
        }
    for (int i = 0; i < CASES; i++)
        for (int o = 0; o < TC_MAX_OUT; o++)
            free(first[i][o]);
}

/* clcnn_conv2d_backward's promise: what it computes does not depend on
 * which of da_prev, dw and db are asked for. Each subset's outputs, on
 * random (non-integer) data, have the bytes of the call that asks for all
 * three: in particular db, which the direct filter kernel sums beside dw
 * and conv_backward_bias alone otherwise, in the same runs of rows. Shapes:
 * 2x40x40x7 -> 24 3x3 (3200 output positions: several runs of rows on a
 * CPU), 1x9x9x130 -> 16 1x1 s2 (one run). */
static void backward_outputs_do_not_depend_on_which_are_asked_for(void **state)
{
    th_fixture *f = th_fx(state);
    const clcnn_dtype dt = *(const clcnn_dtype *)th_param(state);
    const tc_op *op = tc_op_of(TC_CONV_BACKWARD);
    const tc_shape shapes[2] = {conv_shape(2, 40, 40, 7, 3, 3, 24, 1, 1, 0, CLCNN_CONV_AUTO),
                                conv_shape(1, 9, 9, 130, 1, 1, 16, 2, 0, 0, CLCNN_CONV_AUTO)};
    clcnn_context *ctx = th_device(f);
    np_random r;
    np_random_seed(&r, 91);
    for (int k = 0; k < 2; k++) {
        double *in[TC_MAX_IN];
        assert_int_equal(tc_inputs(op, &shapes[k], TC_NORMAL, &r, in), 0);
        tc_tensors all;
        th_case_make(f, ctx, op, &shapes[k], dt, in, &all);
        th_case_run(&all);
        unsigned char *want[3];
        size_t sizes[3];
        for (int i = 0; i < 3; i++)
            want[i] = th_snapshot(all.out[i], &sizes[i]);
        for (int mask = 1; mask < 7; mask++) { /* every proper, non-empty subset */
            tc_shape s = shapes[k];
            s.omit = 7 & ~mask;
            tc_tensors some;
            th_case_make(f, ctx, op, &s, dt, in, &some);
            th_case_run(&some);
            for (int i = 0; i < 3; i++)
                if (some.out[i]) {
                    size_t got_size;
                    unsigned char *got = th_snapshot(some.out[i], &got_size);
                    const int same = got_size == sizes[i] && memcmp(got, want[i], sizes[i]) == 0;
                    free(got);
                    if (!same)
                        fail_msg("shape %d: output %d (da_prev, dw, db) of the call asking for subset %d "
                                 "(bits 1 da_prev, 2 dw, 4 db) differs from the call asking for all three",
                                 k, i, mask);
                }
            th_case_free(f, &some);
        }
        for (int i = 0; i < 3; i++)
            free(want[i]);
        th_case_free(f, &all);
        tc_inputs_free(in);
    }
}

/* The device really is an OpenCL device, not the host path. */
static void device_context_runs_on_opencl(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctx = th_device(f);
    assert_string_not_equal(clcnn_context_device_name(ctx), "host reference");
    print_message("device: %s\n", clcnn_context_device_name(ctx));
}

int main(void)
{
    static const char *op_names[] = {"zero_pad", "conv2d_forward_and_backward",
                                     "pool2d_max_forward_and_backward",
                                     "pool2d_average_forward_and_backward"};
    static random_config random_cfgs[2][4][2];
    static char names[40][128];
    static struct CMUnitTest tests[40];
    static const clcnn_dtype dtypes[2] = {CLCNN_F32, CLCNN_F64};
    size_t n = 0;
    tests[n++] = (struct CMUnitTest){"device_context_runs_on_opencl", device_context_runs_on_opencl, th_setup,
                                     teardown, NULL};
    tests[n++] = (struct CMUnitTest){"huge_strides_match_reference", huge_strides_match_reference, th_setup,
                                     teardown, NULL};
    tests[n++] = (struct CMUnitTest){"tiled_kernels_give_the_direct_kernels_bits",
                                     tiled_kernels_give_the_direct_kernels_bits, th_setup, teardown, NULL};
    tests[n++] = (struct CMUnitTest){"non_finite_weights_spread_like_the_reference",
                                     non_finite_weights_spread_like_the_reference, th_setup, teardown, NULL};
    tests[n++] = (struct CMUnitTest){"non_finite_pool_inputs_match_the_reference",
                                     non_finite_pool_inputs_match_the_reference, th_setup, teardown, NULL};
    tests[n++] = (struct CMUnitTest){"wide_layers_match_reference", wide_layers_match_reference, th_setup,
                                     teardown, NULL};
    tests[n++] = (struct CMUnitTest){"workspace_is_kept_within_the_limit", workspace_is_kept_within_the_limit,
                                     th_setup, teardown, NULL};
    tests[n++] = (struct CMUnitTest){"pointwise_layers_match_reference", pointwise_layers_match_reference,
                                     th_setup, teardown, NULL};
    tests[n++] =
        (struct CMUnitTest){"gemm_views_past_the_index_limit_match_reference",
                            gemm_views_past_the_index_limit_match_reference, th_setup, teardown, NULL};
    tests[n++] = (struct CMUnitTest){"f64_without_cl_khr_fp64_is_unsupported",
                                     f64_without_cl_khr_fp64_is_unsupported, th_setup, teardown, NULL};
    for (int integers = 0; integers < 2; integers++)
        for (int op = 0; op < 4; op++)
            for (int d = 0; d < 2; d++) {
                random_config *cfg = &random_cfgs[integers][op][d];
                *cfg = (random_config){(op_kind)op, dtypes[d], integers};
                snprintf(names[n], sizeof names[n], "%s/%s/%s", op_names[op], th_dtype_name(dtypes[d]),
                         integers ? "integer_data_exact" : "random_shapes_within_tolerance");
                tests[n] = (struct CMUnitTest){names[n],
                                               integers ? integer_data_matches_reference_exactly
                                                        : random_shapes_match_reference,
                                               th_setup, teardown, cfg};
                n++;
            }
    for (int d = 0; d < 2; d++) {
        snprintf(names[n], sizeof names[n], "repeated_calls_give_identical_bytes/%s",
                 th_dtype_name(dtypes[d]));
        tests[n] = (struct CMUnitTest){names[n], repeated_calls_give_identical_bytes, th_setup, teardown,
                                       (void *)&dtypes[d]};
        n++;
        snprintf(names[n], sizeof names[n], "backward_outputs_do_not_depend_on_which_are_asked_for/%s",
                 th_dtype_name(dtypes[d]));
        tests[n] = (struct CMUnitTest){names[n], backward_outputs_do_not_depend_on_which_are_asked_for,
                                       th_setup, teardown, (void *)&dtypes[d]};
        n++;
    }
    return _cmocka_run_group_tests("device", tests, n, NULL, NULL);
}
