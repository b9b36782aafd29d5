/* test_gradcheck_pool.c - pool2d_backward against central finite
 * differences of pool2d_forward, average and max (test_gradcheck.c says
 * how and within what, and why max pooling takes distinct inputs). */
#include "gradcheck.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pooling has no padding and a square window, so "pad > f" and "fh != fw" do
 * not apply; the other special cases do. */
/* why, m, H, W, C, f, stride. */
#define POOL(why, m, h, w, c, f, stride)                                                                     \
    {                                                                                                        \
        why,                                                                                                 \
        {                                                                                                    \
            m, h, w, c, 0, f, f, stride, 0, 0, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO                            \
        }                                                                                                    \
    }

static const named_shape pool_special[] = {
    POOL("stride > f", 1, 7, 6, 2, 2, 3),
    POOL("f = 1", 1, 3, 4, 2, 1, 1),
    POOL("f = 1, stride > f", 2, 5, 4, 1, 1, 2),
    POOL("non-square input", 1, 3, 7, 2, 2, 2),
    POOL("non-square input, overlapping windows", 2, 5, 3, 2, 3, 1),
    POOL("single channel", 1, 6, 6, 1, 2, 2),
    POOL("single channel, overlapping windows (stride < f)", 1, 5, 6, 1, 3, 1),
    POOL("window as large as the input (1x1 output)", 2, 3, 3, 3, 3, 1),
    POOL("1x1 input", 1, 1, 1, 3, 1, 1),
    POOL("stride leaves the last row and column unused", 1, 6, 4, 2, 3, 2),
};

static named_shape draw_pool_case(np_random *r)
{
    named_shape c = {NULL, tc_draw(tc_op_of(TC_POOL_FORWARD), &tc_small_limits, r, NULL)};
    return c;
}

static void pool_describe(const named_shape *c, clcnn_pool_mode mode, int index, char *buf, size_t len)
{
    snprintf(buf, len, "%s pool case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], f %d, stride %d",
             mode == CLCNN_POOL_MAX ? "max" : "avg", index, c->why ? c->why : "random", c->s.n, c->s.h,
             c->s.w, c->s.c, c->s.fh, c->s.stride);
}

typedef struct {
    clcnn_context *ctx;
    clcnn_pool_params p;
    const char *desc;
    size_t na, nz;
    double *a, *g, *z;
    clcnn_tensor *ta, *tz;
} pool_problem;

static double pool_loss(void *problem)
{
    pool_problem *P = problem;
    write_f64(P->ta, P->a, P->na, P->desc);
    clcnn_status s = clcnn_pool2d_forward(P->ctx, P->ta, P->p, P->tz);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_forward: %s: %s", P->desc, clcnn_status_string(s),
                 clcnn_last_error(P->ctx));
    read_f64(P->tz, P->z, P->nz, P->desc);
    return dot(P->g, P->z, P->nz);
}

/* n distinct values: a random permutation of a grid spaced 0.01 apart and
 * centred on 0, plus jitter in [-0.001, 0.001), rounded to multiples of
 * 2^-30.  Distinct values end up at least 0.008 apart. */
static double *distinct_array(np_random *r, size_t n)
{
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(np_random_double(r) * (double)i);
        if (j >= i)
            j = i - 1;
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    double *x = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        x[i] = quantize(((double)perm[i] - (double)n / 2.0) * 0.01 + (np_random_double(r) - 0.5) * 0.002);
    free(perm);
    return x;
}

/* As check_conv_case. */
static int check_pool_case(th_fixture *f, np_random *r, const named_shape *nc, clcnn_pool_mode mode,
                           int index, gc_stats *st, char *failure, size_t failure_len)
{
    char desc[320];
    pool_describe(nc, mode, index, desc, sizeof desc);
    const tc_op *fwd = tc_op_of(TC_POOL_FORWARD), *bwd = tc_op_of(TC_POOL_BACKWARD);
    tc_shape c = nc->s;
    c.mode = mode;
    if (!tc_fits(fwd, &c))
        fail_msg("%s: the window does not fit the input (bad test case)", desc);
    const int ad[4] = {c.n, c.h, c.w, c.c};
    int zd[4];
    pool_problem P;
    P.ctx = th_host(f);
    P.p = (clcnn_pool_params){c.fh, c.stride, mode};
    P.desc = desc;
    clcnn_status s = clcnn_pool2d_output_shape(ad, P.p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {c.n, (c.h - c.fh) / c.stride + 1, (c.w - c.fh) / c.stride + 1, c.c};
    if (memcmp(zd, want, sizeof want) != 0)
        fail_msg("%s: clcnn_pool2d_output_shape gives [%d][%d][%d][%d], want [%d][%d][%d][%d]", desc, zd[0],
                 zd[1], zd[2], zd[3], want[0], want[1], want[2], want[3]);
    int fz[4];
    tc_dims(fwd, &c, 1, fz);
    if (memcmp(zd, fz, sizeof fz) != 0)
        fail_msg("%s: the descriptor's output shape [%d][%d][%d][%d] is not the library's", desc, fz[0],
                 fz[1], fz[2], fz[3]);

    const double eps = mode == CLCNN_POOL_MAX ? MAX_POOL_EPS : LINEAR_EPS;
    P.na = count4(ad), P.nz = count4(zd);
    P.a = mode == CLCNN_POOL_MAX ? distinct_array(r, P.na) : randn_array(r, P.na);
    P.g = randn_array(r, P.nz);
    P.z = xmalloc(P.nz);
    if (mode == CLCNN_POOL_MAX) {
        /* The precondition of the max check: no step of +-eps reorders two
         * values, with a wide margin. */
        for (size_t i = 0; i < P.na; i++)
            for (size_t j = i + 1; j < P.na; j++)
                if (!(fabs(P.a[i] - P.a[j]) > 50.0 * eps))
                    fail_msg("%s: inputs %zu and %zu are only %g apart (bad test data)", desc, i, j,
                             fabs(P.a[i] - P.a[j]));
    }
    tc_tensors ft, bt;
    th_case_make(f, P.ctx, fwd, &c, CLCNN_F64, (double *const[TC_MAX_IN]){P.a, NULL, NULL}, &ft);
    P.ta = ft.in[0], P.tz = ft.out[0];

    th_case_make(f, P.ctx, bwd, &c, CLCNN_F64, (double *const[TC_MAX_IN]){P.g, P.a, NULL}, &bt);
    junk_outputs(&bt);
    s = tc_run(&bt);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(P.ctx));
    double *dp = th_read(bt.out[0]);

    /* The tolerance of the header comment: each output reads f*f inputs
     * (plus one division for the average), each |output| <= max|a|. */
    const double amax = max_abs(P.a, P.na) + eps, gsum = sum_abs(P.g, P.nz);
    const double k = (double)c.fh * c.fh + 1.0 + (double)P.nz + 1.0;
    const double tol = fd_tolerance(k, gsum * amax, eps, gsum * fmax(1.0, amax));

    int bad = fd_check(pool_loss, &P, P.a, ad, dp, eps, tol, desc, "da_prev", st, failure, failure_len);
    st->cases++;

    free(dp);
    th_case_free(f, &bt);
    th_case_free(f, &ft);
    free(P.a), free(P.g), free(P.z);
    return bad;
}

static void check_pool_special(th_fixture *f, clcnn_pool_mode mode, uint32_t seed)
{
    const size_t n = sizeof pool_special / sizeof pool_special[0];
    int stride_gt_f = 0, f1 = 0, nonsquare_in = 0, one_ch = 0, overlap = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_shape *c = &pool_special[i].s;
        stride_gt_f |= c->stride > c->fh;
        f1 |= c->fh == 1;
        nonsquare_in |= c->h != c->w;
        one_ch |= c->c == 1;
        overlap |= c->stride < c->fh;
    }
    assert_true(stride_gt_f && f1 && nonsquare_in && one_ch && overlap);

    np_random r;
    np_random_seed(&r, seed);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_pool_case(f, &r, &pool_special[i], mode, (int)i, &st, failure, sizeof failure);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool special shapes" : "avg pool special shapes", &st);
}

static void check_pool_random(th_fixture *f, clcnn_pool_mode mode, uint32_t seed)
{
    np_random r;
    np_random_seed(&r, seed);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        named_shape c = draw_pool_case(&r);
        check_pool_case(f, &r, &c, mode, i, &st, failure, sizeof failure);
    }
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool random shapes" : "avg pool random shapes", &st);
}

void pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    check_pool_special(th_fx(state), CLCNN_POOL_AVG, 2001);
}

void pool_avg_backward_matches_finite_differences_on_random_shapes(void **state)
{
    check_pool_random(th_fx(state), CLCNN_POOL_AVG, 2002);
}

void pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    check_pool_special(th_fx(state), CLCNN_POOL_MAX, 3001);
}

void pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs(void **state)
{
    check_pool_random(th_fx(state), CLCNN_POOL_MAX, 3002);
}
