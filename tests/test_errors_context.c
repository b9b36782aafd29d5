/* test_errors_context.c - the bad arguments of clcnn_context_create (its
 * options and the environment variables it reads), of the context's
 * setters and getters, and of clcnn_finish. */
#define ERRORS_FILE_RANK 1
#include "errors_fixture.h"

#include <stdio.h>

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

/* clcnn_context_create(NULL, &out) with environment variable var set to
 * value for the call only: the message names var and gives value in quotes
 * (and then the needle, if any); *out is left alone. */
typedef struct {
    const char *name;
    const char *var, *value, *needle;
} env_row;

static const env_row bad_env_rows[] = {
    {"context_create_rejects_unparsable_CLCNN_WORKSPACE_LIMIT_env", "CLCNN_WORKSPACE_LIMIT", "lots", NULL},
    {"context_create_rejects_zero_CLCNN_WORKSPACE_LIMIT_env", "CLCNN_WORKSPACE_LIMIT", "0M", "at least 1"},
    {"context_create_rejects_unknown_CLCNN_CONV_ALGO_env", "CLCNN_CONV_ALGO", "winograd", NULL},
    {"context_create_rejects_bad_CLCNN_TUNE_env", "CLCNN_TUNE", "yes", "0 or 1"},
    {"context_create_rejects_negative_CLCNN_TUNE_BUDGET_env", "CLCNN_TUNE_BUDGET", "-1", NULL},
};

static void bad_env_run(void **state)
{
    FX;
    const env_row *r = f->row;
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", r->value);
    clcnn_context *out = SENTINEL_CTX;
    char *saved = th_env_swap(r->var, r->value);
    clcnn_status s = clcnn_context_create(NULL, &out);
    th_env_restore(r->var, saved);
    EXPECT_FAIL(f, s, CLCNN_ERR_INVALID_ARGUMENT, NULL, "clcnn_context_create", r->var, quoted, r->needle);
    assert_ptr_equal(out, SENTINEL_CTX);
}
CASE_TABLE(bad_env_run, bad_env_rows);

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
