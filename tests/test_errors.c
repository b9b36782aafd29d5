/* test_errors.c - every bad argument of every public entry point: the exact
 * status, a message in clcnn_last_error naming the function, the argument and
 * its value, outputs left byte-for-byte unchanged, and the context still
 * usable afterwards.
 *
 * This file holds the fixture (errors_fixture.h) and main, which runs every
 * registered case as its own cmocka test. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup */
#endif

#define ERRORS_FILE_RANK 0
#include "errors_fixture.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fixture                                                                    */
/* ------------------------------------------------------------------------ */

max_align_t errors_sentinel;

/* Leaves a distinctive message in this thread's last error, so that a case
 * whose call forgets to record one cannot pass on a stale message. */
static void mark_thread_error(void)
{
    const int d[4] = {1, 1, 1, 1};
    int o[4];
    (void)clcnn_conv2d_output_shape(d, d, (clcnn_conv_params){-12345, 0, CLCNN_CONV_AUTO}, o);
}

/* The backend every case's contexts use: the host path, or with
 * CLCNN_TEST_ERRORS_BACKEND=opencl an OpenCL device (CLCNN_DEVICE picks
 * which), so that the whole catalogue also runs against device tensors
 * (ctest: errors_opencl). */
static clcnn_options case_options(void)
{
    const char *b = getenv("CLCNN_TEST_ERRORS_BACKEND");
    if (b && strcmp(b, "opencl") == 0)
        return (clcnn_options){CLCNN_BACKEND_OPENCL, getenv("CLCNN_DEVICE")};
    return (clcnn_options){CLCNN_BACKEND_HOST, NULL};
}

/* *state is the case's table row (cmocka's initial state) or NULL. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    clcnn_options o = case_options();
    if (clcnn_context_create(&o, &f->ctx) != CLCNN_OK || clcnn_context_create(&o, &f->other) != CLCNN_OK) {
        clcnn_context_destroy(f->ctx);
        free(f);
        return -1;
    }
    mark_thread_error();
    f->row = *state;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    for (int i = 0; i < f->n_watched; i++)
        free(f->snap[i]);
    for (int i = f->n_owned - 1; i >= 0; i--)
        clcnn_tensor_destroy(f->owned[i]);
    clcnn_context_destroy(f->other);
    clcnn_context_destroy(f->ctx);
    if (f->env_saved) {
        if (f->env_old)
            setenv("CLCNN_BACKEND", f->env_old, 1);
        else
            unsetenv("CLCNN_BACKEND");
        free(f->env_old);
    }
    free(f);
    return 0;
}

void own(fx *f, clcnn_tensor *t)
{
    assert_true(f->n_owned < MAX_TENSORS);
    f->owned[f->n_owned++] = t;
}

clcnn_tensor *mk(fx *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c, const char *name)
{
    static int serial;
    clcnn_tensor *t = NULL;
    clcnn_status s = clcnn_tensor_create(ctx, dtype, n, h, w, c, &t);
    if (s != CLCNN_OK)
        fail_msg("making %s (%d, %d, %d, %d): %s: %s", name, n, h, w, c, clcnn_status_string(s),
                 clcnn_last_error(ctx));
    own(f, t);

    serial = serial % 500 + 1;
    const double base = 1000.0 * serial;
    const size_t count = (size_t)n * (size_t)h * (size_t)w * (size_t)c;
    const size_t es = dtype == F64 ? sizeof(double) : sizeof(float);
    unsigned char *buf = malloc(count * es);
    assert_non_null(buf);
    for (size_t i = 0; i < count; i++) {
        double v = (i % 2 ? -1.0 : 1.0) * (base + 0.25 * (double)i + 0.125);
        if (dtype == F64)
            ((double *)buf)[i] = v;
        else
            ((float *)buf)[i] = (float)v;
    }
    s = clcnn_tensor_write(t, buf, count * es);
    free(buf);
    assert_int_equal(s, CLCNN_OK);

    assert_true(f->n_watched < MAX_TENSORS);
    const int k = f->n_watched++;
    f->watched[k] = t;
    f->watched_name[k] = name;
    f->snap[k] = th_snapshot(t, &f->snap_n[k]);
    return t;
}

/* Fails unless a valid call on f->ctx still works and gives the right result. */
static void expect_usable(fx *f)
{
    clcnn_tensor *x = NULL, *x_pad = NULL;
    assert_int_equal(clcnn_tensor_create(f->ctx, F64, 1, 2, 2, 1, &x), CLCNN_OK);
    own(f, x);
    assert_int_equal(clcnn_tensor_create(f->ctx, F64, 1, 4, 4, 1, &x_pad), CLCNN_OK);
    own(f, x_pad);
    const double in[4] = {1, 2, 3, 4};
    double out[16];
    memset(out, 0xA5, sizeof out);
    assert_int_equal(clcnn_tensor_write(x, in, sizeof in), CLCNN_OK);
    clcnn_status s = clcnn_zero_pad(f->ctx, x, 1, x_pad);
    if (s != CLCNN_OK)
        fail_msg("the context is not usable after the failing call: zero_pad gave %s: %s",
                 clcnn_status_string(s), clcnn_last_error(f->ctx));
    assert_int_equal(clcnn_finish(f->ctx), CLCNN_OK);
    assert_int_equal(clcnn_tensor_read(x_pad, out, sizeof out), CLCNN_OK);
    const double want[16] = {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0};
    for (int i = 0; i < 16; i++)
        if (out[i] != want[i])
            fail_msg("the context gives wrong results after the failing call: x_pad[%d] = %g, want %g", i,
                     out[i], want[i]);
}

void expect_fail_(fx *f, clcnn_status got, clcnn_status want, const clcnn_context *msg_ctx,
                  const char *const *needles)
{
    const char *msg = clcnn_last_error(msg_ctx);
    if (got != want)
        fail_msg("status %s, want %s (message: \"%s\")", clcnn_status_string(got), clcnn_status_string(want),
                 msg);
    for (int i = 0; needles[i]; i++)
        if (!strstr(msg, needles[i]))
            fail_msg("clcnn_last_error(%s) is \"%s\": it does not contain \"%s\"", msg_ctx ? "ctx" : "NULL",
                     msg, needles[i]);
    for (int i = 0; i < f->n_watched; i++)
        th_expect_unchanged(f->watched[i], f->snap[i], f->snap_n[i], f->watched_name[i]);
    expect_usable(f);
}

void set_backend_env(fx *f, const char *value)
{
    if (!f->env_saved) {
        const char *old = getenv("CLCNN_BACKEND");
        f->env_old = old ? strdup(old) : NULL;
        f->env_saved = 1;
    }
    if (value)
        setenv("CLCNN_BACKEND", value, 1);
    else
        unsetenv("CLCNN_BACKEND");
}

/* ------------------------------------------------------------------------ */
/* The standard, valid argument sets; each case changes one thing.           */
/* ------------------------------------------------------------------------ */

/* Convolution: a_prev (2, 5, 4, 3), w (fh 3, fw 2, 3, 2), pad 1, stride 1
 * gives z (2, 5, 5, 2). H and W differ everywhere so that a swap shows. */
static const clcnn_conv_params CP = {1, 1, CLCNN_CONV_AUTO};

typedef struct {
    clcnn_tensor *a_prev, *w, *b, *z;
} cf_set;

static cf_set cf(fx *f)
{
    cf_set s;
    s.a_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "a_prev");
    s.w = mk(f, f->ctx, F32, 3, 2, 3, 2, "w");
    s.b = mk(f, f->ctx, F32, 1, 1, 1, 2, "b");
    s.z = mk(f, f->ctx, F32, 2, 5, 5, 2, "z");
    return s;
}

typedef struct {
    clcnn_tensor *dz, *a_prev, *w, *da_prev, *dw, *db;
} cb_set;

static cb_set cb(fx *f)
{
    cb_set s;
    s.dz = mk(f, f->ctx, F32, 2, 5, 5, 2, "dz");
    s.a_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "a_prev");
    s.w = mk(f, f->ctx, F32, 3, 2, 3, 2, "w");
    s.da_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "da_prev");
    s.dw = mk(f, f->ctx, F32, 3, 2, 3, 2, "dw");
    s.db = mk(f, f->ctx, F32, 1, 1, 1, 2, "db");
    return s;
}

/* Pooling: a_prev (2, 5, 4, 3), f 2, stride 2 gives a (2, 2, 2, 3). */
static const clcnn_pool_params PP = {2, 2, CLCNN_POOL_MAX};

typedef struct {
    clcnn_tensor *a_prev, *a;
} pf_set;

static pf_set pf(fx *f)
{
    pf_set s;
    s.a_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "a_prev");
    s.a = mk(f, f->ctx, F32, 2, 2, 2, 3, "a");
    return s;
}

typedef struct {
    clcnn_tensor *da, *a_prev, *da_prev;
} pb_set;

static pb_set pb(fx *f)
{
    pb_set s;
    s.da = mk(f, f->ctx, F32, 2, 2, 2, 3, "da");
    s.a_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "a_prev");
    s.da_prev = mk(f, f->ctx, F32, 2, 5, 4, 3, "da_prev");
    return s;
}

/* Zero padding: x (2, 3, 4, 3), pad 2 gives x_pad (2, 7, 8, 3). */
typedef struct {
    clcnn_tensor *x, *x_pad;
} zp_set;

static zp_set zp(fx *f)
{
    zp_set s;
    s.x = mk(f, f->ctx, F32, 2, 3, 4, 3, "x");
    s.x_pad = mk(f, f->ctx, F32, 2, 7, 8, 3, "x_pad");
    return s;
}

/* ------------------------------------------------------------------------ */
/* The valid sets really are valid (so each case fails for its one change)   */
/* ------------------------------------------------------------------------ */

CASE(baseline_zero_pad_succeeds)
{
    FX;
    zp_set s = zp(f);
    assert_int_equal(clcnn_zero_pad(f->ctx, s.x, 2, s.x_pad), CLCNN_OK);
}

CASE(baseline_conv_forward_succeeds)
{
    FX;
    cf_set s = cf(f);
    assert_int_equal(clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, s.z), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, NULL, CP, s.z), CLCNN_OK);
}

CASE(baseline_conv_backward_succeeds)
{
    FX;
    cb_set s = cb(f);
    assert_int_equal(clcnn_conv2d_backward(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_backward(f->ctx, s.dz, s.a_prev, s.w, CP, NULL, NULL, NULL), CLCNN_OK);
}

CASE(baseline_pool_forward_succeeds)
{
    FX;
    pf_set s = pf(f);
    assert_int_equal(clcnn_pool2d_forward(f->ctx, s.a_prev, PP, s.a), CLCNN_OK);
}

CASE(baseline_pool_backward_succeeds)
{
    FX;
    pb_set s = pb(f);
    assert_int_equal(clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, s.da_prev), CLCNN_OK);
}

CASE(baseline_output_shapes_succeed)
{
    (void)state;
    const int a[4] = {2, 5, 4, 3}, w[4] = {3, 2, 3, 2};
    int o[4];
    assert_int_equal(clcnn_conv2d_output_shape(a, w, CP, o), CLCNN_OK);
    assert_int_equal(o[0], 2);
    assert_int_equal(o[1], 5);
    assert_int_equal(o[2], 5);
    assert_int_equal(o[3], 2);
    assert_int_equal(clcnn_pool2d_output_shape(a, PP, o), CLCNN_OK);
    assert_int_equal(o[0], 2);
    assert_int_equal(o[1], 2);
    assert_int_equal(o[2], 2);
    assert_int_equal(o[3], 3);
}

/* ------------------------------------------------------------------------ */
/* clcnn_context_create, clcnn_finish                                          */
/* ------------------------------------------------------------------------ */

CASE(context_create_rejects_null_out)
{
    FX;
    clcnn_options o = {CLCNN_BACKEND_HOST, NULL};
    EXPECT_FAIL(f, clcnn_context_create(&o, NULL), CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_context_create",
                "out is NULL");
}

CASE(context_create_rejects_unknown_backend)
{
    FX;
    clcnn_options o = {(clcnn_backend)42, NULL};
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, clcnn_context_create(&o, &out), CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_context_create",
                "opts->backend is 42");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_backend_one_past_the_enum)
{
    FX;
    clcnn_options o = {(clcnn_backend)(CLCNN_BACKEND_HOST + 1), NULL};
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, clcnn_context_create(&o, &out), CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_context_create",
                "opts->backend is 3");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_bad_CLCNN_BACKEND_env_with_null_opts)
{
    FX;
    set_backend_env(f, "cuda");
    clcnn_context *out = SENTINEL_CTX;
    clcnn_status s = clcnn_context_create(NULL, &out);
    set_backend_env(f, NULL);
    EXPECT_FAIL(f, s, CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_context_create", "CLCNN_BACKEND", "\"cuda\"");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_with_opts_ignores_bad_CLCNN_BACKEND_env)
{
    FX;
    set_backend_env(f, "cuda");
    clcnn_options o = {CLCNN_BACKEND_HOST, NULL};
    clcnn_context *out = NULL;
    clcnn_status s = clcnn_context_create(&o, &out);
    set_backend_env(f, NULL);
    clcnn_context_destroy(out);
    assert_int_equal(s, CLCNN_OK);
}

/* Why a context asked for device "no-such-device-zz" gets no OpenCL device. */
#ifdef CLCNN_TEST_OPENCL
#define UNMATCHED_REASON "no OpenCL device matches \"no-such-device-zz\""
#else
#define UNMATCHED_REASON "no OpenCL support"
#endif

CASE(context_create_opencl_with_unmatched_device_gives_no_device)
{
    FX;
    clcnn_options o = {CLCNN_BACKEND_OPENCL, "no-such-device-zz"};
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, clcnn_context_create(&o, &out), CLCNN_ERR_NO_DEVICE, NULL, "clcnn_context_create",
                UNMATCHED_REASON);
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_opencl_from_env_with_unmatched_device_gives_no_device)
{
    FX;
    set_backend_env(f, "opencl");
    char *saved = th_env_swap("CLCNN_DEVICE", "no-such-device-zz");
    clcnn_context *out = SENTINEL_CTX;
    clcnn_status s = clcnn_context_create(NULL, &out);
    set_backend_env(f, NULL);
    th_env_restore("CLCNN_DEVICE", saved);
    EXPECT_FAIL(f, s, CLCNN_ERR_NO_DEVICE, NULL, "clcnn_context_create", UNMATCHED_REASON);
    assert_ptr_equal(out, SENTINEL_CTX);
}

/* clcnn_context_create(NULL, &out) with the environment variable name set
 * to value for the call only. */
static clcnn_status create_with_env(const char *name, const char *value, clcnn_context **out)
{
    char *saved = th_env_swap(name, value);
    clcnn_status s = clcnn_context_create(NULL, out);
    th_env_restore(name, saved);
    return s;
}

CASE(context_create_rejects_unparsable_CLCNN_WORKSPACE_LIMIT_env)
{
    FX;
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, create_with_env("CLCNN_WORKSPACE_LIMIT", "lots", &out), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_create", "CLCNN_WORKSPACE_LIMIT", "\"lots\"");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_zero_CLCNN_WORKSPACE_LIMIT_env)
{
    FX;
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, create_with_env("CLCNN_WORKSPACE_LIMIT", "0M", &out), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_create", "CLCNN_WORKSPACE_LIMIT", "\"0M\"", "at least 1");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_unknown_CLCNN_CONV_ALGO_env)
{
    FX;
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, create_with_env("CLCNN_CONV_ALGO", "winograd", &out), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_create", "CLCNN_CONV_ALGO", "\"winograd\"");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_bad_CLCNN_TUNE_env)
{
    FX;
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, create_with_env("CLCNN_TUNE", "yes", &out), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_create", "CLCNN_TUNE", "\"yes\"", "0 or 1");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(context_create_rejects_negative_CLCNN_TUNE_BUDGET_env)
{
    FX;
    clcnn_context *out = SENTINEL_CTX;
    EXPECT_FAIL(f, create_with_env("CLCNN_TUNE_BUDGET", "-1", &out), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_create", "CLCNN_TUNE_BUDGET", "\"-1\"");
    assert_ptr_equal(out, SENTINEL_CTX);
}

CASE(set_tuning_rejects_null_ctx)
{
    FX;
    EXPECT_FAIL(f, clcnn_context_set_tuning(NULL, 1), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_set_tuning", "ctx is NULL");
}

CASE(set_tuning_rejects_a_value_other_than_0_or_1_and_keeps_the_flag)
{
    FX;
    assert_int_equal(clcnn_context_set_tuning(f->ctx, 1), CLCNN_OK);
    EXPECT_FAIL(f, clcnn_context_set_tuning(f->ctx, 2), CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                "clcnn_context_set_tuning", "on is 2");
    assert_int_equal(clcnn_context_tuning(f->ctx), 1);
}

CASE(last_conv_algos_rejects_null_ctx)
{
    FX;
    clcnn_conv_algo algos[3] = {CLCNN_CONV_GEMM, CLCNN_CONV_GEMM, CLCNN_CONV_GEMM};
    EXPECT_FAIL(f, clcnn_context_last_conv_algos(NULL, algos), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_last_conv_algos", "ctx is NULL");
    for (int d = 0; d < 3; d++)
        assert_int_equal(algos[d], CLCNN_CONV_GEMM);
}

CASE(last_conv_algos_rejects_null_algos)
{
    FX;
    EXPECT_FAIL(f, clcnn_context_last_conv_algos(f->ctx, NULL), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_last_conv_algos", "algos is NULL");
}

CASE(set_workspace_limit_rejects_null_ctx)
{
    FX;
    EXPECT_FAIL(f, clcnn_context_set_workspace_limit(NULL, 1024), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_context_set_workspace_limit", "ctx is NULL");
}

CASE(set_workspace_limit_rejects_zero_and_keeps_the_limit)
{
    FX;
    assert_int_equal(clcnn_context_set_workspace_limit(f->ctx, 12345), CLCNN_OK);
    EXPECT_FAIL(f, clcnn_context_set_workspace_limit(f->ctx, 0), CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                "clcnn_context_set_workspace_limit", "bytes is 0");
    assert_int_equal(clcnn_context_workspace_limit(f->ctx), 12345);
}

CASE(finish_rejects_null_ctx)
{
    FX;
    EXPECT_FAIL(f, clcnn_finish(NULL), CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_finish", "ctx is NULL");
}

/* ------------------------------------------------------------------------ */
/* clcnn_tensor_create                                                         */
/* ------------------------------------------------------------------------ */

/* Calls clcnn_tensor_create and checks *out is left alone on failure. */
static void tensor_create_fails(fx *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                                clcnn_status want, const clcnn_context *msg_ctx, const char *needle1,
                                const char *needle2)
{
    clcnn_tensor *out = SENTINEL_TENSOR;
    clcnn_status s = clcnn_tensor_create(ctx, dtype, n, h, w, c, &out);
    if (s == CLCNN_OK && out != SENTINEL_TENSOR)
        own(f, out); /* not expected: keep it from leaking */
    EXPECT_FAIL(f, s, want, msg_ctx, "clcnn_tensor_create", needle1, needle2);
    assert_ptr_equal(out, SENTINEL_TENSOR);
}

CASE(tensor_create_rejects_null_ctx)
{
    FX;
    tensor_create_fails(f, NULL, F32, 1, 2, 3, 4, CLCNN_ERR_INVALID_ARGUMENT, NULL, "ctx is NULL", "ctx");
}

CASE(tensor_create_rejects_null_out)
{
    FX;
    EXPECT_FAIL(f, clcnn_tensor_create(f->ctx, F32, 1, 2, 3, 4, NULL), CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                "clcnn_tensor_create", "out is NULL");
}

CASE(tensor_create_rejects_n_0)
{
    FX;
    tensor_create_fails(f, f->ctx, F32, 0, 2, 3, 4, CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "n is 0", ">= 1");
}

CASE(tensor_create_rejects_h_0)
{
    FX;
    tensor_create_fails(f, f->ctx, F32, 1, 0, 3, 4, CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "h is 0", ">= 1");
}

CASE(tensor_create_rejects_w_negative)
{
    FX;
    tensor_create_fails(f, f->ctx, F64, 1, 2, -3, 4, CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "w is -3", ">= 1");
}

CASE(tensor_create_rejects_c_int_min)
{
    FX;
    char needle[32];
    snprintf(needle, sizeof needle, "c is %d", INT_MIN);
    tensor_create_fails(f, f->ctx, F32, 1, 2, 3, INT_MIN, CLCNN_ERR_INVALID_ARGUMENT, f->ctx, needle, ">= 1");
}

CASE(tensor_create_rejects_unknown_dtype)
{
    FX;
    tensor_create_fails(f, f->ctx, (clcnn_dtype)7, 1, 2, 3, 4, CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                        "dtype is 7", "clcnn_dtype");
}

CASE(tensor_create_rejects_count_overflowing_size_t)
{
    FX;
    tensor_create_fails(f, f->ctx, F32, INT_MAX, INT_MAX, INT_MAX, INT_MAX, CLCNN_ERR_INVALID_ARGUMENT,
                        f->ctx, "(2147483647, 2147483647, 2147483647, 2147483647)", "size_t");
}

/* 2^62 elements fit a 64-bit size_t, their 2^64 bytes as F32 do not. */
CASE(tensor_create_rejects_f32_byte_count_overflowing_size_t)
{
    FX;
    tensor_create_fails(f, f->ctx, F32, 65536, 65536, 65536, 16384, CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                        "(65536, 65536, 65536, 16384)", "size_t");
}

/* 2^61 elements, 2^64 bytes as F64. */
CASE(tensor_create_rejects_f64_byte_count_overflowing_size_t)
{
    FX;
    tensor_create_fails(f, f->ctx, F64, 65536, 65536, 65536, 8192, CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                        "(65536, 65536, 65536, 8192)", "size_t");
}

/* ------------------------------------------------------------------------ */
/* clcnn_tensor_write, clcnn_tensor_read                                       */
/* ------------------------------------------------------------------------ */

CASE(tensor_write_rejects_null_t)
{
    FX;
    const float src[4] = {1, 2, 3, 4};
    EXPECT_FAIL(f, clcnn_tensor_write(NULL, src, sizeof src), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_tensor_write", "t is NULL");
}

CASE(tensor_write_rejects_null_src)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    EXPECT_FAIL(f, clcnn_tensor_write(t, NULL, 96), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_write",
                "src is NULL");
}

CASE(tensor_write_rejects_wrong_nbytes)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    unsigned char src[96];
    memset(src, 0, sizeof src);
    EXPECT_FAIL(f, clcnn_tensor_write(t, src, 95), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_write",
                "nbytes is 95", "96 bytes");
}

CASE(tensor_write_rejects_nbytes_one_long)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    unsigned char src[97];
    memset(src, 0, sizeof src);
    EXPECT_FAIL(f, clcnn_tensor_write(t, src, 97), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_write",
                "nbytes is 97", "96 bytes");
}

/* The F32 size of an F64 tensor: a count of elements is not a count of bytes. */
CASE(tensor_write_rejects_f32_size_for_f64_tensor)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F64, 2, 3, 4, 1, "t");
    unsigned char src[192];
    memset(src, 0, sizeof src);
    EXPECT_FAIL(f, clcnn_tensor_write(t, src, 96), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_write",
                "nbytes is 96", "192 bytes");
}

CASE(tensor_write_rejects_element_count_as_nbytes)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    unsigned char src[96];
    memset(src, 0, sizeof src);
    EXPECT_FAIL(f, clcnn_tensor_write(t, src, 24), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_write",
                "nbytes is 24", "96 bytes");
}

CASE(tensor_read_rejects_null_t)
{
    FX;
    unsigned char dst[16], before[16];
    memset(dst, 0x5A, sizeof dst);
    memcpy(before, dst, sizeof dst);
    EXPECT_FAIL(f, clcnn_tensor_read(NULL, dst, sizeof dst), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                "clcnn_tensor_read", "t is NULL");
    assert_memory_equal(dst, before, sizeof dst);
}

CASE(tensor_read_rejects_null_dst)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    EXPECT_FAIL(f, clcnn_tensor_read(t, NULL, 96), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_read",
                "dst is NULL");
}

CASE(tensor_read_rejects_wrong_nbytes)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F32, 2, 3, 4, 1, "t");
    unsigned char dst[200], before[200];
    memset(dst, 0x5A, sizeof dst);
    memcpy(before, dst, sizeof dst);
    EXPECT_FAIL(f, clcnn_tensor_read(t, dst, 100), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_read",
                "nbytes is 100", "96 bytes");
    assert_memory_equal(dst, before, sizeof dst);
}

CASE(tensor_read_rejects_zero_nbytes)
{
    FX;
    clcnn_tensor *t = mk(f, f->ctx, F64, 2, 3, 4, 1, "t");
    unsigned char dst[192], before[192];
    memset(dst, 0x5A, sizeof dst);
    memcpy(before, dst, sizeof dst);
    EXPECT_FAIL(f, clcnn_tensor_read(t, dst, 0), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, "clcnn_tensor_read",
                "nbytes is 0", "192 bytes");
    assert_memory_equal(dst, before, sizeof dst);
}

/* ------------------------------------------------------------------------ */
/* clcnn_conv2d_output_shape, clcnn_pool2d_output_shape                        */
/* ------------------------------------------------------------------------ */

static const int OUT_UNTOUCHED[4] = {-7, -7, -7, -7};

static void conv_shape_fails(fx *f, const int *a, const int *w, clcnn_conv_params p, int with_out,
                             clcnn_status want, const char *needle1, const char *needle2)
{
    int out[4];
    memcpy(out, OUT_UNTOUCHED, sizeof out);
    clcnn_status s = clcnn_conv2d_output_shape(a, w, p, with_out ? out : NULL);
    EXPECT_FAIL(f, s, want, NULL, "clcnn_conv2d_output_shape", needle1, needle2);
    assert_memory_equal(out, OUT_UNTOUCHED, sizeof out);
}

static void pool_shape_fails(fx *f, const int *a, clcnn_pool_params p, int with_out, clcnn_status want,
                             const char *needle1, const char *needle2)
{
    int out[4];
    memcpy(out, OUT_UNTOUCHED, sizeof out);
    clcnn_status s = clcnn_pool2d_output_shape(a, p, with_out ? out : NULL);
    EXPECT_FAIL(f, s, want, NULL, "clcnn_pool2d_output_shape", needle1, needle2);
    assert_memory_equal(out, OUT_UNTOUCHED, sizeof out);
}

static const int A_DIMS[4] = {2, 5, 4, 3}, W_DIMS[4] = {3, 2, 3, 2};

CASE(conv_output_shape_rejects_null_a_prev_dims)
{
    FX;
    conv_shape_fails(f, NULL, W_DIMS, CP, 1, CLCNN_ERR_INVALID_ARGUMENT, "a_prev_dims is NULL", "NULL");
}

CASE(conv_output_shape_rejects_null_w_dims)
{
    FX;
    conv_shape_fails(f, A_DIMS, NULL, CP, 1, CLCNN_ERR_INVALID_ARGUMENT, "w_dims is NULL", "NULL");
}

CASE(conv_output_shape_rejects_null_out_dims)
{
    FX;
    conv_shape_fails(f, A_DIMS, W_DIMS, CP, 0, CLCNN_ERR_INVALID_ARGUMENT, "out_dims is NULL", "NULL");
}

CASE(conv_output_shape_rejects_a_prev_dim_0)
{
    FX;
    const int a[4] = {2, 0, 4, 3};
    conv_shape_fails(f, a, W_DIMS, CP, 1, CLCNN_ERR_INVALID_ARGUMENT, "a_prev", "[1] is 0");
}

CASE(conv_output_shape_rejects_w_dim_negative)
{
    FX;
    const int w[4] = {3, 2, 3, -1};
    conv_shape_fails(f, A_DIMS, w, CP, 1, CLCNN_ERR_INVALID_ARGUMENT, "w", "[3] is -1");
}

CASE(conv_output_shape_rejects_stride_0)
{
    FX;
    conv_shape_fails(f, A_DIMS, W_DIMS, (clcnn_conv_params){0, 1, CLCNN_CONV_AUTO}, 1,
                     CLCNN_ERR_INVALID_ARGUMENT, "p.stride is 0", ">= 1");
}

CASE(conv_output_shape_rejects_pad_negative)
{
    FX;
    conv_shape_fails(f, A_DIMS, W_DIMS, (clcnn_conv_params){1, -1, CLCNN_CONV_AUTO}, 1,
                     CLCNN_ERR_INVALID_ARGUMENT, "p.pad is -1", ">= 0");
}

CASE(conv_output_shape_rejects_unknown_algo)
{
    FX;
    conv_shape_fails(f, A_DIMS, W_DIMS, (clcnn_conv_params){1, 1, (clcnn_conv_algo)3}, 1,
                     CLCNN_ERR_INVALID_ARGUMENT, "p.algo is 3", "clcnn_conv_algo");
}

CASE(conv_output_shape_rejects_w_channels_not_matching_a_prev)
{
    FX;
    const int w[4] = {3, 2, 4, 2};
    conv_shape_fails(f, A_DIMS, w, CP, 1, CLCNN_ERR_SHAPE, "w has 4 input channels", "a_prev has 3");
}

CASE(conv_output_shape_rejects_filter_taller_than_padded_input)
{
    FX;
    const int w[4] = {8, 2, 3, 2};
    conv_shape_fails(f, A_DIMS, w, CP, 1, CLCNN_ERR_SHAPE, "fh = 8", "padded input H 7");
}

CASE(conv_output_shape_rejects_filter_wider_than_padded_input)
{
    FX;
    const int w[4] = {3, 7, 3, 2};
    conv_shape_fails(f, A_DIMS, w, CP, 1, CLCNN_ERR_SHAPE, "fw = 7", "padded input W 6");
}

CASE(conv_output_shape_rejects_padded_size_overflowing_int)
{
    FX;
    conv_shape_fails(f, A_DIMS, W_DIMS, (clcnn_conv_params){1, INT_MAX / 2 + 1, CLCNN_CONV_AUTO}, 1,
                     CLCNN_ERR_INVALID_ARGUMENT, "2*pad 2147483648, pad 1073741824", "overflows int");
}

/* The padded input's 2^62 elements as doubles (the reference path's copy)
 * overflow size_t; the message must say which argument is too large. */
CASE(conv_output_shape_rejects_padded_bytes_overflowing_size_t)
{
    FX;
    const int a[4] = {65536, 65536, 65536, 16384}, w[4] = {1, 1, 16384, 1};
    conv_shape_fails(f, a, w, (clcnn_conv_params){1, 0, CLCNN_CONV_AUTO}, 1, CLCNN_ERR_INVALID_ARGUMENT,
                     "size_t", "a_prev");
}

CASE(pool_output_shape_rejects_null_a_prev_dims)
{
    FX;
    pool_shape_fails(f, NULL, PP, 1, CLCNN_ERR_INVALID_ARGUMENT, "a_prev_dims is NULL", "NULL");
}

CASE(pool_output_shape_rejects_null_out_dims)
{
    FX;
    pool_shape_fails(f, A_DIMS, PP, 0, CLCNN_ERR_INVALID_ARGUMENT, "out_dims is NULL", "NULL");
}

CASE(pool_output_shape_rejects_a_prev_dim_0)
{
    FX;
    const int a[4] = {2, 5, 0, 3};
    pool_shape_fails(f, a, PP, 1, CLCNN_ERR_INVALID_ARGUMENT, "a_prev", "[2] is 0");
}

CASE(pool_output_shape_rejects_f_0)
{
    FX;
    pool_shape_fails(f, A_DIMS, (clcnn_pool_params){0, 2, CLCNN_POOL_MAX}, 1, CLCNN_ERR_INVALID_ARGUMENT,
                     "p.f is 0", ">= 1");
}

CASE(pool_output_shape_rejects_stride_negative)
{
    FX;
    pool_shape_fails(f, A_DIMS, (clcnn_pool_params){2, -2, CLCNN_POOL_MAX}, 1, CLCNN_ERR_INVALID_ARGUMENT,
                     "p.stride is -2", ">= 1");
}

CASE(pool_output_shape_rejects_unknown_mode)
{
    FX;
    pool_shape_fails(f, A_DIMS, (clcnn_pool_params){2, 2, (clcnn_pool_mode)9}, 1, CLCNN_ERR_INVALID_ARGUMENT,
                     "p.mode is 9", "clcnn_pool_mode");
}

CASE(pool_output_shape_rejects_window_taller_than_input)
{
    FX;
    pool_shape_fails(f, A_DIMS, (clcnn_pool_params){6, 1, CLCNN_POOL_MAX}, 1, CLCNN_ERR_SHAPE, "f = 6",
                     "input H 5");
}

CASE(pool_output_shape_rejects_window_wider_than_input)
{
    FX;
    pool_shape_fails(f, A_DIMS, (clcnn_pool_params){5, 1, CLCNN_POOL_AVG}, 1, CLCNN_ERR_SHAPE, "f = 5",
                     "input W 4");
}

/* ------------------------------------------------------------------------ */
/* clcnn_zero_pad                                                              */
/* ------------------------------------------------------------------------ */

#define ZP "clcnn_zero_pad"

CASE(zero_pad_rejects_null_ctx)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(NULL, s.x, 2, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, NULL, ZP,
                "ctx is NULL");
}

CASE(zero_pad_rejects_null_x)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, NULL, 2, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                ": x is NULL");
}

CASE(zero_pad_rejects_null_x_pad)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, NULL), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                ": x_pad is NULL");
}

CASE(zero_pad_rejects_x_of_another_context)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x = mk(f, f->other, F32, 2, 3, 4, 3, "x (other context)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, x, 2, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                ": x belongs to another context");
}

CASE(zero_pad_rejects_x_pad_of_another_context)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x_pad = mk(f, f->other, F32, 2, 7, 8, 3, "x_pad (other context)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                ": x_pad belongs to another context");
}

CASE(zero_pad_rejects_x_pad_dtype_not_matching_x)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x_pad = mk(f, f->ctx, F64, 2, 7, 8, 3, "x_pad (F64)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                "x_pad is F64", "x is F32");
}

CASE(zero_pad_rejects_x_dtype_not_matching_x_pad)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x = mk(f, f->ctx, F64, 2, 3, 4, 3, "x (F64)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, x, 2, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                "x_pad is F32", "x is F64");
}

CASE(zero_pad_rejects_x_pad_same_as_x)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 0, s.x), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                "x_pad is the same tensor as x");
}

CASE(zero_pad_rejects_pad_negative)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, -1, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                "pad is -1", ">= 0");
}

CASE(zero_pad_rejects_pad_int_min)
{
    FX;
    zp_set s = zp(f);
    char needle[32];
    snprintf(needle, sizeof needle, "pad is %d", INT_MIN);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, INT_MIN, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                needle);
}

CASE(zero_pad_rejects_padded_size_overflowing_int)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, INT_MAX / 2, s.x_pad), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, ZP,
                "pad 1073741823", "overflows int");
}

CASE(zero_pad_rejects_x_pad_shape_of_another_pad)
{
    FX;
    zp_set s = zp(f);
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 1, s.x_pad), CLCNN_ERR_SHAPE, f->ctx, ZP,
                "x_pad has shape (2, 7, 8, 3)", "(2, 5, 6, 3)");
}

CASE(zero_pad_rejects_x_pad_with_other_channels)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x_pad = mk(f, f->ctx, F32, 2, 7, 8, 4, "x_pad (4 channels)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, x_pad), CLCNN_ERR_SHAPE, f->ctx, ZP,
                "x_pad has shape (2, 7, 8, 4)", "(2, 7, 8, 3)");
}

CASE(zero_pad_rejects_x_pad_with_other_batch)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x_pad = mk(f, f->ctx, F32, 1, 7, 8, 3, "x_pad (batch 1)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, x_pad), CLCNN_ERR_SHAPE, f->ctx, ZP,
                "x_pad has shape (1, 7, 8, 3)", "(2, 7, 8, 3)");
}

CASE(zero_pad_rejects_x_pad_with_h_and_w_swapped)
{
    FX;
    zp_set s = zp(f);
    clcnn_tensor *x_pad = mk(f, f->ctx, F32, 2, 8, 7, 3, "x_pad (H and W swapped)");
    EXPECT_FAIL(f, clcnn_zero_pad(f->ctx, s.x, 2, x_pad), CLCNN_ERR_SHAPE, f->ctx, ZP,
                "x_pad has shape (2, 8, 7, 3)", "(2, 7, 8, 3)");
}

/* ------------------------------------------------------------------------ */
/* clcnn_conv2d_forward                                                        */
/* ------------------------------------------------------------------------ */

#define CF "clcnn_conv2d_forward"

CASE(conv_forward_rejects_null_ctx)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(NULL, s.a_prev, s.w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT, NULL,
                CF, "ctx is NULL");
}

CASE(conv_forward_rejects_null_a_prev)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, NULL, s.w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                CF, ": a_prev is NULL");
}

CASE(conv_forward_rejects_null_w)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, NULL, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": w is NULL");
}

CASE(conv_forward_rejects_null_z)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, NULL), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": z is NULL");
}

CASE(conv_forward_rejects_a_prev_of_another_context)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *a_prev = mk(f, f->other, F32, 2, 5, 4, 3, "a_prev (other context)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, a_prev, s.w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": a_prev belongs to another context");
}

CASE(conv_forward_rejects_w_of_another_context)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *w = mk(f, f->other, F32, 3, 2, 3, 2, "w (other context)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": w belongs to another context");
}

CASE(conv_forward_rejects_b_of_another_context)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *b = mk(f, f->other, F32, 1, 1, 1, 2, "b (other context)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": b belongs to another context");
}

CASE(conv_forward_rejects_z_of_another_context)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *z = mk(f, f->other, F32, 2, 5, 5, 2, "z (other context)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": z belongs to another context");
}

CASE(conv_forward_rejects_a_prev_dtype_not_matching_the_others)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *a_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "a_prev (F64)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, a_prev, s.w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, "a_prev is F64");
}

CASE(conv_forward_rejects_w_dtype_not_matching_a_prev)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *w = mk(f, f->ctx, F64, 3, 2, 3, 2, "w (F64)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, w, s.b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": w is F64", "a_prev is F32");
}

CASE(conv_forward_rejects_b_dtype_not_matching_a_prev)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *b = mk(f, f->ctx, F64, 1, 1, 1, 2, "b (F64)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, b, CP, s.z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": b is F64", "a_prev is F32");
}

CASE(conv_forward_rejects_z_dtype_not_matching_a_prev)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *z = mk(f, f->ctx, F64, 2, 5, 5, 2, "z (F64)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, z), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, ": z is F64", "a_prev is F32");
}

CASE(conv_forward_rejects_z_same_as_a_prev)
{
    FX;
    /* a_prev of z's shape and w keeping it: only the aliasing is wrong. */
    clcnn_tensor *a_prev = mk(f, f->ctx, F32, 2, 5, 5, 2, "a_prev");
    clcnn_tensor *w = mk(f, f->ctx, F32, 3, 3, 2, 2, "w");
    clcnn_tensor *b = mk(f, f->ctx, F32, 1, 1, 1, 2, "b");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, a_prev, w, b, CP, a_prev), CLCNN_ERR_INVALID_ARGUMENT, f->ctx,
                CF, "z is the same tensor as a_prev");
}

CASE(conv_forward_rejects_z_same_as_w)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, s.w), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, "z is the same tensor as w");
}

CASE(conv_forward_rejects_z_same_as_b)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, s.b), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CF, "z is the same tensor as b");
}

CASE(conv_forward_rejects_stride_0)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(
        f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, (clcnn_conv_params){0, 1, CLCNN_CONV_AUTO}, s.z),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "p.stride is 0", ">= 1");
}

CASE(conv_forward_rejects_stride_negative)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(
        f,
        clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, (clcnn_conv_params){-3, 1, CLCNN_CONV_DIRECT}, s.z),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "p.stride is -3", ">= 1");
}

CASE(conv_forward_rejects_pad_negative)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(
        f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, (clcnn_conv_params){1, -1, CLCNN_CONV_GEMM}, s.z),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "p.pad is -1", ">= 0");
}

CASE(conv_forward_rejects_unknown_algo)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(
        f,
        clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, (clcnn_conv_params){1, 1, (clcnn_conv_algo)7}, s.z),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "p.algo is 7", "clcnn_conv_algo");
}

CASE(conv_forward_rejects_filter_taller_than_padded_input)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 8, 2, 3, 2, "w (fh 8)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, w, s.b, CP, s.z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "fh = 8", "padded input H 7");
}

CASE(conv_forward_rejects_filter_wider_than_padded_input)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 3, 7, 3, 2, "w (fw 7)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, w, s.b, CP, s.z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "fw = 7", "padded input W 6");
}

CASE(conv_forward_rejects_w_channels_not_matching_a_prev)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 3, 2, 4, 2, "w (4 input channels)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, w, s.b, CP, s.z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "w has 4 input channels", "a_prev has 3");
}

CASE(conv_forward_rejects_b_of_wrong_length)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *b = mk(f, f->ctx, F32, 1, 1, 1, 3, "b (3 channels)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, b, CP, s.z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "b has shape (1, 1, 1, 3)", "(1, 1, 1, 2)");
}

CASE(conv_forward_rejects_b_not_shaped_1_1_1_n_C)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *b = mk(f, f->ctx, F32, 2, 1, 1, 1, "b (2, 1, 1, 1)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, b, CP, s.z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "b has shape (2, 1, 1, 1)", "(1, 1, 1, 2)");
}

CASE(conv_forward_rejects_z_of_wrong_height)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *z = mk(f, f->ctx, F32, 2, 4, 5, 2, "z (H 4)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "z has shape (2, 4, 5, 2)", "(2, 5, 5, 2)");
}

CASE(conv_forward_rejects_z_of_wrong_channels)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *z = mk(f, f->ctx, F32, 2, 5, 5, 3, "z (3 channels)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b, CP, z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "z has shape (2, 5, 5, 3)", "(2, 5, 5, 2)");
}

CASE(conv_forward_rejects_z_of_wrong_batch)
{
    FX;
    cf_set s = cf(f);
    clcnn_tensor *z = mk(f, f->ctx, F32, 1, 5, 5, 2, "z (batch 1)");
    EXPECT_FAIL(f, clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, NULL, CP, z), CLCNN_ERR_SHAPE, f->ctx, CF,
                "z has shape (1, 5, 5, 2)", "(2, 5, 5, 2)");
}

CASE(conv_forward_rejects_padded_size_overflowing_int)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f,
                clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b,
                                     (clcnn_conv_params){1, INT_MAX / 2 + 1, CLCNN_CONV_AUTO}, s.z),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "2*pad 2147483648, pad 1073741824", "overflows int");
}

/* Padded to (2, 2147483647, 2147483646, 3): each side fits an int, the
 * element count as doubles does not fit size_t. */
CASE(conv_forward_rejects_padded_bytes_overflowing_size_t)
{
    FX;
    cf_set s = cf(f);
    EXPECT_FAIL(f,
                clcnn_conv2d_forward(f->ctx, s.a_prev, s.w, s.b,
                                     (clcnn_conv_params){1, INT_MAX / 2 - 2, CLCNN_CONV_AUTO}, s.z),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CF, "size_t", "a_prev", "1073741821");
}

/* ------------------------------------------------------------------------ */
/* clcnn_conv2d_backward                                                       */
/* ------------------------------------------------------------------------ */

#define CB "clcnn_conv2d_backward"
#define CB_CALL(ctx, dz, a_prev, w, p, da_prev, dw, db)                                                      \
    clcnn_conv2d_backward(ctx, dz, a_prev, w, p, da_prev, dw, db)

CASE(conv_backward_rejects_null_ctx)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(NULL, s.dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                NULL, CB, "ctx is NULL");
}

CASE(conv_backward_rejects_null_dz)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, NULL, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, ": dz is NULL");
}

CASE(conv_backward_rejects_null_a_prev)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, NULL, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": a_prev is NULL");
}

CASE(conv_backward_rejects_null_w)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, NULL, CP, s.da_prev, s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, ": w is NULL");
}

CASE(conv_backward_rejects_dz_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dz = mk(f, f->other, F32, 2, 5, 5, 2, "dz (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": dz belongs to another context");
}

CASE(conv_backward_rejects_a_prev_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *a_prev = mk(f, f->other, F32, 2, 5, 4, 3, "a_prev (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": a_prev belongs to another context");
}

CASE(conv_backward_rejects_w_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *w = mk(f, f->other, F32, 3, 2, 3, 2, "w (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": w belongs to another context");
}

CASE(conv_backward_rejects_da_prev_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *da_prev = mk(f, f->other, F32, 2, 5, 4, 3, "da_prev (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": da_prev belongs to another context");
}

CASE(conv_backward_rejects_dw_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dw = mk(f, f->other, F32, 3, 2, 3, 2, "dw (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": dw belongs to another context");
}

CASE(conv_backward_rejects_db_of_another_context)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *db = mk(f, f->other, F32, 1, 1, 1, 2, "db (other context)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.dw, db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": db belongs to another context");
}

CASE(conv_backward_rejects_a_prev_dtype_not_matching_dz)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *a_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "a_prev (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": a_prev is F64", "dz is F32");
}

CASE(conv_backward_rejects_w_dtype_not_matching_dz)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *w = mk(f, f->ctx, F64, 3, 2, 3, 2, "w (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": w is F64", "dz is F32");
}

CASE(conv_backward_rejects_dz_dtype_not_matching_the_others)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dz = mk(f, f->ctx, F64, 2, 5, 5, 2, "dz (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "dz is F64");
}

CASE(conv_backward_rejects_da_prev_dtype_not_matching_dz)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "da_prev (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, da_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": da_prev is F64", "dz is F32");
}

CASE(conv_backward_rejects_dw_dtype_not_matching_dz)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dw = mk(f, f->ctx, F64, 3, 2, 3, 2, "dw (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": dw is F64", "dz is F32");
}

CASE(conv_backward_rejects_db_dtype_not_matching_dz)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *db = mk(f, f->ctx, F64, 1, 1, 1, 2, "db (F64)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, NULL, NULL, db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, ": db is F64", "dz is F32");
}

CASE(conv_backward_rejects_da_prev_same_as_dw)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.dw, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "da_prev is the same tensor as dw");
}

CASE(conv_backward_rejects_dw_same_as_db)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.db, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "dw is the same tensor as db");
}

CASE(conv_backward_rejects_da_prev_same_as_db)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, NULL, s.da_prev),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "da_prev is the same tensor as db");
}

CASE(conv_backward_rejects_da_prev_same_as_a_prev)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.a_prev, s.dw, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "da_prev is the same tensor as a_prev");
}

CASE(conv_backward_rejects_da_prev_same_as_dz)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.dz, NULL, NULL), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "da_prev is the same tensor as dz");
}

CASE(conv_backward_rejects_dw_same_as_w)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.w, s.db), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "dw is the same tensor as w");
}

CASE(conv_backward_rejects_dw_same_as_a_prev)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, NULL, s.a_prev, NULL), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "dw is the same tensor as a_prev");
}

CASE(conv_backward_rejects_db_same_as_dz)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.dz),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "db is the same tensor as dz");
}

CASE(conv_backward_rejects_db_same_as_w)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, NULL, NULL, s.w), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, CB, "db is the same tensor as w");
}

CASE(conv_backward_rejects_stride_0)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f,
                CB_CALL(f->ctx, s.dz, s.a_prev, s.w, ((clcnn_conv_params){0, 1, CLCNN_CONV_AUTO}), s.da_prev,
                        s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "p.stride is 0", ">= 1");
}

CASE(conv_backward_rejects_pad_negative)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f,
                CB_CALL(f->ctx, s.dz, s.a_prev, s.w, ((clcnn_conv_params){1, -2, CLCNN_CONV_AUTO}), s.da_prev,
                        s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "p.pad is -2", ">= 0");
}

CASE(conv_backward_rejects_unknown_algo)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f,
                CB_CALL(f->ctx, s.dz, s.a_prev, s.w, ((clcnn_conv_params){1, 1, (clcnn_conv_algo)99}),
                        s.da_prev, s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "p.algo is 99", "clcnn_conv_algo");
}

CASE(conv_backward_rejects_filter_taller_than_padded_input)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 8, 2, 3, 2, "w (fh 8)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, w, CP, s.da_prev, NULL, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                "fh = 8", "padded input H 7");
}

CASE(conv_backward_rejects_filter_wider_than_padded_input)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 3, 7, 3, 2, "w (fw 7)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, w, CP, s.da_prev, NULL, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                "fw = 7", "padded input W 6");
}

CASE(conv_backward_rejects_w_channels_not_matching_a_prev)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *w = mk(f, f->ctx, F32, 3, 2, 4, 2, "w (4 input channels)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, w, CP, s.da_prev, NULL, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                "w has 4 input channels", "a_prev has 3");
}

CASE(conv_backward_rejects_dz_of_wrong_shape)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dz = mk(f, f->ctx, F32, 2, 5, 4, 2, "dz (W 4)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, dz, s.a_prev, s.w, CP, s.da_prev, s.dw, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": dz has shape (2, 5, 4, 2)", "(2, 5, 5, 2)");
}

CASE(conv_backward_rejects_dz_of_wrong_channels)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dz = mk(f, f->ctx, F32, 2, 5, 5, 3, "dz (3 channels)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, dz, s.a_prev, s.w, CP, NULL, NULL, NULL), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": dz has shape (2, 5, 5, 3)", "(2, 5, 5, 2)");
}

CASE(conv_backward_rejects_da_prev_of_wrong_shape)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F32, 2, 5, 4, 2, "da_prev (2 channels)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, da_prev, s.dw, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": da_prev has shape (2, 5, 4, 2)", "(2, 5, 4, 3)");
}

/* The padded input's shape is not the gradient's shape. */
CASE(conv_backward_rejects_da_prev_of_padded_shape)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F32, 2, 7, 6, 3, "da_prev (padded shape)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, da_prev, s.dw, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": da_prev has shape (2, 7, 6, 3)", "(2, 5, 4, 3)");
}

CASE(conv_backward_rejects_dw_of_wrong_shape)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *dw = mk(f, f->ctx, F32, 2, 3, 3, 2, "dw (fh and fw swapped)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, dw, s.db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": dw has shape (2, 3, 3, 2)", "(3, 2, 3, 2)");
}

CASE(conv_backward_rejects_db_of_wrong_shape)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *db = mk(f, f->ctx, F32, 1, 1, 1, 3, "db (3 channels)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, s.da_prev, s.dw, db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": db has shape (1, 1, 1, 3)", "(1, 1, 1, 2)");
}

CASE(conv_backward_rejects_db_of_wrong_shape_when_alone)
{
    FX;
    cb_set s = cb(f);
    clcnn_tensor *db = mk(f, f->ctx, F32, 1, 1, 2, 1, "db (1, 1, 2, 1)");
    EXPECT_FAIL(f, CB_CALL(f->ctx, s.dz, s.a_prev, s.w, CP, NULL, NULL, db), CLCNN_ERR_SHAPE, f->ctx, CB,
                ": db has shape (1, 1, 2, 1)", "(1, 1, 1, 2)");
}

CASE(conv_backward_rejects_padded_size_overflowing_int)
{
    FX;
    cb_set s = cb(f);
    EXPECT_FAIL(f,
                CB_CALL(f->ctx, s.dz, s.a_prev, s.w,
                        ((clcnn_conv_params){1, INT_MAX / 2 + 1, CLCNN_CONV_AUTO}), s.da_prev, s.dw, s.db),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, CB, "2*pad 2147483648, pad 1073741824", "overflows int");
}

/* ------------------------------------------------------------------------ */
/* clcnn_pool2d_forward                                                        */
/* ------------------------------------------------------------------------ */

#define PF "clcnn_pool2d_forward"

CASE(pool_forward_rejects_null_ctx)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(NULL, s.a_prev, PP, s.a), CLCNN_ERR_INVALID_ARGUMENT, NULL, PF,
                "ctx is NULL");
}

CASE(pool_forward_rejects_null_a_prev)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, NULL, PP, s.a), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a_prev is NULL");
}

CASE(pool_forward_rejects_null_a)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, PP, NULL), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a is NULL");
}

CASE(pool_forward_rejects_a_prev_of_another_context)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a_prev = mk(f, f->other, F32, 2, 5, 4, 3, "a_prev (other context)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, a_prev, PP, s.a), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a_prev belongs to another context");
}

CASE(pool_forward_rejects_a_of_another_context)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a = mk(f, f->other, F32, 2, 2, 2, 3, "a (other context)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, PP, a), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a belongs to another context");
}

CASE(pool_forward_rejects_a_dtype_not_matching_a_prev)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a = mk(f, f->ctx, F64, 2, 2, 2, 3, "a (F64)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, PP, a), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a is F64", "a_prev is F32");
}

CASE(pool_forward_rejects_a_prev_dtype_not_matching_a)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "a_prev (F64)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, a_prev, PP, s.a), CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF,
                ": a is F32", "a_prev is F64");
}

CASE(pool_forward_rejects_a_same_as_a_prev)
{
    FX;
    pf_set s = pf(f);
    /* f 1, stride 1 keeps the shape: only the aliasing is wrong. */
    EXPECT_FAIL(f,
                clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){1, 1, CLCNN_POOL_MAX}, s.a_prev),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF, "a is the same tensor as a_prev");
}

CASE(pool_forward_rejects_f_0)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){0, 2, CLCNN_POOL_MAX}, s.a),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF, "p.f is 0", ">= 1");
}

CASE(pool_forward_rejects_f_negative)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){-2, 2, CLCNN_POOL_AVG}, s.a),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF, "p.f is -2", ">= 1");
}

CASE(pool_forward_rejects_stride_0)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){2, 0, CLCNN_POOL_MAX}, s.a),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF, "p.stride is 0", ">= 1");
}

CASE(pool_forward_rejects_unknown_mode)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){2, 2, (clcnn_pool_mode)2}, s.a),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PF, "p.mode is 2", "clcnn_pool_mode");
}

CASE(pool_forward_rejects_window_taller_than_input)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){6, 1, CLCNN_POOL_MAX}, s.a),
                CLCNN_ERR_SHAPE, f->ctx, PF, "f = 6", "input H 5");
}

CASE(pool_forward_rejects_window_wider_than_input)
{
    FX;
    pf_set s = pf(f);
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, (clcnn_pool_params){5, 1, CLCNN_POOL_MAX}, s.a),
                CLCNN_ERR_SHAPE, f->ctx, PF, "f = 5", "input W 4");
}

CASE(pool_forward_rejects_a_of_wrong_shape)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a = mk(f, f->ctx, F32, 2, 2, 1, 3, "a (W 1)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, PP, a), CLCNN_ERR_SHAPE, f->ctx, PF,
                ": a has shape (2, 2, 1, 3)", "(2, 2, 2, 3)");
}

CASE(pool_forward_rejects_a_of_wrong_channels)
{
    FX;
    pf_set s = pf(f);
    clcnn_tensor *a = mk(f, f->ctx, F32, 2, 2, 2, 1, "a (1 channel)");
    EXPECT_FAIL(f, clcnn_pool2d_forward(f->ctx, s.a_prev, PP, a), CLCNN_ERR_SHAPE, f->ctx, PF,
                ": a has shape (2, 2, 2, 1)", "(2, 2, 2, 3)");
}

/* ------------------------------------------------------------------------ */
/* clcnn_pool2d_backward                                                       */
/* ------------------------------------------------------------------------ */

#define PB "clcnn_pool2d_backward"

CASE(pool_backward_rejects_null_ctx)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f, clcnn_pool2d_backward(NULL, s.da, s.a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                NULL, PB, "ctx is NULL");
}

CASE(pool_backward_rejects_null_da)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, NULL, s.a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": da is NULL");
}

CASE(pool_backward_rejects_null_a_prev)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, NULL, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": a_prev is NULL");
}

CASE(pool_backward_rejects_null_da_prev)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, NULL), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": da_prev is NULL");
}

CASE(pool_backward_rejects_da_of_another_context)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da = mk(f, f->other, F32, 2, 2, 2, 3, "da (other context)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, da, s.a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": da belongs to another context");
}

CASE(pool_backward_rejects_a_prev_of_another_context)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *a_prev = mk(f, f->other, F32, 2, 5, 4, 3, "a_prev (other context)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": a_prev belongs to another context");
}

CASE(pool_backward_rejects_da_prev_of_another_context)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da_prev = mk(f, f->other, F32, 2, 5, 4, 3, "da_prev (other context)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": da_prev belongs to another context");
}

CASE(pool_backward_rejects_a_prev_dtype_not_matching_da)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *a_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "a_prev (F64)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": a_prev is F64", "da is F32");
}

CASE(pool_backward_rejects_da_prev_dtype_not_matching_da)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F64, 2, 5, 4, 3, "da_prev (F64)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, ": da_prev is F64", "da is F32");
}

CASE(pool_backward_rejects_da_dtype_not_matching_the_others)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da = mk(f, f->ctx, F64, 2, 2, 2, 3, "da (F64)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, da, s.a_prev, PP, s.da_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, "da is F64");
}

CASE(pool_backward_rejects_da_prev_same_as_a_prev)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, s.a_prev), CLCNN_ERR_INVALID_ARGUMENT,
                f->ctx, PB, "da_prev is the same tensor as a_prev");
}

CASE(pool_backward_rejects_da_prev_same_as_da)
{
    FX;
    pb_set s = pb(f);
    /* f 1, stride 1: da has a_prev's shape, so only the aliasing is wrong. */
    clcnn_tensor *da = mk(f, f->ctx, F32, 2, 5, 4, 3, "da (2, 5, 4, 3)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, da, s.a_prev, (clcnn_pool_params){1, 1, CLCNN_POOL_AVG}, da),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PB, "da_prev is the same tensor as da");
}

CASE(pool_backward_rejects_f_0)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(
        f,
        clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, (clcnn_pool_params){0, 2, CLCNN_POOL_MAX}, s.da_prev),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PB, "p.f is 0", ">= 1");
}

CASE(pool_backward_rejects_stride_negative)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(
        f,
        clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, (clcnn_pool_params){2, -1, CLCNN_POOL_AVG}, s.da_prev),
        CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PB, "p.stride is -1", ">= 1");
}

CASE(pool_backward_rejects_unknown_mode)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(f,
                clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, (clcnn_pool_params){2, 2, (clcnn_pool_mode)5},
                                      s.da_prev),
                CLCNN_ERR_INVALID_ARGUMENT, f->ctx, PB, "p.mode is 5", "clcnn_pool_mode");
}

CASE(pool_backward_rejects_window_taller_than_input)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(
        f,
        clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, (clcnn_pool_params){6, 1, CLCNN_POOL_MAX}, s.da_prev),
        CLCNN_ERR_SHAPE, f->ctx, PB, "f = 6", "input H 5");
}

CASE(pool_backward_rejects_window_wider_than_input)
{
    FX;
    pb_set s = pb(f);
    EXPECT_FAIL(
        f,
        clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, (clcnn_pool_params){5, 1, CLCNN_POOL_AVG}, s.da_prev),
        CLCNN_ERR_SHAPE, f->ctx, PB, "f = 5", "input W 4");
}

CASE(pool_backward_rejects_da_of_wrong_shape)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da = mk(f, f->ctx, F32, 2, 3, 2, 3, "da (H 3)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, da, s.a_prev, PP, s.da_prev), CLCNN_ERR_SHAPE, f->ctx, PB,
                ": da has shape (2, 3, 2, 3)", "(2, 2, 2, 3)");
}

CASE(pool_backward_rejects_da_prev_of_wrong_shape)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F32, 2, 4, 5, 3, "da_prev (H and W swapped)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, da_prev), CLCNN_ERR_SHAPE, f->ctx, PB,
                ": da_prev has shape (2, 4, 5, 3)", "(2, 5, 4, 3)");
}

CASE(pool_backward_rejects_da_prev_of_wrong_channels)
{
    FX;
    pb_set s = pb(f);
    clcnn_tensor *da_prev = mk(f, f->ctx, F32, 2, 5, 4, 1, "da_prev (1 channel)");
    EXPECT_FAIL(f, clcnn_pool2d_backward(f->ctx, s.da, s.a_prev, PP, da_prev), CLCNN_ERR_SHAPE, f->ctx, PB,
                ": da_prev has shape (2, 5, 4, 1)", "(2, 5, 4, 3)");
}

/* ------------------------------------------------------------------------ */
/* main                                                                       */
/* ------------------------------------------------------------------------ */

/* The bounds of the section that CASE and CASE_TABLE fill (the linker
 * defines them for a section named like a C identifier). */
extern const errors_entry *const __start_clcnn_error_cases[];
extern const errors_entry *const __stop_clcnn_error_cases[];

static int entry_order(const void *pa, const void *pb)
{
    const errors_entry *a = *(const errors_entry *const *)pa, *b = *(const errors_entry *const *)pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

int main(void)
{
    const size_t n_entries = (size_t)(__stop_clcnn_error_cases - __start_clcnn_error_cases);
    const errors_entry **entries = malloc(n_entries * sizeof *entries);
    if (!entries)
        return 1;
    memcpy(entries, __start_clcnn_error_cases, n_entries * sizeof *entries);
    /* The linker puts the files' entries in link order, and a compiler need
     * not keep a file's in source order. */
    qsort(entries, n_entries, sizeof *entries, entry_order);

    size_t n_tests = 0;
    for (size_t i = 0; i < n_entries; i++)
        n_tests += entries[i]->n_rows;
    struct CMUnitTest *tests = calloc(n_tests, sizeof *tests);
    if (!tests) {
        free(entries);
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_entries; i++) {
        const errors_entry *e = entries[i];
        for (size_t r = 0; r < e->n_rows; r++, k++) {
            /* A row's first member is its name. */
            const void *row = e->rows ? (const char *)e->rows + r * e->row_size : NULL;
            tests[k] = (struct CMUnitTest){row ? *(const char *const *)row : e->name, e->fn, setup, teardown,
                                           (void *)row};
        }
    }
    const int failed = _cmocka_run_group_tests("errors", tests, n_tests, NULL, NULL);
    free(tests);
    free(entries);
    return failed;
}
