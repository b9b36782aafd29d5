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
 * data-moving ops (zero_pad, the max-pool forward) must match exactly. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "helpers.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLCNN_DEVICE_CASES
#define CLCNN_DEVICE_CASES 300
#endif

/* A conv shape written as the lists below give it: a (n, h, w, c), w (fh,
 * fw, c, cout), stride, pad, bias, the device's algorithm. */
static tc_shape conv_shape(int n, int h, int w, int c, int fh, int fw, int cout, int stride, int pad,
                           int bias, clcnn_conv_algo algo)
{
    tc_shape s = {0};
    s.n = n, s.h = h, s.w = w, s.c = c, s.fh = fh, s.fw = fw, s.cout = cout;
    s.stride = stride, s.pad = pad, s.bias = bias, s.algo = algo;
    return s;
}

static tc_shape pool_shape(int n, int h, int w, int c, int f, int stride, clcnn_pool_mode mode)
{
    tc_shape s = {0};
    s.n = n, s.h = h, s.w = w, s.c = c, s.fh = s.fw = f, s.stride = stride, s.mode = mode;
    return s;
}

/* An OpenCL context created with environment variable `var` set to
 * `value` (NULL: as it is), as contexts read such settings at creation;
 * the variable is restored afterwards. Owned by f. */
static clcnn_context *context_with(th_fixture *f, const char *var, const char *value)
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
static clcnn_conv_algo expect_ran[3];

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
static void run_case(tc_tensors *t)
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
static void check_case(th_fixture *f, clcnn_context *dev, np_random *r, const tc_op *op, const tc_shape *s,
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
static void check_conv(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *s, clcnn_dtype dt,
                       int integers)
{
    check_case(f, dev, r, tc_op_of(TC_CONV_FORWARD), s, dt, integers);
    check_case(f, dev, r, tc_op_of(TC_CONV_BACKWARD), s, dt, integers);
}

/* Every case of cases[n] against the reference, random data and integer
 * data, in F32 and (f64) F64. */
static void check_cases(th_fixture *f, clcnn_context *dev, np_random *r, const tc_shape *cases, int n,
                        int f64)
{
    for (int d = 0; d <= f64; d++)
        for (int integers = 0; integers < 2; integers++)
            for (int i = 0; i < n; i++)
                check_conv(f, dev, r, &cases[i], d ? CLCNN_F64 : CLCNN_F32, integers);
}

/* Layers wider than the random shapes (at most 17 channels), where the
 * CPU defaults change layout: the backward filter reads blocked copies of
 * a_prev and dz (128+ input channels; 130 leaves a partial block), and the
 * forward runs pixel-major (weights of 256 KB and more: 3x3x130x512 F32).
 * Random data within the tolerance, and integer data exactly; then again
 * with a 20 KiB workspace limit, where the second layer's a_prev copy (10.6
 * KB) fits and its dz copy (40 KB) does not, and the first layer's (44 and
 * 21.5 KB) neither: the filter then reads the tensors themselves. */
static void wide_layers_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[2] = {
        conv_shape(2, 6, 7, 130, 3, 3, 64, 1, 1, 1, CLCNN_CONV_AUTO),
        conv_shape(1, 5, 4, 130, 3, 3, 512, 1, 1, 0, CLCNN_CONV_AUTO),
    };
    for (int limited = 0; limited < 2; limited++) {
        clcnn_context *dev = context_with(f, NULL, NULL);
        if (limited)
            assert_int_equal(clcnn_context_set_workspace_limit(dev, 20 << 10), CLCNN_OK);
        np_random r;
        np_random_seed(&r, 4242);
        check_cases(f, dev, &r, cases, 2, 0);
    }
}

/* 1x1, stride-1, unpadded layers whose rows are not a multiple of the
 * forward's pixel block: the direct forward (and stride-1 backward data)
 * takes all n*h*w pixels as one row, the last block partial (cl_conv.c,
 * flatten_pointwise), so that neighbouring images and rows share blocks;
 * and, with CLCNN_CONV_FLAT=0, row by row as before. Random data within
 * the tolerance and integer data exactly, F32 and F64, with and without
 * bias. */
static void pointwise_layers_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[4] = {
        conv_shape(3, 5, 7, 9, 1, 1, 16, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(2, 7, 7, 20, 1, 1, 8, 1, 0, 0, CLCNN_CONV_DIRECT),
        conv_shape(1, 2, 13, 32, 1, 1, 12, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(4, 3, 6, 5, 1, 1, 32, 1, 0, 0, CLCNN_CONV_AUTO),
    };
    for (int rows = 0; rows < 2; rows++) {
        clcnn_context *dev = context_with(f, "CLCNN_CONV_FLAT", rows ? "0" : NULL);
        np_random r;
        np_random_seed(&r, 1414);
        check_cases(f, dev, &r, cases, 4, 1);
    }
}

/* A context with CLCNN_CONV_TILED=1 and CLCNN_CONV_TILE=`tile` (NULL: as
 * the environment has it). */
static clcnn_context *tiled_context(th_fixture *f, const char *tile)
{
    char *saved = tile ? th_env_swap("CLCNN_CONV_TILE", tile) : NULL;
    clcnn_context *ctx = context_with(f, "CLCNN_CONV_TILED", "1");
    if (tile)
        th_env_restore("CLCNN_CONV_TILE", saved);
    return ctx;
}

/* The tiled kernels (conv_forward_tiled, conv_backward_filter_tiled) sum
 * the same terms in the same order as the kernels they stand in for, so
 * tuning may switch between them (variant 5 and the direct kernels) without
 * changing a bit, and so do the tile sizes and the way a work-item reads
 * the staged tiles (TILE_VEC): random F32 and F64 data through a context
 * with CLCNN_CONV_TILED=0 and three with 1 (the environment's tiles, and
 * 32x16 and 64x64 tiles with vector reads), z, da_prev, dw and db compared
 * byte for byte (3x3 padded, 1x1, 5x3 with stride 2 and pad 2, whose
 * backward data takes no tiled kernel; several runs of rows for dw; a 2x17
 * filter, wider than a step of the K walk, over 2 channels, so that one
 * step's terms wrap past the end of a row of taps; rows and columns of
 * 17-18 outputs, more than a step of dW's walk over the positions, which
 * wrap from row to row and image to image in steps of one; 24 images of
 * 1x2 outputs, where a step passes several images). */
static void tiled_kernels_give_the_direct_kernels_bits(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[6] = {
        conv_shape(2, 9, 11, 12, 3, 3, 20, 1, 1, 1, CLCNN_CONV_DIRECT),
        conv_shape(3, 7, 7, 24, 1, 1, 40, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(2, 13, 10, 5, 5, 3, 6, 2, 2, 0, CLCNN_CONV_DIRECT),
        conv_shape(1, 6, 20, 2, 2, 17, 9, 1, 1, 1, CLCNN_CONV_DIRECT),
        conv_shape(3, 17, 18, 3, 3, 3, 8, 1, 1, 0, CLCNN_CONV_DIRECT),
        conv_shape(24, 3, 4, 2, 3, 3, 8, 1, 0, 0, CLCNN_CONV_DIRECT),
    };
    enum { CONTEXTS = 4 };
    static const char *const tiles[CONTEXTS] = {"direct", "environment's tiles", "32:16:8:4:2:1",
                                                "64:64:16:4:4:1"};
    clcnn_context *ctx[CONTEXTS] = {context_with(f, "CLCNN_CONV_TILED", "0"), tiled_context(f, NULL),
                                    tiled_context(f, tiles[2]), tiled_context(f, tiles[3])};
    np_random r;
    np_random_seed(&r, 5150);
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 6; i++)
            for (int dir = 0; dir < 2; dir++) {
                const tc_op *op = tc_op_of(dir ? TC_CONV_BACKWARD : TC_CONV_FORWARD);
                const clcnn_dtype dt = d ? CLCNN_F64 : CLCNN_F32;
                double *in[TC_MAX_IN];
                assert_int_equal(tc_inputs(op, &cases[i], TC_NORMAL, &r, in), 0);
                tc_tensors t[CONTEXTS];
                for (int on = 0; on < CONTEXTS; on++) {
                    th_case_make(f, ctx[on], op, &cases[i], dt, in, &t[on]);
                    run_case(&t[on]);
                }
                for (int on = 1; on < CONTEXTS; on++)
                    for (int o = 0; o < op->n_out; o++) {
                        size_t n0, n1;
                        unsigned char *x = th_snapshot(t[0].out[o], &n0), *y = th_snapshot(t[on].out[o], &n1);
                        const int same = n0 == n1 && memcmp(x, y, n0) == 0;
                        free(x), free(y);
                        if (!same)
                            fail_msg(
                                "%s case %d: %s differs between the direct kernels and the tiled ones (%s)",
                                th_dtype_name(dt), i, op->out_names[o], tiles[on]);
                    }
                for (int on = 0; on < CONTEXTS; on++)
                    th_case_free(f, &t[on]);
                tc_inputs_free(in);
            }
}

/* ------------------------------------------------------- GEMM views --- */

/* CLBlast indexes in int, so the GEMM path hands a tensor past 2^31
 * elements over as sub-buffer views and cuts chunks so that no matrix spans
 * more (cl_gemm.c). CLCNN_GEMM_INDEX_LIMIT=1024 lowers that bound for the
 * context, so that layers of a few thousand elements take those paths:
 * z and dz (2352 elements: views past 1024), a pointwise layer in place
 * (a_prev 6480, z 8640; weights of 768 elements, within the bound less a
 * 512-byte alignment), a strided one; random data within the tolerance
 * and integer data exactly, F32 and F64; and shapes the path cannot take
 * under the bound, which run DIRECT. clcnn_context_last_conv_algos says
 * which algorithm each direction ran. */
static void gemm_views_past_the_index_limit_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *dev = context_with(f, "CLCNN_GEMM_INDEX_LIMIT", "1024");
    /* the default workspace limit (ctest runs this suite with a 2 KiB one
     * too), so that which algorithm runs depends on the index bound alone */
    assert_int_equal(clcnn_context_set_workspace_limit(dev, (size_t)256 << 20), CLCNN_OK);
    const tc_shape cases[3] = {
        conv_shape(6, 7, 7, 2, 3, 3, 8, 1, 1, 1, CLCNN_CONV_GEMM),
        conv_shape(3, 9, 10, 24, 1, 1, 32, 1, 0, 1, CLCNN_CONV_GEMM),
        conv_shape(8, 9, 9, 3, 3, 3, 10, 2, 1, 0, CLCNN_CONV_GEMM),
    };
    np_random r;
    np_random_seed(&r, 2718);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_GEMM;
    check_cases(f, dev, &r, cases, 3, 1);

    /* Forced GEMM where a matrix would pass the bound runs DIRECT (as where
     * the workspace limit fits no chunk): w (3,3,16,8) has 1152 elements;
     * one 12x12 image has 2592 columns for backward data. */
    const tc_shape past[2] = {
        conv_shape(1, 4, 4, 16, 3, 3, 8, 1, 1, 1, CLCNN_CONV_GEMM),
        conv_shape(1, 12, 12, 2, 3, 3, 4, 1, 1, 0, CLCNN_CONV_GEMM),
    };
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_DIRECT;
    check_cases(f, dev, &r, past, 1, 0);
    expect_ran[0] = expect_ran[2] = CLCNN_CONV_GEMM; /* the forward and dW fit; one image's columns do not */
    check_cases(f, dev, &r, past + 1, 1, 0);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_AUTO;
}

/* ---------------------------------------------------------- workspace --- */

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

static void workspace_is_kept_within_the_limit(void **state)
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

/* A device without cl_khr_fp64 (simulated with CLCNN_DISABLE_FP64) refuses
 * F64 operations with CLCNN_ERR_UNSUPPORTED and a sentence, touches no
 * output, and still runs F32. */
static void f64_without_cl_khr_fp64_is_unsupported(void **state)
{
    (void)state;
    setenv("CLCNN_DISABLE_FP64", "1", 1);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    unsetenv("CLCNN_DISABLE_FP64");
    const double x[4] = {1, 2, 3, 4};
    clcnn_tensor *a = th_tensor(ctx, CLCNN_F64, 1, 2, 2, 1, x),
                 *z = th_tensor(ctx, CLCNN_F64, 1, 4, 4, 1, NULL);
    const double seven[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    assert_int_equal(clcnn_tensor_write(z, seven, sizeof seven), CLCNN_OK);
    size_t nbytes;
    unsigned char *before = th_snapshot(z, &nbytes);
    assert_int_equal(clcnn_zero_pad(ctx, a, 1, z), CLCNN_ERR_UNSUPPORTED);
    assert_non_null(strstr(clcnn_last_error(ctx), "clcnn_zero_pad"));
    assert_non_null(strstr(clcnn_last_error(ctx), "cl_khr_fp64"));
    th_expect_unchanged(z, before, nbytes, "x_pad");
    clcnn_tensor *a32 = th_tensor(ctx, CLCNN_F32, 1, 2, 2, 1, x),
                 *z32 = th_tensor(ctx, CLCNN_F32, 1, 4, 4, 1, NULL);
    assert_int_equal(clcnn_zero_pad(ctx, a32, 1, z32), CLCNN_OK);
    double *r = th_read(z32);
    assert_true(r[5] == 1 && r[6] == 2 && r[9] == 3 && r[10] == 4 && r[0] == 0);
    free(r);
    free(before);
    clcnn_tensor_destroy(a), clcnn_tensor_destroy(z), clcnn_tensor_destroy(a32), clcnn_tensor_destroy(z32);
    clcnn_context_destroy(ctx);
}

/* Non-finite weights, then non-finite dz: every direction and algorithm
 * gives NaN and infinities exactly where the reference does (padding is
 * multiplied in forward and backward filter, as the notebook's padded array
 * is, so an infinite dz whose window reaches into the padding makes NaN in
 * dw; backward data sums only products of real dz elements). The fuzzer found
 * backward data, computed as a forward convolution of padded dz, putting
 * 0 * inf terms where the reference has none. Filters 3x2 and 3x3: on
 * CPUs, backward data with a square filter reads a zero-padded copy of dz
 * unless a weight is not finite (conv_forward_<N>'s a_slack), so the 3x3
 * case checks that this flag is set and obeyed. */
static void non_finite_weights_spread_like_the_reference(void **state)
{
    th_fixture *f = th_fx(state);
    static const char *const algos[] = {"direct", "gemm"};
    double a[2 * 5 * 4 * 3], w[3 * 3 * 3 * 2], dz[2 * 5 * 5 * 2];
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        a[i] = (double)((int)(i % 7) - 3);
    for (int g = 0; g < 8; g++) {
        const int fw = 2 + (g / 2) % 2, wo = 4 + 2 - fw + 1; /* pad 1, stride 1 */
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
            w[i] = (double)((int)(i % 5) - 2);
        for (size_t i = 0; i < sizeof dz / sizeof dz[0]; i++)
            dz[i] = (double)((int)(i % 3) - 1);
        if (g < 4)
            w[0] = INFINITY, w[7] = -INFINITY, w[11] = NAN;
        else /* the first and last outputs' windows reach into the padding */
            dz[0] = INFINITY, dz[2 * 5 * wo * 2 - 1] = -INFINITY;
        clcnn_context *ctxs[2] = {context_with(f, "CLCNN_CONV_ALGO", algos[g % 2]), th_host(f)};
        const tc_shape s = conv_shape(2, 5, 4, 3, 3, fw, 2, 1, 1, 0, CLCNN_CONV_AUTO);
        for (int dir = 0; dir < 2; dir++) {
            const tc_op *op = tc_op_of(dir ? TC_CONV_BACKWARD : TC_CONV_FORWARD);
            double *const fwd_in[TC_MAX_IN] = {a, w, NULL}, *const bwd_in[TC_MAX_IN] = {dz, a, w};
            tc_tensors t[2];
            for (int on = 0; on < 2; on++) {
                th_case_make(f, ctxs[on], op, &s, CLCNN_F32, dir ? bwd_in : fwd_in, &t[on]);
                run_case(&t[on]);
            }
            for (int o = 0; o < op->n_out; o++) {
                double *dev = th_read(t[0].out[o]), *ref = th_read(t[1].out[o]);
                for (size_t i = 0; i < th_count(t[0].out[o]); i++)
                    if (!(dev[i] == ref[i] || (isnan(dev[i]) && isnan(ref[i]))))
                        fail_msg("%s, 3x%d filter, non-finite %s, %s element %zu: device %g, reference %g",
                                 algos[g % 2], fw, g < 4 ? "w" : "dz", op->out_names[o], i, dev[i], ref[i]);
                free(dev), free(ref);
            }
            th_case_free(f, &t[0]), th_case_free(f, &t[1]);
        }
        th_drop_context(f, ctxs[0]);
    }
}

/* Pooling of data holding NaN, infinities, signed zeros and ties gives the
 * reference's bits, in both modes and directions, for channel counts that
 * take each path of the kernels (on CPUs: several channel blocks a
 * work-item, ILP blocks at once and a tail) and windows that overlap (3x3
 * with stride 1 too, whose average gradient divides each window once,
 * beforehand), tile or skip pixels. Max follows np.max (the first NaN of a window, in
 * row-major order); the max-pool gradient goes to every element equal to
 * its window's max. One exception to exact bits: an F32 average gradient
 * with f*f not a power of two sums F32 quotients da / (f*f), the reference
 * rounds its F64 sum once: at most 4 terms of magnitude <= 4/9 here, so
 * within 4 * 2^-24 * 2 < 1e-6. F64 gradients are fractional, so that a
 * quotient computed any other way than da / (f*f) (a product with the
 * reciprocal, say) shows in the last bit. */
static int same_value(double x, double y)
{
    return (isnan(x) && isnan(y)) || (x == y && signbit(x) == signbit(y));
}

/* A quiet NaN whose payload k sits in the bits that a conversion to float
 * keeps (the top 22 of the mantissa's 51 below the quiet bit). */
static double nan_with_payload(unsigned k)
{
    const uint64_t bits = UINT64_C(0x7ff8000000000000) | (uint64_t)k << 40;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static int same_bits(double x, double y)
{
    return memcmp(&x, &y, sizeof x) == 0;
}

static void non_finite_pool_inputs_match_the_reference(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctxs[2] = {th_device(f), th_host(f)};
    static const int channels[] = {64, 20, 12, 3}, windows[][2] = {{3, 2}, {2, 2}, {2, 1}, {2, 3}, {3, 1}};
    static const clcnn_dtype dtypes[2] = {CLCNN_F32, CLCNN_F64};
    enum { N = 2, H = 9, W = 11 };
    for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
            for (int d = 0; d < 2; d++)
                for (int mode = 0; mode < 2; mode++) {
                    const int ch = channels[ci], fw = windows[wi][0], stride = windows[wi][1];
                    const tc_shape s =
                        pool_shape(N, H, W, ch, fw, stride, mode ? CLCNN_POOL_AVG : CLCNN_POOL_MAX);
                    int out[4];
                    tc_dims(tc_op_of(TC_POOL_FORWARD), &s, 1, out);
                    const size_t n_in = (size_t)N * H * W * (size_t)ch, n_out = tc_count(out);
                    double *a = malloc(n_in * sizeof *a), *da = malloc(n_out * sizeof *da);
                    assert_non_null(a), assert_non_null(da);
                    for (size_t i = 0; i < n_in; i++) {
                        a[i] = (double)((int)((i * 7) % 5) - 2); /* ties */
                        if (i % 13 == 5) /* NaNs of three payloads: a max is the window's first NaN */
                            a[i] = nan_with_payload((unsigned)(i / 13 % 3) + 1);
                        else if (i % 17 == 3)
                            a[i] = INFINITY;
                        else if (i % 19 == 7)
                            a[i] = -INFINITY;
                        else if (i % 11 == 2)
                            a[i] = -0.0;
                    }
                    /* F64: fractions too, whose quotients by f*f differ from a product with the
                     * reciprocal in the last bit, which only an exact comparison sees */
                    for (size_t i = 0; i < n_out; i++)
                        da[i] = i % 29 == 4
                                    ? INFINITY
                                    : (double)((int)(i % 9) - 4) + (d ? (double)(i % 7) * 0.0137 : 0.0);
                    const int inexact = mode && dtypes[d] == CLCNN_F32 && ((fw * fw) & (fw * fw - 1)) != 0;
                    double *res[2][2];
                    for (int o = 0; o < 2; o++) {
                        const tc_op *op = tc_op_of(o ? TC_POOL_BACKWARD : TC_POOL_FORWARD);
                        double *const fwd_in[TC_MAX_IN] = {a, NULL, NULL}, *const bwd_in[TC_MAX_IN] = {da, a,
                                                                                                       NULL};
                        for (int on = 0; on < 2; on++) {
                            tc_tensors t;
                            th_case_make(f, ctxs[on], op, &s, dtypes[d], o ? bwd_in : fwd_in, &t);
                            th_case_run(&t);
                            res[on][o] = th_read(t.out[0]);
                            th_case_free(f, &t);
                        }
                    }
                    for (int o = 0; o < 2; o++)
                        for (size_t i = 0; i < (o ? n_in : n_out); i++)
                            if ((!same_value(res[0][o][i], res[1][o][i]) &&
                                 !(inexact && o == 1 && isfinite(res[1][o][i]) &&
                                   fabs(res[0][o][i] - res[1][o][i]) < 1e-6)) ||
                                (!mode && !o && !same_bits(res[0][o][i], res[1][o][i])))
                                fail_msg("%s %s pool f %d s %d, %d channels, %s element %zu: device %g, "
                                         "reference %g",
                                         th_dtype_name(dtypes[d]), mode ? "average" : "max", fw, stride, ch,
                                         o ? "da_prev" : "a", i, res[0][o][i], res[1][o][i]);
                    for (int on = 0; on < 2; on++)
                        free(res[on][0]), free(res[on][1]);
                    free(a), free(da);
                }
}

/* A stride close to INT_MAX is valid (the output is 1 wide) and must not
 * overflow the kernels' window arithmetic: backward-data and pool-backward
 * against the reference on a 16-row input. */
static void huge_strides_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const int strides[2] = {INT_MAX - 5, INT_MAX};
    double a[16], one[1] = {3.0}, w[1] = {2.0};
    for (int i = 0; i < 16; i++)
        a[i] = i + 1;
    for (int k = 0; k < 2; k++) {
        tc_shape s[3];
        s[0] = conv_shape(1, 16, 1, 1, 1, 1, 1, strides[k], 0, 0, CLCNN_CONV_AUTO);
        s[0].omit = 2 | 4; /* da_prev alone */
        s[1] = pool_shape(1, 16, 1, 1, 1, strides[k], CLCNN_POOL_MAX);
        s[2] = pool_shape(1, 16, 1, 1, 1, strides[k], CLCNN_POOL_AVG);
        for (int i = 0; i < 3; i++) {
            const tc_op *op = tc_op_of(i ? TC_POOL_BACKWARD : TC_CONV_BACKWARD);
            double *const conv_in[TC_MAX_IN] = {one, a, w}, *const pool_in[TC_MAX_IN] = {one, a, NULL};
            tc_tensors got, ref;
            th_case_make(f, th_device(f), op, &s[i], CLCNN_F32, i ? pool_in : conv_in, &got);
            th_case_make(f, th_host(f), op, &s[i], CLCNN_F32, i ? pool_in : conv_in, &ref);
            th_case_run(&got);
            th_case_run(&ref);
            th_case_compare(&got, &ref, NULL, "(stride near INT_MAX)");
            th_case_free(f, &got), th_case_free(f, &ref);
        }
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
