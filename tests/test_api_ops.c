/* test_api_ops.c - the ops on small hand-worked examples on the host
 * backend, and the semantics the notebook leaves implicit (ties, NaN,
 * overlap, no bias, overwrite); the op descriptors against the library. */
#include "api_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One-channel 3x3 input 1..9, 2x2 filter [[1, 0], [0, -1]], bias 10:
 *   stride 1, pad 0: z[y][x] = a[y][x] - a[y+1][x+1] + 10 = 6 everywhere;
 *   stride 2, pad 1: windows at padded (0,0), (0,2), (2,0), (2,2) give
 *   0 - 1 + 10, 0 - 3 + 10, 0 - 7 + 10, 5 - 9 + 10. */
void conv_forward_matches_hand_worked_example(void **state)
{
    (void)state;
    const double a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b[1] = {10};
    clcnn_context *ctx = host();
    for (int dt = 0; dt < 2; dt++) {
        clcnn_tensor *ta = th_tensor(ctx, (clcnn_dtype)dt, 1, 3, 3, 1, a);
        clcnn_tensor *tw = th_tensor(ctx, (clcnn_dtype)dt, 2, 2, 1, 1, w);
        clcnn_tensor *tb = th_tensor(ctx, (clcnn_dtype)dt, 1, 1, 1, 1, b);
        clcnn_tensor *z1 = th_tensor(ctx, (clcnn_dtype)dt, 1, 2, 2, 1, NULL);
        clcnn_tensor *z2 = th_tensor(ctx, (clcnn_dtype)dt, 1, 2, 2, 1, NULL);
        assert_int_equal(
            clcnn_conv2d_forward(ctx, ta, tw, tb, (clcnn_conv_params){1, 0, CLCNN_CONV_AUTO}, z1), CLCNN_OK);
        assert_int_equal(
            clcnn_conv2d_forward(ctx, ta, tw, tb, (clcnn_conv_params){2, 1, CLCNN_CONV_DIRECT}, z2),
            CLCNN_OK);
        double *r1 = th_read(z1), *r2 = th_read(z2);
        const double want1[4] = {6, 6, 6, 6}, want2[4] = {9, 7, 3, 6};
        for (int i = 0; i < 4; i++) {
            assert_true(r1[i] == want1[i]);
            assert_true(r2[i] == want2[i]);
        }
        free(r1);
        free(r2);
        clcnn_tensor_destroy(ta);
        clcnn_tensor_destroy(tw);
        clcnn_tensor_destroy(tb);
        clcnn_tensor_destroy(z1);
        clcnn_tensor_destroy(z2);
    }
    clcnn_context_destroy(ctx);
}

/* Same input and filter, stride 1, pad 0, dz = [[1, 2], [3, 4]]:
 *   dw[0][0] = 1*1 + 2*2 + 4*3 + 5*4 = 37, dw[0][1] = 47, dw[1][0] = 67,
 *   dw[1][1] = 77; db = 10; da_prev = dz placed at +(0,0) times 1 plus dz at
 *   +(1,1) times -1. */
void conv_backward_matches_hand_worked_example(void **state)
{
    (void)state;
    const double a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, dz[4] = {1, 2, 3, 4};
    clcnn_context *ctx = host();
    clcnn_tensor *ta = th_tensor(ctx, CLCNN_F64, 1, 3, 3, 1, a);
    clcnn_tensor *tw = th_tensor(ctx, CLCNN_F64, 2, 2, 1, 1, w);
    clcnn_tensor *tdz = th_tensor(ctx, CLCNN_F64, 1, 2, 2, 1, dz);
    clcnn_tensor *tda = th_tensor(ctx, CLCNN_F64, 1, 3, 3, 1, NULL);
    clcnn_tensor *tdw = th_tensor(ctx, CLCNN_F64, 2, 2, 1, 1, NULL);
    clcnn_tensor *tdb = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL);
    assert_int_equal(
        clcnn_conv2d_backward(ctx, tdz, ta, tw, (clcnn_conv_params){1, 0, CLCNN_CONV_GEMM}, tda, tdw, tdb),
        CLCNN_OK);
    double *da = th_read(tda), *dw = th_read(tdw), *db = th_read(tdb);
    const double want_da[9] = {1, 2, 0, 3, 4 - 1, -2, 0, -3, -4}, want_dw[4] = {37, 47, 67, 77};
    assert_memory_equal(da, want_da, sizeof want_da);
    assert_memory_equal(dw, want_dw, sizeof want_dw);
    assert_true(db[0] == 10.0);
    free(da);
    free(dw);
    free(db);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tdz);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tdw);
    clcnn_tensor_destroy(tdb);
    clcnn_context_destroy(ctx);
}

/* clcnn_context_last_conv_algos on the host backend: all AUTO at first;
 * DIRECT for each direction a call computed (whatever algo asked) and AUTO
 * for the others; a refused call leaves the record as it was. */
void last_conv_algos_record_what_each_call_computed(void **state)
{
    (void)state;
    const double v[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    clcnn_context *ctx = host();
    clcnn_tensor *a = th_tensor(ctx, CLCNN_F64, 1, 3, 3, 1, v), *w = th_tensor(ctx, CLCNN_F64, 2, 2, 1, 1, v),
                 *z = th_tensor(ctx, CLCNN_F64, 1, 2, 2, 1, v),
                 *da = th_tensor(ctx, CLCNN_F64, 1, 3, 3, 1, NULL),
                 *dw = th_tensor(ctx, CLCNN_F64, 2, 2, 1, 1, NULL),
                 *db = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL);
    const clcnn_conv_params p = {1, 0, CLCNN_CONV_GEMM};
    const clcnn_conv_algo A = CLCNN_CONV_AUTO, D = CLCNN_CONV_DIRECT;
    const struct {
        clcnn_tensor *da, *dw, *db;
        clcnn_conv_algo want[3];
    } calls[4] = {{NULL, NULL, NULL, {D, A, A}}, /* the forward */
                  {da, NULL, db, {A, D, A}},
                  {NULL, dw, NULL, {A, A, D}},
                  {NULL, NULL, db, {A, A, A}}};
    clcnn_conv_algo got[3];
    assert_int_equal(clcnn_context_last_conv_algos(ctx, got), CLCNN_OK);
    for (int d = 0; d < 3; d++)
        assert_int_equal(got[d], A);
    for (int i = 0; i < 4; i++) {
        if (i == 0)
            assert_int_equal(clcnn_conv2d_forward(ctx, a, w, NULL, p, z), CLCNN_OK);
        else
            assert_int_equal(clcnn_conv2d_backward(ctx, z, a, w, p, calls[i].da, calls[i].dw, calls[i].db),
                             CLCNN_OK);
        assert_int_equal(clcnn_context_last_conv_algos(ctx, got), CLCNN_OK);
        for (int d = 0; d < 3; d++)
            if (got[d] != calls[i].want[d])
                fail_msg("call %d: direction %d reported %d, expected %d", i, d, (int)got[d],
                         (int)calls[i].want[d]);
    }
    /* refused (z as its own da_prev): the record stays that of the last call */
    assert_int_equal(clcnn_conv2d_backward(ctx, z, a, w, p, z, NULL, NULL), CLCNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(clcnn_context_last_conv_algos(ctx, got), CLCNN_OK);
    for (int d = 0; d < 3; d++)
        assert_int_equal(got[d], A);
    assert_int_equal(clcnn_conv2d_forward(ctx, a, w, NULL, p, z), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_forward(ctx, a, w, NULL, (clcnn_conv_params){0, 0, CLCNN_CONV_AUTO}, z),
                     CLCNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(clcnn_context_last_conv_algos(ctx, got), CLCNN_OK);
    assert_int_equal(got[0], D);
    clcnn_tensor *all[6] = {a, w, z, da, dw, db};
    for (int i = 0; i < 6; i++)
        clcnn_tensor_destroy(all[i]);
    clcnn_context_destroy(ctx);
}

/* A NULL bias is the same as a zero bias. */
void conv_forward_without_bias_equals_zero_bias(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 3);
    double a[2 * 4 * 5 * 3], w[3 * 2 * 3 * 4];
    np_random_randn(&r, a, sizeof a / sizeof a[0]);
    np_random_randn(&r, w, sizeof w / sizeof w[0]);
    clcnn_context *ctx = host();
    clcnn_tensor *ta = th_tensor(ctx, CLCNN_F32, 2, 4, 5, 3, a);
    clcnn_tensor *tw = th_tensor(ctx, CLCNN_F32, 3, 2, 3, 4, w);
    clcnn_tensor *tb = th_tensor(ctx, CLCNN_F32, 1, 1, 1, 4, NULL);
    clcnn_tensor *z1 = th_tensor(ctx, CLCNN_F32, 2, 2, 4, 4, NULL);
    clcnn_tensor *z2 = th_tensor(ctx, CLCNN_F32, 2, 2, 4, 4, NULL);
    clcnn_conv_params p = {1, 0, CLCNN_CONV_AUTO};
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, NULL, p, z1), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, p, z2), CLCNN_OK);
    size_t n1, n2;
    unsigned char *s1 = th_snapshot(z1, &n1), *s2 = th_snapshot(z2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    free(s1);
    free(s2);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(z1);
    clcnn_tensor_destroy(z2);
    clcnn_context_destroy(ctx);
}

/* Outputs are overwritten, never accumulated into, and the same call gives
 * the same bytes. */
void outputs_are_overwritten_and_repeatable(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 4);
    double a[1 * 5 * 5 * 2], da[1 * 4 * 4 * 2];
    np_random_randn(&r, a, 50);
    np_random_randn(&r, da, 32);
    clcnn_context *ctx = host();
    clcnn_tensor *ta = th_tensor(ctx, CLCNN_F64, 1, 5, 5, 2, a);
    clcnn_tensor *tda = th_tensor(ctx, CLCNN_F64, 1, 4, 4, 2, da);
    clcnn_tensor *tout = th_tensor(ctx, CLCNN_F64, 1, 5, 5, 2, NULL);
    clcnn_pool_params p = {2, 1, CLCNN_POOL_AVG};
    assert_int_equal(clcnn_pool2d_backward(ctx, tda, ta, p, tout), CLCNN_OK);
    size_t n1, n2;
    unsigned char *first = th_snapshot(tout, &n1);
    assert_int_equal(clcnn_pool2d_backward(ctx, tda, ta, p, tout), CLCNN_OK);
    unsigned char *second = th_snapshot(tout, &n2);
    assert_memory_equal(first, second, n1);
    free(first);
    free(second);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tout);
    clcnn_context_destroy(ctx);
}

/* Max pooling: a window with two equal maxima sends da to both (the
 * notebook's x == max(x) mask); overlapping windows add up. Input 1x2x3x1
 * [[5, 1, 5], [0, 5, 2]], f 2, stride 1: windows [[5,1],[0,5]] and
 * [[1,5],[5,2]]; da = [3, 4]. */
void max_pool_ties_share_and_overlaps_add(void **state)
{
    (void)state;
    const double a[6] = {5, 1, 5, 0, 5, 2}, da[2] = {3, 4};
    clcnn_context *ctx = host();
    clcnn_tensor *ta = th_tensor(ctx, CLCNN_F64, 1, 2, 3, 1, a);
    clcnn_tensor *tda = th_tensor(ctx, CLCNN_F64, 1, 1, 2, 1, da);
    clcnn_tensor *tdp = th_tensor(ctx, CLCNN_F64, 1, 2, 3, 1, NULL);
    clcnn_tensor *to = th_tensor(ctx, CLCNN_F64, 1, 1, 2, 1, NULL);
    clcnn_pool_params p = {2, 1, CLCNN_POOL_MAX};
    assert_int_equal(clcnn_pool2d_forward(ctx, ta, p, to), CLCNN_OK);
    assert_int_equal(clcnn_pool2d_backward(ctx, tda, ta, p, tdp), CLCNN_OK);
    double *o = th_read(to), *dp = th_read(tdp);
    assert_true(o[0] == 5 && o[1] == 5);
    const double want[6] = {3, 0, 4, 0, 3 + 4, 0};
    assert_memory_equal(dp, want, sizeof want);
    free(o);
    free(dp);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tdp);
    clcnn_tensor_destroy(to);
    clcnn_context_destroy(ctx);
}

/* NaN follows numpy: a window holding NaN has max NaN (and mean NaN) and, in
 * max mode, passes no gradient back. Two 2x2 examples, f 2: [[1, NaN], [2, 0]]
 * and [[4, 3], [-1, 0]]; da = [5, 6]. */
void nan_windows_follow_numpy(void **state)
{
    (void)state;
    const double a[8] = {1, NAN, 2, 0, 4, 3, -1, 0}, da[2] = {5, 6};
    clcnn_context *ctx = host();
    clcnn_tensor *ta = th_tensor(ctx, CLCNN_F64, 2, 2, 2, 1, a);
    clcnn_tensor *tda = th_tensor(ctx, CLCNN_F64, 2, 1, 1, 1, da);
    clcnn_tensor *to = th_tensor(ctx, CLCNN_F64, 2, 1, 1, 1, NULL);
    clcnn_tensor *tdp = th_tensor(ctx, CLCNN_F64, 2, 2, 2, 1, NULL);
    clcnn_pool_params max = {2, 1, CLCNN_POOL_MAX}, avg = {2, 2, CLCNN_POOL_AVG};

    assert_int_equal(clcnn_pool2d_forward(ctx, ta, max, to), CLCNN_OK);
    double *o = th_read(to);
    assert_true(isnan(o[0]));
    assert_true(o[1] == 4.0);
    free(o);
    assert_int_equal(clcnn_pool2d_forward(ctx, ta, avg, to), CLCNN_OK);
    o = th_read(to);
    assert_true(isnan(o[0]));
    assert_true(o[1] == 1.5);
    free(o);

    assert_int_equal(clcnn_pool2d_backward(ctx, tda, ta, max, tdp), CLCNN_OK);
    double *dp = th_read(tdp);
    const double want[8] = {0, 0, 0, 0, 6, 0, 0, 0};
    assert_memory_equal(dp, want, sizeof want);
    free(dp);

    unsigned char mask[4] = {9, 9, 9, 9};
    clcnn_mask_from_window(a, 2, 2, mask);
    assert_memory_equal(mask, ((unsigned char[4]){0, 0, 0, 0}), 4);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(to);
    clcnn_tensor_destroy(tdp);
    clcnn_context_destroy(ctx);
}

/* The op descriptors the other suites run every op through (ops.h) agree
 * with the library: on random shapes (drawn past the valid ranges), every
 * slot's shape is what clcnn_conv2d_output_shape / clcnn_pool2d_output_shape
 * give, tc_fits holds exactly when they accept the case, and the FLOPs and
 * bytes (the figures clcnn-bench reports) are the hand counts of two of its
 * peer layers. */
void op_descriptors_agree_with_the_library(void **state)
{
    (void)state;
    const tc_limits wide = {{1, 3}, {1, 9}, {1, 9}, {1, 4}, {1, 5}, {1, 12}, {1, 12}, {1, 5}, {0, 3}, 0};
    np_random r;
    np_random_seed(&r, 6060);
    for (int id = 0; id < TC_OP_COUNT; id++) {
        const tc_op *op = tc_op_of((tc_op_id)id);
        assert_non_null(op);
        for (int k = 0; k < 300; k++) {
            tc_shape s = tc_draw(op, &wide, &r, NULL);
            assert_true(tc_fits(op, &s));
            int d[4], want[4];
            const int a[4] = {s.n, s.h, s.w, s.c}, w[4] = {s.fh, s.fw, s.c, s.cout};
            if (id == TC_CONV_FORWARD || id == TC_CONV_BACKWARD) {
                assert_int_equal(
                    clcnn_conv2d_output_shape(a, w, (clcnn_conv_params){s.stride, s.pad, 0}, want), CLCNN_OK);
                assert_true(tc_dims(op, &s, id == TC_CONV_FORWARD ? 3 : 0, d));
                assert_memory_equal(d, want, sizeof d);
                s.fh = s.h + 2 * s.pad + 1; /* too tall: refused by both */
                assert_false(tc_fits(op, &s));
                const int w2[4] = {s.fh, s.fw, s.c, s.cout};
                assert_int_equal(
                    clcnn_conv2d_output_shape(a, w2, (clcnn_conv_params){s.stride, s.pad, 0}, want),
                    CLCNN_ERR_SHAPE);
            } else if (id == TC_POOL_FORWARD || id == TC_POOL_BACKWARD) {
                assert_int_equal(
                    clcnn_pool2d_output_shape(a, (clcnn_pool_params){s.fh, s.stride, s.mode}, want),
                    CLCNN_OK);
                assert_true(tc_dims(op, &s, id == TC_POOL_FORWARD ? 1 : 0, d));
                assert_memory_equal(d, want, sizeof d);
                s.fh = s.fw = s.h + 1;
                assert_false(tc_fits(op, &s));
                assert_int_equal(
                    clcnn_pool2d_output_shape(a, (clcnn_pool_params){s.fh, s.stride, s.mode}, want),
                    CLCNN_ERR_SHAPE);
            }
        }
    }
    /* The FLOPs and bytes clcnn-bench reports (it takes them from these
     * descriptors), pinned by hand on two of its peer layers.
     * Peers "a": a_prev 64x56x56x64, 64 filters 3x3x64, stride 1, pad 1, so
     * Ho = Wo = (56 + 2 - 3) / 1 + 1 = 56. Forward: 2 N Ho Wo Cout fh fw Cin
     * = 2 * 64 * 56 * 56 * 64 * 3 * 3 * 64 = 14797504512; backward as much
     * per output asked for (da_prev; dw with db), 29595009024 for both.
     * Its zero_pad in F32: (64*56*56*64 + 64*58*58*64) * 4
     * = (12845056 + 13778944) * 4 = 106496000 bytes. */
    const tc_shape conv = {64, 56, 56, 64, 64, 3, 3, 1, 1, 1, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO};
    assert_true(tc_flops(tc_op_of(TC_CONV_FORWARD), &conv) == 14797504512.0);
    assert_true(tc_flops(tc_op_of(TC_CONV_BACKWARD), &conv) == 29595009024.0);
    tc_shape da_only = conv, dw_only = conv;
    da_only.omit = 2 | 4, dw_only.omit = 1;
    assert_true(tc_flops(tc_op_of(TC_CONV_BACKWARD), &da_only) == 14797504512.0);
    assert_true(tc_flops(tc_op_of(TC_CONV_BACKWARD), &dw_only) == 14797504512.0);
    assert_true(tc_bytes(tc_op_of(TC_CONV_FORWARD), &conv, CLCNN_F32) == 0.0);
    assert_true(tc_bytes(tc_op_of(TC_ZERO_PAD), &conv, CLCNN_F32) == 106496000.0);
    /* Peers "pool_max": a_prev 64x112x112x64, f 3, stride 2, so Ho = Wo =
     * (112 - 3) / 2 + 1 = 55: in = 64*112*112*64 = 51380224 and out =
     * 64*55*55*64 = 12390400 elements. Forward in F32 reads a_prev and
     * writes a: (51380224 + 12390400) * 4 = 255082496 bytes; backward reads
     * da and a_prev and writes da_prev: (12390400 + 2 * 51380224) * 4 =
     * 460603392. The average window (peers "pool_avg", f 2, Ho = Wo = 56,
     * out = 12845056) reads no a_prev: in F64 (12845056 + 51380224) * 8 =
     * 513802240. */
    const tc_shape pmax = {64, 112, 112, 64, 0, 3, 3, 2, 0, 0, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO};
    const tc_shape pavg = {64, 112, 112, 64, 0, 2, 2, 2, 0, 0, 0, CLCNN_POOL_AVG, CLCNN_CONV_AUTO};
    assert_true(tc_bytes(tc_op_of(TC_POOL_FORWARD), &pmax, CLCNN_F32) == 255082496.0);
    assert_true(tc_bytes(tc_op_of(TC_POOL_BACKWARD), &pmax, CLCNN_F32) == 460603392.0);
    assert_true(tc_bytes(tc_op_of(TC_POOL_BACKWARD), &pavg, CLCNN_F64) == 513802240.0);
    assert_true(tc_flops(tc_op_of(TC_POOL_FORWARD), &pmax) == 0.0);
}
