/* test_pool_desc_cases.c - the pooling desc's cases beside the
 * formulation (pool_desc.h): finite differences of the gradients, the two
 * max rules on tied windows and NaN, padding that never wins, the
 * notebook's form bit for bit against the old entry points, and every
 * other form refused on OpenCL. */
#include "pool_desc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Gradients by finite differences (F64, host)                             */
/* ------------------------------------------------------------------------ */

/* sum(a * r) for input x. */
static double loss(th_fixture *fx, const pcase *pc, const double *x, const double *r, clcnn_tensor *tx,
                   clcnn_tensor *ta)
{
    th_write(tx, x);
    assert_int_equal(clcnn_pool2d_forward_desc(th_host(fx), tx, &pc->d, ta), CLCNN_OK);
    double *a = th_read(ta), s = 0.0;
    for (size_t i = 0; i < th_count(ta); i++)
        s += a[i] * r[i];
    free(a);
    return s;
}

/* The backward against central differences of loss, with x's values at
 * least 1e-2 apart where distinct (max), and steps of 1e-6: the average is
 * linear, so only rounding separates them (about 1e-10). */
static void gradient_check(th_fixture *fx, const pcase *pc, int distinct)
{
    char desc[200];
    describe(pc, desc, sizeof desc);
    clcnn_context *ctx = th_host(fx);
    int od[4];
    out_dims_of(pc, od);
    const size_t in_n = (size_t)pc->n * pc->h * pc->w * pc->c, out_n = (size_t)od[0] * od[1] * od[2] * od[3];
    double *x = malloc(in_n * sizeof(double)), *r = malloc(out_n * sizeof(double));
    assert_true(x && r);
    np_random g;
    np_random_seed(&g, 3);
    np_random_randn(&g, r, out_n);
    np_random_randn(&g, x, in_n);
    if (distinct) { /* a permutation of 0.01 * k (step coprime to in_n): every value different */
        size_t step = 7;
        while (in_n % step == 0 || (in_n % 2 == 0 && step % 2 == 0) || (in_n % 3 == 0 && step % 3 == 0))
            step++;
        for (size_t i = 0; i < in_n; i++)
            x[i] = 0.01 * (double)((i * step + 3) % in_n) - 0.3;
    }
    clcnn_tensor *tx = th_fx_tensor(fx, ctx, CLCNN_F64, pc->n, pc->h, pc->w, pc->c, x);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, CLCNN_F64, od[0], od[1], od[2], od[3], NULL);
    clcnn_tensor *tr = th_fx_tensor(fx, ctx, CLCNN_F64, od[0], od[1], od[2], od[3], r);
    clcnn_tensor *tdx = th_fx_tensor(fx, ctx, CLCNN_F64, pc->n, pc->h, pc->w, pc->c, NULL);
    assert_int_equal(clcnn_pool2d_backward_desc(ctx, tr, tx, &pc->d, tdx), CLCNN_OK);
    double *dx = th_read(tdx);
    const double h = 1e-6;
    for (size_t i = 0; i < in_n; i++) {
        const double keep = x[i];
        x[i] = keep + h;
        const double up = loss(fx, pc, x, r, tx, ta);
        x[i] = keep - h;
        const double down = loss(fx, pc, x, r, tx, ta);
        x[i] = keep;
        const double fd = (up - down) / (2 * h);
        if (fabs(fd - dx[i]) > 1e-7 * (1.0 + fabs(dx[i])))
            fail_msg("da_prev[%zu] = %.12g but the finite difference gives %.12g for %s", i, dx[i], fd, desc);
    }
    free(dx);
    free(x);
    free(r);
}

void gradcheck_case(void **state)
{
    th_fixture *fx = th_fx(state);
    clcnn_pool_desc d;
    /* average, count_include_pad on and off, with pads and ceil mode on odd sizes */
    for (int cip = 0; cip < 2; cip++) {
        d = desc_of(3, 2, 2, 1, 1, 2, 1, 0, CLCNN_POOL_AVG);
        d.count_include_pad = cip;
        d.ceil_mode = 1;
        gradient_check(fx, &(pcase){2, 7, 5, 2, d}, 0);
        d = desc_of(3, 3, 2, 2, 2, 1, 0, 2, CLCNN_POOL_AVG);
        d.count_include_pad = cip;
        gradient_check(fx, &(pcase){1, 6, 5, 3, d}, 0);
    }
    /* FIRST_MAX (and ALL_TIES, the same on distinct values) with pads,
     * dilation and ceil mode */
    for (int rule = 0; rule < 2; rule++) {
        d = desc_of(3, 2, 2, 1, 1, 1, 1, 0, CLCNN_POOL_MAX);
        d.max_rule = rule ? CLCNN_POOL_FIRST_MAX : CLCNN_POOL_ALL_TIES;
        d.ceil_mode = 1;
        d.dilation_w = 2;
        gradient_check(fx, &(pcase){2, 7, 6, 2, d}, 1);
    }
}

/* ------------------------------------------------------------------------ */
/* The max rules on tied windows, NaN, and padding that never wins          */
/* ------------------------------------------------------------------------ */

/* Pools x (1, 2, 4, 1) with 2x2 windows, stride 2, under rule; returns the
 * forward in a[2] and the gradient of da = {g0, g1} in dx[8]. */
static void two_windows(th_fixture *fx, clcnn_dtype dt, const double x[8], clcnn_pool_max_rule rule,
                        double a[2], double dx[8])
{
    clcnn_context *ctx = th_host(fx);
    clcnn_pool_desc d = desc_of(2, 2, 2, 2, 0, 0, 0, 0, CLCNN_POOL_MAX);
    d.max_rule = rule;
    const double da[2] = {3.0, -5.0};
    clcnn_tensor *tx = th_fx_tensor(fx, ctx, dt, 1, 2, 4, 1, x);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, dt, 1, 1, 2, 1, NULL);
    clcnn_tensor *tda = th_fx_tensor(fx, ctx, dt, 1, 1, 2, 1, da);
    clcnn_tensor *tdx = th_fx_tensor(fx, ctx, dt, 1, 2, 4, 1, NULL);
    assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, ta), CLCNN_OK);
    assert_int_equal(clcnn_pool2d_backward_desc(ctx, tda, tx, &d, tdx), CLCNN_OK);
    double *ga = th_read(ta), *gdx = th_read(tdx);
    memcpy(a, ga, 2 * sizeof(double));
    memcpy(dx, gdx, 8 * sizeof(double));
    free(ga);
    free(gdx);
}

static void expect_values(const double *got, const double *want, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (!(got[i] == want[i] || (isnan(got[i]) && isnan(want[i]))))
            fail_msg("%s[%d] = %g, want %g", what, i, got[i], want[i]);
}

void tied_windows_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    /* rows of (1, 2, 4, 1): window 0 is x[0], x[1], x[4], x[5]; window 1
     * x[2], x[3], x[6], x[7]. Window 0 all equal; window 1 tied at its
     * 2nd and 3rd positions (x[3], x[6]). */
    const double x[8] = {2, 2, 1, 7, 2, 2, 7, -1};
    double a[2], dx[8];
    two_windows(fx, cfg->dtype, x, CLCNN_POOL_ALL_TIES, a, dx);
    expect_values(a, (const double[]){2, 7}, 2, "a (ALL_TIES)");
    expect_values(dx, (const double[]){3, 3, 0, -5, 3, 3, -5, 0}, 8, "da_prev (ALL_TIES)");
    two_windows(fx, cfg->dtype, x, CLCNN_POOL_FIRST_MAX, a, dx);
    expect_values(a, (const double[]){2, 7}, 2, "a (FIRST_MAX)");
    expect_values(dx, (const double[]){3, 0, 0, -5, 0, 0, 0, 0}, 8, "da_prev (FIRST_MAX)");

    /* NaN: window 0 holds two (x[1], x[4]); its max is NaN, ALL_TIES
     * passes nothing back, FIRST_MAX all to the first NaN */
    const double xn[8] = {1, NAN, 0, 4, NAN, 9, 3, 4};
    two_windows(fx, cfg->dtype, xn, CLCNN_POOL_ALL_TIES, a, dx);
    expect_values(a, (const double[]){NAN, 4}, 2, "a (NaN, ALL_TIES)");
    expect_values(dx, (const double[]){0, 0, 0, -5, 0, 0, 0, -5}, 8, "da_prev (NaN, ALL_TIES)");
    two_windows(fx, cfg->dtype, xn, CLCNN_POOL_FIRST_MAX, a, dx);
    expect_values(a, (const double[]){NAN, 4}, 2, "a (NaN, FIRST_MAX)");
    expect_values(dx, (const double[]){0, 3, 0, -5, 0, 0, 0, 0}, 8, "da_prev (NaN, FIRST_MAX)");
}

/* v rounded to dt. */
static double as_dtype(double v, clcnn_dtype dt)
{
    return dt == CLCNN_F32 ? (double)(float)v : v;
}

/* Negative inputs with padding: the max is an input's, never the padding's
 * zero; the average divides by 9 with count_include_pad, by 4 without. */
void padding_never_wins_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    clcnn_context *ctx = th_host(fx);
    const double x[4] = {-4, -3, -2, -6};
    clcnn_tensor *tx = th_fx_tensor(fx, ctx, cfg->dtype, 1, 2, 2, 1, x);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 1, 2, 2, 1, NULL);
    clcnn_pool_desc d = desc_of(3, 3, 1, 1, 1, 1, 1, 1, CLCNN_POOL_MAX);
    assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, ta), CLCNN_OK);
    double *a = th_read(ta);
    expect_values(a, (const double[]){-2, -2, -2, -2}, 4, "a (max, padded)");
    free(a);
    d.mode = CLCNN_POOL_AVG;
    assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, ta), CLCNN_OK);
    a = th_read(ta);
    const double p = as_dtype(-15.0 / 9, cfg->dtype);
    expect_values(a, (const double[]){p, p, p, p}, 4, "a (avg, cip 1)");
    free(a);
    d.count_include_pad = 0;
    assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, ta), CLCNN_OK);
    a = th_read(ta);
    const double q = as_dtype(-15.0 / 4, cfg->dtype);
    expect_values(a, (const double[]){q, q, q, q}, 4, "a (avg, cip 0)");
    free(a);
}

/* ------------------------------------------------------------------------ */
/* The notebook's form: the old entry points' bits, host and OpenCL          */
/* ------------------------------------------------------------------------ */

static clcnn_context *config_context(th_fixture *fx, const th_config *cfg)
{
    return cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
}

static void expect_same_bytes(const clcnn_tensor *a, const clcnn_tensor *b, const char *what)
{
    size_t na, nb;
    unsigned char *sa = th_snapshot(a, &na), *sb = th_snapshot(b, &nb);
    const int same = na == nb && memcmp(sa, sb, na) == 0;
    free(sa);
    free(sb);
    if (!same)
        fail_msg("%s: the desc entry point's bytes differ from the old entry point's", what);
}

void notebook_form_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    clcnn_context *ctx = config_context(fx, cfg);
    np_random r;
    np_random_seed(&r, 1);
    static const int fs[][2] = {{1, 1}, {2, 1}, {2, 2}, {3, 1}, {3, 2}, {3, 3}, {4, 3}};
    const int n = 2, h = 9, w = 8, c = 8;
    double x[2 * 9 * 8 * 8], da[2 * 9 * 8 * 8];
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++)
        for (int m = 0; m < 2; m++)
            for (int variant = 0; variant < 2; variant++) {
                const clcnn_pool_params p = {fs[k][0], fs[k][1], m ? CLCNN_POOL_AVG : CLCNN_POOL_MAX};
                clcnn_pool_desc d = clcnn_pool_desc_from_params(p);
                /* the fields the notebook's form ignores: count_include_pad
                 * without pads, and FIRST_MAX in a forward */
                d.count_include_pad = variant;
                const int ho = (h - p.f) / p.stride + 1, wo = (w - p.f) / p.stride + 1;
                np_random_randn(&r, x, (size_t)n * h * w * c);
                if (variant) /* ties */
                    for (int i = 0; i < n * h * w * c; i++)
                        x[i] = (double)((int)(x[i] * 2));
                np_random_randn(&r, da, (size_t)n * ho * wo * c);
                char what[96];
                snprintf(what, sizeof what, "f %d stride %d %s cip %d", p.f, p.stride, m ? "avg" : "max",
                         variant);
                clcnn_tensor *tx = th_fx_tensor(fx, ctx, cfg->dtype, n, h, w, c, x);
                clcnn_tensor *tda = th_fx_tensor(fx, ctx, cfg->dtype, n, ho, wo, c, da);
                clcnn_tensor *a0 = th_fx_tensor(fx, ctx, cfg->dtype, n, ho, wo, c, NULL);
                clcnn_tensor *a1 = th_fx_tensor(fx, ctx, cfg->dtype, n, ho, wo, c, NULL);
                clcnn_tensor *dx0 = th_fx_tensor(fx, ctx, cfg->dtype, n, h, w, c, NULL);
                clcnn_tensor *dx1 = th_fx_tensor(fx, ctx, cfg->dtype, n, h, w, c, NULL);
                assert_int_equal(clcnn_pool2d_forward(ctx, tx, p, a0), CLCNN_OK);
                assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, a1), CLCNN_OK);
                expect_same_bytes(a0, a1, what);
                assert_int_equal(clcnn_pool2d_backward(ctx, tda, tx, p, dx0), CLCNN_OK);
                assert_int_equal(clcnn_pool2d_backward_desc(ctx, tda, tx, &d, dx1), CLCNN_OK);
                expect_same_bytes(dx0, dx1, what);
                d.max_rule = CLCNN_POOL_FIRST_MAX;
                th_fill(a1, 0.0, 0.0);
                assert_int_equal(clcnn_pool2d_forward_desc(ctx, tx, &d, a1), CLCNN_OK);
                expect_same_bytes(a0, a1, what);
                if (m) { /* the rule means nothing to an average backward */
                    th_fill(dx1, 0.0, 0.0);
                    assert_int_equal(clcnn_pool2d_backward_desc(ctx, tda, tx, &d, dx1), CLCNN_OK);
                    expect_same_bytes(dx0, dx1, what);
                }
                th_drop(fx, tx);
                th_drop(fx, tda);
                th_drop(fx, a0);
                th_drop(fx, a1);
                th_drop(fx, dx0);
                th_drop(fx, dx1);
            }
}

#ifdef CLCNN_TEST_OPENCL
/* Every form beyond the notebook's on an OpenCL context: CLCNN_ERR_UNSUPPORTED
 * with the sentence naming the field, the outputs untouched. */
typedef struct {
    const char *what, *needle;
    clcnn_pool_desc d;
    int forward_runs; /* FIRST_MAX: only the max backward is refused */
} beyond;

void beyond_notebook_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    clcnn_context *ctx = th_device(fx);
    const clcnn_pool_desc base = desc_of(2, 2, 1, 1, 0, 0, 0, 0, CLCNN_POOL_MAX);
    beyond cases[8];
    for (int i = 0; i < 8; i++)
        cases[i] = (beyond){NULL, NULL, base, 0};
    cases[0].what = "rectangular window", cases[0].needle = "d->fw 3", cases[0].d.fw = 3;
    cases[1].what = "unequal strides", cases[1].needle = "d->stride_w 2", cases[1].d.stride_w = 2;
    cases[2].what = "pad_top", cases[2].needle = "d->pad_top 1", cases[2].d.pad_top = 1;
    cases[3].what = "pad_right", cases[3].needle = "d->pad_right 1", cases[3].d.pad_right = 1;
    cases[4].what = "dilation", cases[4].needle = "d->dilation_h 2", cases[4].d.dilation_h = 2;
    cases[5].what = "ceil mode", cases[5].needle = "d->ceil_mode 1", cases[5].d.ceil_mode = 1;
    cases[6].what = "FIRST_MAX", cases[6].needle = "CLCNN_POOL_FIRST_MAX",
    cases[6].d.max_rule = CLCNN_POOL_FIRST_MAX, cases[6].forward_runs = 1;
    cases[7].what = "average with pads", cases[7].needle = "d->pad_left 1", cases[7].d.mode = CLCNN_POOL_AVG,
    cases[7].d.pad_left = 1;
    static const char sentence[] = "is not yet supported on the OpenCL backend; use a host context";
    for (int i = 0; i < 8; i++) {
        const beyond *b = &cases[i];
        const int id[4] = {2, 6, 7, 4};
        int od[4];
        assert_int_equal(clcnn_pool2d_output_shape_desc(id, &b->d, od), CLCNN_OK);
        clcnn_tensor *tx = th_fx_tensor(fx, ctx, cfg->dtype, 2, 6, 7, 4, NULL);
        clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, od[0], od[1], od[2], od[3], NULL);
        clcnn_tensor *tdx = th_fx_tensor(fx, ctx, cfg->dtype, 2, 6, 7, 4, NULL);
        th_fill(tx, 0.5, 0.25);
        th_fill(ta, -3.0, 1.0);
        th_fill(tdx, 7.0, -0.5);
        size_t na, ndx;
        unsigned char *sa = th_snapshot(ta, &na), *sdx = th_snapshot(tdx, &ndx);
        clcnn_status s = clcnn_pool2d_forward_desc(ctx, tx, &b->d, ta);
        if (b->forward_runs) {
            assert_int_equal(s, CLCNN_OK);
        } else {
            if (s != CLCNN_ERR_UNSUPPORTED)
                fail_msg("%s forward: %s, want CLCNN_ERR_UNSUPPORTED", b->what, clcnn_status_string(s));
            const char *msg = clcnn_last_error(ctx);
            if (!strstr(msg, "clcnn_pool2d_forward_desc: ") || !strstr(msg, sentence) ||
                !strstr(msg, b->needle))
                fail_msg("%s forward: message \"%s\"", b->what, msg);
            th_expect_unchanged(ta, sa, na, "a");
        }
        s = clcnn_pool2d_backward_desc(ctx, ta, tx, &b->d, tdx);
        if (s != CLCNN_ERR_UNSUPPORTED)
            fail_msg("%s backward: %s, want CLCNN_ERR_UNSUPPORTED", b->what, clcnn_status_string(s));
        const char *msg = clcnn_last_error(ctx);
        if (!strstr(msg, "clcnn_pool2d_backward_desc: ") || !strstr(msg, sentence) || !strstr(msg, b->needle))
            fail_msg("%s backward: message \"%s\"", b->what, msg);
        th_expect_unchanged(tdx, sdx, ndx, "da_prev");
        free(sa);
        free(sdx);
        th_drop(fx, tx);
        th_drop(fx, ta);
        th_drop(fx, tdx);
    }
}
#endif
