/* test_bounds.c - the index limits: validation at exactly INT_MAX and
 * INT_MAX + 1 padded elements per axis (accepted, refused with a sentence
 * naming the argument), and the OpenCL kernels on tensors as large as the
 * device allows in one buffer, checked at sampled elements (the first, the
 * last, and those around byte offsets 2^31 and 2^32 and element index 2^31)
 * against values computed here from the formula that filled the inputs.
 *
 * Here: the validation cases and main; the big tensors in
 * test_bounds_big.c (OpenCL builds), declared in bounds_big.h. */
#include "helpers.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifdef CLCNN_TEST_OPENCL
#include "bounds_big.h"
#endif

/* ------------------------------------------------------------------------ */
/* Validation at the limit                                                    */
/* ------------------------------------------------------------------------ */

/* The fixture's context of the backend the test was registered with. */
static clcnn_context *context_of(void **state)
{
    th_fixture *f = th_fx(state);
    return *(const clcnn_backend *)th_param(state) == CLCNN_BACKEND_OPENCL ? th_device(f) : th_host(f);
}

/* Fails unless got is want and the message (of ctx, or this thread's when
 * ctx is NULL) holds every non-NULL needle. */
static void expect_fail(clcnn_status got, clcnn_status want, const clcnn_context *ctx, const char *n1,
                        const char *n2, const char *n3, const char *n4)
{
    const char *msg = clcnn_last_error(ctx);
    if (got != want)
        fail_msg("status %s, expected %s (message: %s)", clcnn_status_string(got), clcnn_status_string(want),
                 msg);
    const char *needles[4] = {n1, n2, n3, n4};
    for (int i = 0; i < 4; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            fail_msg("the message \"%s\" does not say \"%s\"", msg, needles[i]);
}

/* n_H_prev + 2*pad = INT_MAX exactly: valid, and the output is INT_MAX - fh + 1 high. */
static void conv_output_shape_accepts_padded_height_of_int_max(void **state)
{
    (void)state;
    const int a[4] = {1, INT_MAX - 2, 1, 1}, w[4] = {3, 1, 1, 2};
    int out[4] = {0, 0, 0, 0};
    clcnn_status s = clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){1, 1, CLCNN_CONV_AUTO}, out);
    if (s != CLCNN_OK)
        fail_msg("%s: %s", clcnn_status_string(s), clcnn_last_error(NULL));
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], INT_MAX - 2);
    assert_int_equal(out[2], 3);
    assert_int_equal(out[3], 2);
    /* stride INT_MAX over INT_MAX padded rows: one output row */
    s = clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){INT_MAX, 1, CLCNN_CONV_AUTO}, out);
    assert_int_equal(s, CLCNN_OK);
    assert_int_equal(out[1], 1);
}

/* n_H_prev + 2*pad = INT_MAX + 1: refused, naming the axis, n_H_prev and pad. */
static void conv_output_shape_refuses_padded_height_of_int_max_plus_1(void **state)
{
    (void)state;
    const int a[4] = {1, INT_MAX - 1, 1, 1}, w[4] = {1, 1, 1, 1};
    int out[4] = {7, 7, 7, 7};
    expect_fail(clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){1, 1, CLCNN_CONV_AUTO}, out),
                CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_conv2d_output_shape",
                "padded input H 2147483648 (n_H_prev 2147483646 + 2*pad 2, pad 1)", "overflows int", NULL);
    assert_true(out[0] == 7 && out[1] == 7 && out[2] == 7 && out[3] == 7);
}

static void conv_output_shape_refuses_padded_width_of_int_max_plus_1(void **state)
{
    (void)state;
    const int a[4] = {1, 1, 2, 1}, w[4] = {1, 1, 1, 1};
    int out[4] = {7, 7, 7, 7};
    /* H: 1 + 2*1073741823 = INT_MAX passes; W: 2 + 2147483646 does not. */
    expect_fail(clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){1, INT_MAX / 2, CLCNN_CONV_AUTO}, out),
                CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_conv2d_output_shape",
                "padded input W 2147483648 (n_W_prev 2 + 2*pad 2147483646, pad 1073741823)", "overflows int",
                NULL);
    assert_true(out[0] == 7 && out[1] == 7 && out[2] == 7 && out[3] == 7);
}

/* pad = INT_MAX: n_H_prev + 2*pad computed without overflow, and pad named
 * (the messages give 2*pad and pad). */
static void conv_output_shape_refuses_pad_of_int_max(void **state)
{
    (void)state;
    const int a[4] = {1, 1, 1, 1}, w[4] = {1, 1, 1, 1};
    int out[4];
    expect_fail(clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){1, INT_MAX, CLCNN_CONV_AUTO}, out),
                CLCNN_ERR_INVALID_ARGUMENT, NULL, "padded input H 4294967295",
                "(n_H_prev 1 + 2*pad 4294967294, pad 2147483647)", "overflows int", NULL);
}

/* A window and stride of INT_MAX over INT_MAX rows and columns: one output. */
static void pool_output_shape_accepts_window_and_stride_of_int_max(void **state)
{
    (void)state;
    const int a[4] = {2, INT_MAX, INT_MAX, 3};
    int out[4];
    assert_int_equal(clcnn_pool2d_output_shape(a, (clcnn_pool_params){INT_MAX, INT_MAX, CLCNN_POOL_MAX}, out),
                     CLCNN_OK);
    assert_true(out[0] == 2 && out[1] == 1 && out[2] == 1 && out[3] == 3);
    assert_int_equal(clcnn_pool2d_output_shape(a, (clcnn_pool_params){1, INT_MAX, CLCNN_POOL_AVG}, out),
                     CLCNN_OK);
    assert_true(out[1] == 1 && out[2] == 1);
    assert_int_equal(clcnn_pool2d_output_shape(a, (clcnn_pool_params){2, 1, CLCNN_POOL_AVG}, out), CLCNN_OK);
    assert_true(out[1] == INT_MAX - 1 && out[2] == INT_MAX - 1);
}

/* zero_pad by 1073741823 of a tensor 2 rows high (F32) or 2 columns wide
 * (F64): 2147483648 padded rows or columns. */
static void zero_pad_refuses(void **state, clcnn_dtype dt, int h, int w, const char *shape)
{
    clcnn_context *ctx = context_of(state);
    const double one[2] = {1, 2};
    clcnn_tensor *x = th_fx_tensor(th_fx(state), ctx, dt, 1, h, w, 1, one),
                 *xp = th_fx_tensor(th_fx(state), ctx, dt, 1, 3, 3, 1, NULL);
    expect_fail(clcnn_zero_pad(ctx, x, INT_MAX / 2, xp), CLCNN_ERR_INVALID_ARGUMENT, ctx, "clcnn_zero_pad",
                shape, "pad 1073741823", NULL);
}

static void zero_pad_refuses_padded_height_of_int_max_plus_1(void **state)
{
    zero_pad_refuses(state, CLCNN_F32, 2, 1, "the padded shape (1, 2147483648, 2147483647, 1) overflows int");
}

static void zero_pad_refuses_padded_width_of_int_max_plus_1(void **state)
{
    zero_pad_refuses(state, CLCNN_F64, 1, 2, "the padded shape (1, 2147483647, 2147483648, 1) overflows int");
}

/* Exactly INT_MAX rows and columns pass the int check; x_pad's shape is then
 * what is wrong, and the message gives the shape it must have. */
static void zero_pad_accepts_padded_size_of_int_max_then_checks_x_pad(void **state)
{
    clcnn_context *ctx = context_of(state);
    const double one[1] = {1};
    clcnn_tensor *x = th_fx_tensor(th_fx(state), ctx, CLCNN_F32, 1, 1, 1, 1, one),
                 *xp = th_fx_tensor(th_fx(state), ctx, CLCNN_F32, 1, 3, 3, 1, NULL);
    expect_fail(clcnn_zero_pad(ctx, x, INT_MAX / 2, xp), CLCNN_ERR_SHAPE, ctx, "clcnn_zero_pad", "x_pad",
                "must be (1, 2147483647, 2147483647, 1)", NULL);
}

static void conv_forward_refuses_padded_height_of_int_max_plus_1(void **state)
{
    clcnn_context *ctx = context_of(state);
    const double v[2] = {1, 2};
    clcnn_tensor *a = th_fx_tensor(th_fx(state), ctx, CLCNN_F32, 1, 2, 1, 1, v),
                 *w = th_fx_tensor(th_fx(state), ctx, CLCNN_F32, 1, 1, 1, 1, v),
                 *z = th_fx_tensor(th_fx(state), ctx, CLCNN_F32, 1, 1, 1, 1, NULL);
    expect_fail(
        clcnn_conv2d_forward(ctx, a, w, NULL, (clcnn_conv_params){1, INT_MAX / 2, CLCNN_CONV_AUTO}, z),
        CLCNN_ERR_INVALID_ARGUMENT, ctx, "clcnn_conv2d_forward",
        "padded input H 2147483648 (n_H_prev 2 + 2*pad 2147483646, pad 1073741823)", "overflows int", NULL);
}

static void conv_backward_refuses_padded_width_of_int_max_plus_1(void **state)
{
    clcnn_context *ctx = context_of(state);
    const double v[2] = {1, 2};
    clcnn_tensor *a = th_fx_tensor(th_fx(state), ctx, CLCNN_F64, 1, 1, 2, 1, v),
                 *w = th_fx_tensor(th_fx(state), ctx, CLCNN_F64, 1, 1, 1, 1, v),
                 *dz = th_fx_tensor(th_fx(state), ctx, CLCNN_F64, 1, 1, 1, 1, v),
                 *da = th_fx_tensor(th_fx(state), ctx, CLCNN_F64, 1, 1, 2, 1, NULL);
    expect_fail(clcnn_conv2d_backward(ctx, dz, a, w, (clcnn_conv_params){1, INT_MAX / 2, CLCNN_CONV_AUTO}, da,
                                      NULL, NULL),
                CLCNN_ERR_INVALID_ARGUMENT, ctx, "clcnn_conv2d_backward",
                "padded input W 2147483648 (n_W_prev 2 + 2*pad 2147483646, pad 1073741823)", "overflows int",
                NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a timeout's log shows the case that was running */
    static const clcnn_backend backends[2] = {CLCNN_BACKEND_HOST, CLCNN_BACKEND_OPENCL};
#ifdef CLCNN_TEST_OPENCL
    const int n_backends = 2;
    static const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVG};
    static const clcnn_conv_algo algos[2] = {CLCNN_CONV_DIRECT, CLCNN_CONV_GEMM};
#else
    const int n_backends = 1;
#endif
    static struct CMUnitTest tests[64];
    static char names[64][128];
    size_t n = 0;
#define ADD(fn, st, suffix)                                                                                  \
    do {                                                                                                     \
        snprintf(names[n], sizeof names[n], "%s%s", #fn, suffix);                                            \
        tests[n] = (struct CMUnitTest){names[n], fn, th_setup, th_teardown, (void *)(st)};                   \
        n++;                                                                                                 \
    } while (0)
    ADD(conv_output_shape_accepts_padded_height_of_int_max, NULL, "");
    ADD(conv_output_shape_refuses_padded_height_of_int_max_plus_1, NULL, "");
    ADD(conv_output_shape_refuses_padded_width_of_int_max_plus_1, NULL, "");
    ADD(conv_output_shape_refuses_pad_of_int_max, NULL, "");
    ADD(pool_output_shape_accepts_window_and_stride_of_int_max, NULL, "");
    for (int b = 0; b < n_backends; b++) {
        const char *sfx = b ? "/opencl" : "/host";
        ADD(zero_pad_refuses_padded_height_of_int_max_plus_1, &backends[b], sfx);
        ADD(zero_pad_refuses_padded_width_of_int_max_plus_1, &backends[b], sfx);
        ADD(zero_pad_accepts_padded_size_of_int_max_then_checks_x_pad, &backends[b], sfx);
        ADD(conv_forward_refuses_padded_height_of_int_max_plus_1, &backends[b], sfx);
        ADD(conv_backward_refuses_padded_width_of_int_max_plus_1, &backends[b], sfx);
    }
#ifdef CLCNN_TEST_OPENCL
    ADD(zero_pad_of_the_largest_tensors, NULL, "");
    ADD(pool_of_the_largest_tensors, &modes[0], "/max");
    ADD(pool_of_the_largest_tensors, &modes[1], "/average");
    ADD(conv_of_the_largest_tensors, &algos[0], "/direct");
    ADD(conv_of_the_largest_tensors, &algos[1], "/gemm");
#endif
    return _cmocka_run_group_tests("bounds", tests, n, NULL, NULL);
}
