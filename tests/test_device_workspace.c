/* test_device_workspace.c - what a device context keeps as workspace
 * under clcnn_context_set_workspace_limit, while its results stay exact. */
#include "device_fixture.h"

#include <stdlib.h>
#include <string.h>

/* What the context holds as workspace (clcnn_context_workspace_bytes),
 * with a 96 KiB limit, while every result stays exact (integer data):
 * - the forward of layer 1 (direct) on CPU defaults wants a padded copy of
 *   a_prev (76 KB) and weights in blocks of 16 filters (74 KB), which only
 *   speed its reads: it keeps the copy and reads the weights as they are
 *   (both made, 150 KB, would be above the limit); its backward keeps what
 *   it cannot do without and no padded dz beside it;
 * - after its backward and a GEMM layer, which keep what they cannot do
 *   without, a max-pool backward needs only its window maxima (43 KB): what
 *   the earlier calls left is released first, as keeping it would exceed
 *   the limit;
 * - a limit below what is held releases it at once;
 * - under 24 KiB, a dw-only backward of 130 channels makes neither blocked
 *   copy (a_prev's 19 KB would fit, not dz's 9.2 KB beside it). */
/* A backward pooling of F32 integer data a (a_prev) and da on the device
 * and the host, compared exactly. */
static void pool_backward_on_both(th_fixture *f, const tc_shape *s, double *a, double *da, const char *desc)
{
    const tc_op *op = tc_op_of(TC_POOL_BACKWARD);
    double *const in[TC_MAX_IN] = {da, a, NULL};
    tc_tensors got, ref;
    th_case_make(f, th_device(f), op, s, CLCNN_F32, in, &got);
    run_case(&got);
    th_case_reference(f, op, s, CLCNN_F32, in, &ref);
    th_case_compare(&got, &ref, NULL, desc);
    th_case_free(f, &got);
    th_case_free(f, &ref);
}

void workspace_is_kept_within_the_limit(void **state)
{
    th_fixture *f = th_fx(state);
    const size_t limit = 96 << 10;
    clcnn_context *dev = th_device(f), *host = th_host(f);
    assert_int_equal(clcnn_context_workspace_bytes(dev), 0);
    assert_int_equal(clcnn_context_workspace_bytes(host), 0);
    assert_int_equal(clcnn_context_workspace_bytes(NULL), 0);
    assert_int_equal(clcnn_context_set_workspace_limit(dev, limit), CLCNN_OK);
    np_random r;
    np_random_seed(&r, 9090);
    const tc_shape layers[2] = {
        conv_shape(2, 10, 10, 64, 3, 3, 32, 1, 1, 1, CLCNN_CONV_DIRECT),
        conv_shape(2, 8, 8, 24, 3, 3, 8, 1, 1, 0, CLCNN_CONV_GEMM),
    };
    /* CPU defaults (PoCL, no GPU profile, no tiled forward, which reads
     * a_prev as it is): the direct forward pads a copy */
    const char *profile = getenv("CLCNN_DEVICE_PROFILE"), *tiled = getenv("CLCNN_CONV_TILED");
    const int cpu_defaults = strstr(clcnn_context_device_name(dev), "pthread") != NULL &&
                             !(profile && strcmp(profile, "gpu") == 0) && !(tiled && strcmp(tiled, "1") == 0);
    {
        tc_shape k = layers[0];
        k.bias = 0;
        const tc_op *op = tc_op_of(TC_CONV_FORWARD);
        double *in[TC_MAX_IN];
        assert_int_equal(tc_inputs(op, &k, TC_INTEGERS, &r, in), 0);
        tc_tensors t;
        th_case_make(f, dev, op, &k, CLCNN_F32, in, &t);
        run_case(&t);
        const size_t held = clcnn_context_workspace_bytes(dev);
        if ((cpu_defaults && held == 0) || held > limit)
            fail_msg("after layer 1's forward the context holds %zu bytes of workspace; expected %d to %zu",
                     held, cpu_defaults, limit);
        th_case_free(f, &t);
        tc_inputs_free(in);
    }
    for (int i = 0; i < 2; i++) {
        check_conv(f, dev, &r, &layers[i], CLCNN_F32, 1);
        /* layer 1's backward cannot do without copies of dw and db (restored
         * if a later step fails), a copy of w (flipped, or transposed) and,
         * on the tiled kernel, the 4-byte flag of non-finite weights: 147.6
         * KB, above the limit; the padded dz (37.4 KB) only speeds reads and
         * does not fit beside them, and the forward's padded copy is not the
         * backward's to keep */
        const size_t w_bytes = 3 * 3 * 64 * 32 * sizeof(float),
                     most = 2 * w_bytes + 32 * sizeof(float) + sizeof(int);
        if (i == 0 && clcnn_context_workspace_bytes(dev) > most)
            fail_msg(
                "after layer 1's backward the context holds %zu bytes of workspace; expected at most %zu",
                clcnn_context_workspace_bytes(dev), most);
    }
    if (clcnn_context_workspace_bytes(dev) == 0)
        fail_msg("the layers left no workspace: the test no longer reaches the release");
    /* max pool 2x28x28x32 f3 s2: maxima of 2x13x13x32 */
    double *a = tc_values(&r, 2 * 28 * 28 * 32, TC_INTEGERS, 1.0);
    double *da = tc_values(&r, 2 * 13 * 13 * 32, TC_INTEGERS, 1.0);
    const tc_shape pmax = pool_shape(2, 28, 28, 32, 3, 2, CLCNN_POOL_MAX);
    pool_backward_on_both(f, &pmax, a, da, "(max 2x28x28x32 f3 s2)");
    const size_t held = clcnn_context_workspace_bytes(dev), maxima = 2 * 13 * 13 * 32 * sizeof(float);
    if (held < maxima || held > limit)
        fail_msg("after the max pool the context holds %zu bytes of workspace; expected %zu to %zu", held,
                 maxima, limit);
    /* a limit below what is held: released at once */
    assert_int_equal(clcnn_context_set_workspace_limit(dev, held - 1), CLCNN_OK);
    assert_int_equal(clcnn_context_workspace_bytes(dev), 0);
    /* average pool 2x28x28x32 f4 s1: each window's share first would take
     * 2x25x25x32 (160 KB), above the limit: the gather divides instead, with
     * the same bits (integers over 16, exact) and no workspace */
    {
        double *g = tc_values(&r, 2 * 25 * 25 * 32, TC_INTEGERS, 1.0);
        const tc_shape pavg = pool_shape(2, 28, 28, 32, 4, 1, CLCNN_POOL_AVG);
        pool_backward_on_both(f, &pavg, a, g, "(average 2x28x28x32 f4 s1)");
        if (clcnn_context_workspace_bytes(dev) != 0)
            fail_msg("after the average pool the context holds %zu bytes of workspace; expected 0",
                     clcnn_context_workspace_bytes(dev));
        free(g);
    }
    free(a), free(da);
    /* dw alone of 1x6x6x130 -> 64 3x3 under 24 KiB (CPU defaults): blocked
     * copies of a_prev (19 KB) and dz (9.2 KB) each fit, not both; the
     * filter reads the tensors themselves, with the same bits */
    assert_int_equal(clcnn_context_set_workspace_limit(dev, 24 << 10), CLCNN_OK);
    {
        tc_shape k = conv_shape(1, 6, 6, 130, 3, 3, 64, 1, 1, 0, CLCNN_CONV_DIRECT);
        k.omit = 1 | 4; /* da_prev and db */
        const tc_op *op = tc_op_of(TC_CONV_BACKWARD);
        double *in[TC_MAX_IN];
        assert_int_equal(tc_inputs(op, &k, TC_INTEGERS, &r, in), 0);
        tc_tensors got, ref;
        th_case_make(f, dev, op, &k, CLCNN_F32, in, &got);
        th_case_make(f, host, op, &k, CLCNN_F32, in, &ref);
        run_case(&got);
        run_case(&ref);
        th_case_compare(&got, &ref, NULL, "(a (1,6,6,130), w (3,3,130,64), 24 KiB)");
        const size_t held6 = clcnn_context_workspace_bytes(dev);
        if (held6 > (24 << 10))
            fail_msg("after the dw-only backward the context holds %zu bytes of workspace, above 24 KiB",
                     held6);
        th_case_free(f, &got), th_case_free(f, &ref);
        tc_inputs_free(in);
    }
}
