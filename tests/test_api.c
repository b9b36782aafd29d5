/* test_api.c - contexts, backend choice, tensors and output shapes; the
 * semantics the notebook leaves implicit (ties, NaN, overlap, no bias,
 * overwrite), checked against small hand-worked examples, are in
 * test_api_ops.c (api_ops.h). */
#include "api_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Why a context asked for device "no-such-device-zz" gets no OpenCL device. */
#ifdef CLCNN_TEST_OPENCL
#define UNMATCHED_REASON "no-such-device-zz"
#else
#define UNMATCHED_REASON "no OpenCL support"
#endif

static void version_is_the_projects(void **state)
{
    (void)state;
    assert_string_equal(clcnn_version(), CLCNN_EXPECTED_VERSION);
}

static void status_string_names_every_status(void **state)
{
    (void)state;
    const char *want[] = {"CLCNN_OK",
                          "CLCNN_ERR_INVALID_ARGUMENT",
                          "CLCNN_ERR_SHAPE",
                          "CLCNN_ERR_UNSUPPORTED",
                          "CLCNN_ERR_OUT_OF_MEMORY",
                          "CLCNN_ERR_DEVICE",
                          "CLCNN_ERR_BUILD",
                          "CLCNN_ERR_NO_DEVICE"};
    for (int s = 0; s < 8; s++)
        assert_string_equal(clcnn_status_string((clcnn_status)s), want[s]);
    assert_string_equal(clcnn_status_string((clcnn_status)8), "CLCNN_STATUS_UNKNOWN");
    assert_string_equal(clcnn_status_string((clcnn_status)-1), "CLCNN_STATUS_UNKNOWN");
}

/* AUTO with a device string that matches nothing falls back to the host
 * path and says why, naming the devices it saw. */
static void auto_without_a_matching_device_uses_host_and_says_why(void **state)
{
    (void)state;
    clcnn_options o = {CLCNN_BACKEND_AUTO, "no-such-device-zz"};
    clcnn_context *ctx = NULL;
    assert_int_equal(clcnn_context_create(&o, &ctx), CLCNN_OK);
    assert_int_equal(clcnn_context_backend(ctx), CLCNN_BACKEND_HOST);
    assert_string_equal(clcnn_context_device_name(ctx), "host reference");
    const char *why = clcnn_last_error(ctx);
    assert_non_null(strstr(why, "fell back to the host reference path"));
    assert_non_null(strstr(why, UNMATCHED_REASON));
    clcnn_context_destroy(ctx);
}

static void host_backend_names_its_device_and_has_no_error(void **state)
{
    (void)state;
    clcnn_context *ctx = host();
    assert_string_equal(clcnn_context_device_name(ctx), "host reference");
    assert_string_equal(clcnn_last_error(ctx), "");
    assert_int_equal(clcnn_finish(ctx), CLCNN_OK);
    clcnn_context_destroy(ctx);
}

static void env_backend_applies_to_null_opts_only(void **state)
{
    (void)state;
    clcnn_context *ctx = NULL;
    setenv("CLCNN_BACKEND", "HOST", 1);
    assert_int_equal(clcnn_context_create(NULL, &ctx), CLCNN_OK);
    assert_int_equal(clcnn_context_backend(ctx), CLCNN_BACKEND_HOST);
    assert_string_equal(clcnn_last_error(ctx), ""); /* chosen, not a fallback */
    clcnn_context_destroy(ctx);

    setenv("CLCNN_BACKEND", "opencl", 1);
    setenv("CLCNN_DEVICE", "no-such-device-zz", 1);
    ctx = NULL;
    assert_int_equal(clcnn_context_create(NULL, &ctx), CLCNN_ERR_NO_DEVICE);
    assert_null(ctx);
    assert_non_null(strstr(clcnn_last_error(NULL), UNMATCHED_REASON));
    unsetenv("CLCNN_DEVICE");

    setenv("CLCNN_BACKEND", "nonsense", 1);
    clcnn_options o = {CLCNN_BACKEND_HOST, NULL}; /* explicit options ignore the environment */
    assert_int_equal(clcnn_context_create(&o, &ctx), CLCNN_OK);
    clcnn_context_destroy(ctx);
    unsetenv("CLCNN_BACKEND");
}

/* 256 MiB by default; CLCNN_WORKSPACE_LIMIT (binary units) is read at
 * every context creation, options or not; the setter overrides it. */
static void workspace_limit_defaults_reads_env_and_sets(void **state)
{
    (void)state;
    clcnn_context *ctx = host();
    assert_int_equal(clcnn_context_workspace_limit(ctx), (size_t)256 << 20);
    assert_int_equal(clcnn_context_set_workspace_limit(ctx, 4096), CLCNN_OK);
    assert_int_equal(clcnn_context_workspace_limit(ctx), 4096);
    clcnn_context_destroy(ctx);
    assert_int_equal(clcnn_context_workspace_limit(NULL), 0);

    static const struct {
        const char *text;
        size_t bytes;
    } env[] = {{"1000", 1000}, {"64k", 64 << 10}, {"3M", (size_t)3 << 20}, {"1g", (size_t)1 << 30}};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        setenv("CLCNN_WORKSPACE_LIMIT", env[i].text, 1);
        ctx = host();
        assert_int_equal(clcnn_context_workspace_limit(ctx), env[i].bytes);
        clcnn_context_destroy(ctx);
    }
    unsetenv("CLCNN_WORKSPACE_LIMIT");
}

static void null_handles_are_harmless_where_documented(void **state)
{
    (void)state;
    clcnn_context_destroy(NULL);
    clcnn_tensor_destroy(NULL);
    assert_int_equal(clcnn_context_backend(NULL), CLCNN_BACKEND_HOST);
    assert_string_equal(clcnn_context_device_name(NULL), "");
    int d[4] = {9, 9, 9, 9};
    clcnn_tensor_shape(NULL, d);
    assert_int_equal(d[0] | d[1] | d[2] | d[3], 0);
    assert_true(isnan(clcnn_conv_single_step(NULL, NULL, 0.0, 1, 1, 1)));
    unsigned char m = 7;
    double x = 1.0;
    clcnn_mask_from_window(&x, 0, 1, &m);
    assert_int_equal(m, 7);
    clcnn_distribute_value(1.0, 1, 1, NULL);
}

static void tensors_start_zeroed_and_round_trip_bytes(void **state)
{
    (void)state;
    clcnn_context *ctx = host();
    for (int dt = 0; dt < 2; dt++) {
        clcnn_tensor *t = th_tensor(ctx, (clcnn_dtype)dt, 2, 3, 1, 5, NULL);
        int d[4];
        clcnn_tensor_shape(t, d);
        assert_int_equal(d[0], 2);
        assert_int_equal(d[1], 3);
        assert_int_equal(d[2], 1);
        assert_int_equal(d[3], 5);
        assert_int_equal(clcnn_tensor_dtype(t), (clcnn_dtype)dt);
        size_t n;
        unsigned char *snap = th_snapshot(t, &n);
        assert_int_equal(n, 30 * (dt ? 8 : 4));
        for (size_t i = 0; i < n; i++)
            assert_int_equal(snap[i], 0);
        for (size_t i = 0; i < n; i++)
            snap[i] = (unsigned char)(i * 37 + 11);
        assert_int_equal(clcnn_tensor_write(t, snap, n), CLCNN_OK);
        th_expect_unchanged(t, snap, n, "the written bytes");
        free(snap);
        clcnn_tensor_destroy(t);
    }
    clcnn_context_destroy(ctx);
}

static void last_error_survives_a_later_success(void **state)
{
    (void)state;
    clcnn_context *ctx = host();
    clcnn_tensor *t = NULL;
    assert_int_equal(clcnn_tensor_create(ctx, CLCNN_F32, 0, 1, 1, 1, &t), CLCNN_ERR_INVALID_ARGUMENT);
    char saved[256];
    strncpy(saved, clcnn_last_error(ctx), sizeof saved - 1);
    saved[sizeof saved - 1] = '\0';
    t = th_tensor(ctx, CLCNN_F32, 1, 1, 1, 1, NULL);
    assert_string_equal(clcnn_last_error(ctx), saved);
    clcnn_tensor_destroy(t);
    clcnn_context_destroy(ctx);
}

static void conv_output_shape_follows_the_floor_formula(void **state)
{
    (void)state;
    struct {
        int a[4], w[4], stride, pad, out[4];
    } c[] = {
        {{10, 5, 7, 4}, {3, 3, 4, 8}, 2, 1, {10, 3, 4, 8}}, /* the notebook's conv_forward */
        {{10, 4, 4, 3}, {2, 2, 3, 8}, 2, 2, {10, 4, 4, 8}}, /* its conv_backward */
        {{1, 7, 9, 2}, {3, 1, 2, 5}, 3, 0, {1, 2, 3, 5}},   /* non-square filter, floor */
        {{2, 1, 1, 1}, {5, 5, 1, 1}, 4, 2, {2, 1, 1, 1}},   /* window only fits with padding */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int out[4] = {0};
        clcnn_conv_params p = {c[i].stride, c[i].pad, CLCNN_CONV_AUTO};
        assert_int_equal(clcnn_conv2d_output_shape(c[i].a, c[i].w, p, out), CLCNN_OK);
        assert_memory_equal(out, c[i].out, sizeof out);
    }
}

static void pool_output_shape_follows_the_floor_formula(void **state)
{
    (void)state;
    int a[4] = {2, 5, 5, 3}, out[4];
    assert_int_equal(clcnn_pool2d_output_shape(a, (clcnn_pool_params){3, 1, CLCNN_POOL_MAX}, out), CLCNN_OK);
    assert_memory_equal(out, ((int[4]){2, 3, 3, 3}), sizeof out);
    assert_int_equal(clcnn_pool2d_output_shape(a, (clcnn_pool_params){3, 2, CLCNN_POOL_AVG}, out), CLCNN_OK);
    assert_memory_equal(out, ((int[4]){2, 2, 2, 3}), sizeof out);
    int b[4] = {1, 8, 3, 1};
    assert_int_equal(clcnn_pool2d_output_shape(b, (clcnn_pool_params){2, 3, CLCNN_POOL_MAX}, out), CLCNN_OK);
    assert_memory_equal(out, ((int[4]){1, 3, 1, 1}), sizeof out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_is_the_projects),
        cmocka_unit_test(status_string_names_every_status),
        cmocka_unit_test(auto_without_a_matching_device_uses_host_and_says_why),
        cmocka_unit_test(host_backend_names_its_device_and_has_no_error),
        cmocka_unit_test(env_backend_applies_to_null_opts_only),
        cmocka_unit_test(workspace_limit_defaults_reads_env_and_sets),
        cmocka_unit_test(null_handles_are_harmless_where_documented),
        cmocka_unit_test(tensors_start_zeroed_and_round_trip_bytes),
        cmocka_unit_test(last_error_survives_a_later_success),
        cmocka_unit_test(conv_output_shape_follows_the_floor_formula),
        cmocka_unit_test(pool_output_shape_follows_the_floor_formula),
        cmocka_unit_test(conv_forward_matches_hand_worked_example),
        cmocka_unit_test(conv_backward_matches_hand_worked_example),
        cmocka_unit_test(last_conv_algos_record_what_each_call_computed),
        cmocka_unit_test(conv_forward_without_bias_equals_zero_bias),
        cmocka_unit_test(outputs_are_overwritten_and_repeatable),
        cmocka_unit_test(max_pool_ties_share_and_overlaps_add),
        cmocka_unit_test(nan_windows_follow_numpy),
        cmocka_unit_test(op_descriptors_agree_with_the_library),
    };
    return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
