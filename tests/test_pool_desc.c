/* test_pool_desc.c - pooling with a clcnn_pool_desc: random descs against a
 * formulation written here from the PyTorch/ONNX definitions (each
 * window's element list built tap by tap in padded coordinates), finite
 * differences of the gradients, the two max rules on tied windows, ResNet's
 * padded max pool, the notebook's form bit for bit against the old entry
 * points (host and OpenCL), and every other form refused on OpenCL. */
#include "helpers.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The formulation of this file                                             */
/* ------------------------------------------------------------------------ */

/* An input shape and a desc. */
typedef struct {
    int n, h, w, c;
    clcnn_pool_desc d;
} pcase;

#define MAX_TAPS 64

/* One output's window: the input positions of its taps that fall inside
 * the input, in row-major tap order, and its taps inside the padded input
 * (the count_include_pad divisor). */
typedef struct {
    int count;
    int y[MAX_TAPS], x[MAX_TAPS];
    int in_padded;
} window;

/* Outputs along one axis: window o starts at o*s in padded coordinates;
 * floor mode keeps the windows that end inside the padded input, ceil
 * mode also the one that runs past it, provided each starts before the end
 * padding. 0 when not even one window fits. */
static int windows_along(int n, int pb, int pe, int f, int s, int dil, int ceil_mode)
{
    const long padded = (long)n + pb + pe, extent = (long)dil * (f - 1) + 1;
    if (extent > padded)
        return 0;
    int count = 0;
    for (long start = 0;; start += s, count++) {
        const int ends_inside = start + extent <= padded;
        const int ceil_extra = ceil_mode && start < padded - extent + s && start < (long)n + pb;
        if (!ends_inside && !ceil_extra)
            break;
    }
    return count;
}

static void out_dims_of(const pcase *pc, int out[4])
{
    const clcnn_pool_desc *d = &pc->d;
    out[0] = pc->n;
    out[1] = windows_along(pc->h, d->pad_top, d->pad_bottom, d->fh, d->stride_h, d->dilation_h, d->ceil_mode);
    out[2] = windows_along(pc->w, d->pad_left, d->pad_right, d->fw, d->stride_w, d->dilation_w, d->ceil_mode);
    out[3] = pc->c;
}

static void window_of(const pcase *pc, int oy, int ox, window *win)
{
    const clcnn_pool_desc *d = &pc->d;
    assert_true(d->fh * d->fw <= MAX_TAPS);
    win->count = 0;
    win->in_padded = 0;
    for (int ty = 0; ty < d->fh; ty++)
        for (int tx = 0; tx < d->fw; tx++) {
            const int py = oy * d->stride_h + ty * d->dilation_h, px = ox * d->stride_w + tx * d->dilation_w;
            if (py < pc->h + d->pad_top + d->pad_bottom && px < pc->w + d->pad_left + d->pad_right)
                win->in_padded++;
            if (py >= d->pad_top && py < d->pad_top + pc->h && px >= d->pad_left &&
                px < d->pad_left + pc->w) {
                win->y[win->count] = py - d->pad_top;
                win->x[win->count] = px - d->pad_left;
                win->count++;
            }
        }
}

/* Whether the library must accept pc: a window fits, and every window
 * holds an input position. */
static int valid_case(const pcase *pc)
{
    int od[4];
    out_dims_of(pc, od);
    if (od[1] < 1 || od[2] < 1)
        return 0;
    window win;
    for (int oy = 0; oy < od[1]; oy++)
        for (int ox = 0; ox < od[2]; ox++) {
            window_of(pc, oy, ox, &win);
            if (win.count == 0)
                return 0;
        }
    return 1;
}

static size_t at4(const int d[4], int i, int y, int x, int k)
{
    return (((size_t)i * (size_t)d[1] + (size_t)y) * (size_t)d[2] + (size_t)x) * (size_t)d[3] + (size_t)k;
}

static double divisor_of(const pcase *pc, const window *win)
{
    return pc->d.count_include_pad ? (double)win->in_padded : (double)win->count;
}

/* The maximum of the window's values, NaN if one is NaN, and the position
 * (index into win) of the first value equal to it (or first NaN). */
static double window_max(const double *v, const window *win, int *first)
{
    double m = -INFINITY;
    *first = -1;
    for (int e = 0; e < win->count; e++)
        if (isnan(v[e])) {
            *first = e;
            return NAN;
        }
    for (int e = 0; e < win->count; e++)
        if (v[e] > m || *first < 0) {
            m = v[e];
            *first = e;
        }
    return m;
}

/* Expected forward a and backward da_prev of pc from x and da, with the
 * bound of each element (0: exact). */
typedef struct {
    double *a, *a_tol, *dx, *dx_tol;
} expected;

static void expect_case(const pcase *pc, const double *x, const double *da, clcnn_dtype dt, expected *e)
{
    const int id[4] = {pc->n, pc->h, pc->w, pc->c};
    int od[4];
    out_dims_of(pc, od);
    const size_t in_n = (size_t)id[0] * id[1] * id[2] * id[3], out_n = (size_t)od[0] * od[1] * od[2] * od[3];
    e->a = calloc(out_n, sizeof(double));
    e->a_tol = calloc(out_n, sizeof(double));
    e->dx = calloc(in_n, sizeof(double));
    e->dx_tol = calloc(in_n, sizeof(double));
    double *abs_sum = calloc(in_n, sizeof(double));
    int *terms = calloc(in_n, sizeof(int));
    assert_true(e->a && e->a_tol && e->dx && e->dx_tol && abs_sum && terms);
    window win;
    double v[MAX_TAPS];
    for (int i = 0; i < od[0]; i++)
        for (int oy = 0; oy < od[1]; oy++)
            for (int ox = 0; ox < od[2]; ox++) {
                window_of(pc, oy, ox, &win);
                for (int k = 0; k < od[3]; k++) {
                    const size_t o = at4(od, i, oy, ox, k);
                    for (int t = 0; t < win.count; t++)
                        v[t] = x[at4(id, i, win.y[t], win.x[t], k)];
                    const double g = da[o];
                    if (pc->d.mode == CLCNN_POOL_MAX) {
                        int first;
                        const double m = window_max(v, &win, &first);
                        e->a[o] = m;
                        for (int t = 0; t < win.count; t++) {
                            const int gets = pc->d.max_rule == CLCNN_POOL_FIRST_MAX ? t == first : v[t] == m;
                            if (gets)
                                e->dx[at4(id, i, win.y[t], win.x[t], k)] += g; /* small integers: exact */
                        }
                        continue;
                    }
                    /* average: the sum and its bound (n-1 roundings of the library's double sum) */
                    long double s = 0, sa = 0;
                    for (int t = 0; t < win.count; t++)
                        s += v[t], sa += fabs(v[t]);
                    const double div = divisor_of(pc, &win);
                    e->a[o] = (double)(s / div);
                    e->a_tol[o] = (double)(win.count * DBL_EPSILON * sa / div);
                    for (int t = 0; t < win.count; t++) {
                        const size_t p = at4(id, i, win.y[t], win.x[t], k);
                        e->dx[p] += g / div;
                        abs_sum[p] += fabs(g / div);
                        terms[p]++;
                    }
                }
            }
    for (size_t p = 0; p < in_n; p++) /* each share rounded once, then summed */
        e->dx_tol[p] = (terms[p] + 1) * DBL_EPSILON * abs_sum[p];
    if (dt == CLCNN_F32) { /* the one rounding to F32 of the double result */
        for (size_t o = 0; o < out_n; o++)
            e->a_tol[o] += FLT_EPSILON * fabs(e->a[o]);
        for (size_t p = 0; p < in_n; p++)
            e->dx_tol[p] += FLT_EPSILON * fabs(e->dx[p]);
    }
    free(abs_sum);
    free(terms);
}

static void expected_free(expected *e)
{
    free(e->a);
    free(e->a_tol);
    free(e->dx);
    free(e->dx_tol);
}

static void describe(const pcase *pc, char *buf, size_t len)
{
    const clcnn_pool_desc *d = &pc->d;
    snprintf(buf, len,
             "(%d,%d,%d,%d) %s f %dx%d s %d,%d pads t%d b%d l%d r%d dil %d,%d ceil %d cip %d rule %d", pc->n,
             pc->h, pc->w, pc->c, d->mode == CLCNN_POOL_MAX ? "max" : "avg", d->fh, d->fw, d->stride_h,
             d->stride_w, d->pad_top, d->pad_bottom, d->pad_left, d->pad_right, d->dilation_h, d->dilation_w,
             d->ceil_mode, d->count_include_pad, (int)d->max_rule);
}

static void expect_near(const double *got, const double *want, const double *tol, size_t n, const char *what,
                        const char *desc)
{
    for (size_t i = 0; i < n; i++) {
        const int same = (isnan(got[i]) && isnan(want[i])) || fabs(got[i] - want[i]) <= tol[i];
        if (!same)
            fail_msg("%s[%zu] = %.17g, want %.17g (bound %.3g) for %s", what, i, got[i], want[i], tol[i],
                     desc);
    }
}

/* Runs pc forward and backward on ctx in dt from x and da (values exact in
 * dt), checking the output shape, a and da_prev against this file's
 * formulation. */
static void check_case(th_fixture *fx, clcnn_context *ctx, const pcase *pc, clcnn_dtype dt, const double *x,
                       const double *da)
{
    char desc[200];
    describe(pc, desc, sizeof desc);
    const int id[4] = {pc->n, pc->h, pc->w, pc->c};
    int od[4], lib[4];
    out_dims_of(pc, od);
    if (clcnn_pool2d_output_shape_desc(id, &pc->d, lib) != CLCNN_OK)
        fail_msg("output shape of %s: %s", desc, clcnn_last_error(NULL));
    if (memcmp(od, lib, sizeof od) != 0)
        fail_msg("output shape of %s: (%d, %d, %d, %d), want (%d, %d, %d, %d)", desc, lib[0], lib[1], lib[2],
                 lib[3], od[0], od[1], od[2], od[3]);
    expected e;
    expect_case(pc, x, da, dt, &e);
    clcnn_tensor *tx = th_fx_tensor(fx, ctx, dt, id[0], id[1], id[2], id[3], x);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, dt, od[0], od[1], od[2], od[3], NULL);
    clcnn_tensor *tda = th_fx_tensor(fx, ctx, dt, od[0], od[1], od[2], od[3], da);
    clcnn_tensor *tdx = th_fx_tensor(fx, ctx, dt, id[0], id[1], id[2], id[3], NULL);
    if (clcnn_pool2d_forward_desc(ctx, tx, &pc->d, ta) != CLCNN_OK ||
        clcnn_pool2d_backward_desc(ctx, tda, tx, &pc->d, tdx) != CLCNN_OK)
        fail_msg("%s: %s", desc, clcnn_last_error(ctx));
    double *a = th_read(ta), *dx = th_read(tdx);
    expect_near(a, e.a, e.a_tol, th_count(ta), "a", desc);
    expect_near(dx, e.dx, e.dx_tol, th_count(tdx), "da_prev", desc);
    free(a);
    free(dx);
    expected_free(&e);
    th_drop(fx, tx);
    th_drop(fx, ta);
    th_drop(fx, tda);
    th_drop(fx, tdx);
}

/* ------------------------------------------------------------------------ */
/* Random descs                                                             */
/* ------------------------------------------------------------------------ */

static unsigned long long rng_state;

static int rnd(int n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng_state >> 33) % (unsigned long long)n);
}

static pcase random_case(void)
{
    pcase pc;
    pc.n = 1 + rnd(2), pc.h = 1 + rnd(9), pc.w = 1 + rnd(9), pc.c = 1 + rnd(3);
    clcnn_pool_desc *d = &pc.d;
    d->mode = rnd(2) ? CLCNN_POOL_MAX : CLCNN_POOL_AVG;
    d->fh = 1 + rnd(4), d->fw = 1 + rnd(4);
    d->stride_h = 1 + rnd(3), d->stride_w = 1 + rnd(3);
    const int padded = rnd(3) != 0;
    d->pad_top = padded ? rnd(d->fh) : 0, d->pad_bottom = padded ? rnd(d->fh) : 0;
    d->pad_left = padded ? rnd(d->fw) : 0, d->pad_right = padded ? rnd(d->fw) : 0;
    const int dilated = d->mode == CLCNN_POOL_MAX && rnd(2);
    d->dilation_h = dilated ? 1 + rnd(3) : 1, d->dilation_w = dilated ? 1 + rnd(3) : 1;
    d->ceil_mode = rnd(2), d->count_include_pad = rnd(2);
    d->max_rule = rnd(2) ? CLCNN_POOL_FIRST_MAX : CLCNN_POOL_ALL_TIES;
    return pc;
}

/* Features of the random cases, each to be met at least MIN_PER_FEATURE
 * times per dtype. */
enum {
    F_RECT,
    F_STRIDES,
    F_PADS,
    F_CEIL_EXTRA,
    F_CIP_ON,
    F_CIP_OFF,
    F_DILATION,
    F_ALL_TIES,
    F_FIRST_MAX,
    F_TIED,
    F_REJECTED,
    F_SKIPPED,
    N_FEATURES
};
static const char *const feature_names[N_FEATURES] = {"rectangular window",
                                                      "unequal strides",
                                                      "padding",
                                                      "ceil mode adding a window",
                                                      "count_include_pad 1, pads",
                                                      "count_include_pad 0, pads",
                                                      "dilation",
                                                      "max ALL_TIES",
                                                      "max FIRST_MAX",
                                                      "max with a tied window",
                                                      "rejected by the rule",
                                                      "rejected: a dilated window skipping the input"};
#define MIN_PER_FEATURE 200
#define N_RANDOM 4000

static int has_tie(const pcase *pc, const double *x)
{
    const int id[4] = {pc->n, pc->h, pc->w, pc->c};
    int od[4];
    out_dims_of(pc, od);
    window win;
    for (int oy = 0; oy < od[1]; oy++)
        for (int ox = 0; ox < od[2]; ox++) {
            window_of(pc, oy, ox, &win);
            for (int a = 0; a < win.count; a++)
                for (int b = a + 1; b < win.count; b++)
                    if (x[at4(id, 0, win.y[a], win.x[a], 0)] == x[at4(id, 0, win.y[b], win.x[b], 0)])
                        return 1;
        }
    return 0;
}

static void count_features(const pcase *pc, const double *x, int *counts)
{
    const clcnn_pool_desc *d = &pc->d;
    const int pads = d->pad_top || d->pad_bottom || d->pad_left || d->pad_right;
    pcase floor_case = *pc;
    floor_case.d.ceil_mode = 0;
    int od[4], fd[4];
    out_dims_of(pc, od);
    out_dims_of(&floor_case, fd);
    counts[F_RECT] += d->fh != d->fw;
    counts[F_STRIDES] += d->stride_h != d->stride_w;
    counts[F_PADS] += pads;
    counts[F_CEIL_EXTRA] += od[1] != fd[1] || od[2] != fd[2];
    counts[F_CIP_ON] += d->mode == CLCNN_POOL_AVG && pads && d->count_include_pad;
    counts[F_CIP_OFF] += d->mode == CLCNN_POOL_AVG && pads && !d->count_include_pad;
    counts[F_DILATION] += d->dilation_h > 1 || d->dilation_w > 1;
    counts[F_ALL_TIES] += d->mode == CLCNN_POOL_MAX && d->max_rule == CLCNN_POOL_ALL_TIES;
    counts[F_FIRST_MAX] += d->mode == CLCNN_POOL_MAX && d->max_rule == CLCNN_POOL_FIRST_MAX;
    counts[F_TIED] += d->mode == CLCNN_POOL_MAX && has_tie(pc, x);
}

/* Inputs: small integers (ties for max, exact sums for average) in two
 * cases of three, else normal values rounded to dt; da small integers. */
static void random_values(np_random *r, double *x, size_t n, int integers, clcnn_dtype dt)
{
    if (integers) {
        for (size_t i = 0; i < n; i++)
            x[i] = (double)(rnd(9) - 4);
        return;
    }
    np_random_randn(r, x, n);
    if (dt == CLCNN_F32)
        for (size_t i = 0; i < n; i++)
            x[i] = (double)(float)x[i];
}

static void random_descs_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    rng_state = 20240601u + (unsigned)cfg->dtype;
    np_random r;
    np_random_seed(&r, 7);
    int counts[N_FEATURES] = {0};
    for (int c = 0; c < N_RANDOM; c++) {
        const pcase pc = random_case();
        const int id[4] = {pc.n, pc.h, pc.w, pc.c};
        int out[4] = {-7, -7, -7, -7};
        if (!valid_case(&pc)) {
            char desc[200];
            describe(&pc, desc, sizeof desc);
            const clcnn_status s = clcnn_pool2d_output_shape_desc(id, &pc.d, out);
            if (s != CLCNN_ERR_SHAPE)
                fail_msg("%s has a window with no input position, or none fits, but the library gave %s",
                         desc, clcnn_status_string(s));
            assert_int_equal(out[0], -7);
            counts[F_REJECTED]++;
            int od[4];
            out_dims_of(&pc, od);
            counts[F_SKIPPED] += od[1] > 0 && od[2] > 0;
            continue;
        }
        int od[4];
        out_dims_of(&pc, od);
        const size_t in_n = (size_t)pc.n * pc.h * pc.w * pc.c, out_n = (size_t)od[0] * od[1] * od[2] * od[3];
        double *x = malloc(in_n * sizeof(double)), *da = malloc(out_n * sizeof(double));
        assert_true(x && da);
        random_values(&r, x, in_n, rnd(3) != 0, cfg->dtype);
        random_values(&r, da, out_n, 1, cfg->dtype);
        count_features(&pc, x, counts);
        check_case(fx, th_host(fx), &pc, cfg->dtype, x, da);
        free(x);
        free(da);
    }
    /* a dilated window stepping over the whole input is rare by nature */
    for (int f = 0; f < N_FEATURES; f++)
        if (counts[f] < (f == F_SKIPPED ? 1 : MIN_PER_FEATURE))
            fail_msg("only %d random cases with %s (want %d)", counts[f], feature_names[f],
                     f == F_SKIPPED ? 1 : MIN_PER_FEATURE);
}

/* ------------------------------------------------------------------------ */
/* Shapes of real networks                                                  */
/* ------------------------------------------------------------------------ */

static clcnn_pool_desc desc_of(int fh, int fw, int sh, int sw, int pt, int pb, int pl, int pr,
                               clcnn_pool_mode mode)
{
    clcnn_pool_desc d = clcnn_pool_desc_from_params((clcnn_pool_params){fh, sh, mode});
    d.fw = fw, d.stride_w = sw;
    d.pad_top = pt, d.pad_bottom = pb, d.pad_left = pl, d.pad_right = pr;
    return d;
}

/* ResNet's first max pool: 3x3, stride 2, pad 1 takes 112 to 56. */
static void resnet_max_pool_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    const clcnn_pool_desc d = desc_of(3, 3, 2, 2, 1, 1, 1, 1, CLCNN_POOL_MAX);
    const int id[4] = {1, 112, 112, 64};
    int od[4];
    assert_int_equal(clcnn_pool2d_output_shape_desc(id, &d, od), CLCNN_OK);
    assert_int_equal(od[0], 1);
    assert_int_equal(od[1], 56);
    assert_int_equal(od[2], 56);
    assert_int_equal(od[3], 64);
    /* the same on 2 channels against this file's formulation, all values
     * negative so that a zero of the padding would win if it could */
    const pcase pc = {1, 112, 112, 2, d};
    const size_t in_n = 112 * 112 * 2, out_n = 56 * 56 * 2;
    double *x = malloc(in_n * sizeof(double)), *da = malloc(out_n * sizeof(double));
    assert_true(x && da);
    for (size_t i = 0; i < in_n; i++)
        x[i] = -1.0 - (double)((i * 7919) % 13);
    for (size_t i = 0; i < out_n; i++)
        da[i] = (double)(i % 5) - 2.0;
    check_case(fx, th_host(fx), &pc, cfg->dtype, x, da);
    free(x);
    free(da);
}

/* Global average and max pooling: one window over the whole input. */
static void global_pool_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    const int id[4] = {2, 5, 4, 3};
    for (int m = 0; m < 2; m++) {
        const clcnn_pool_mode mode = m ? CLCNN_POOL_AVG : CLCNN_POOL_MAX;
        const clcnn_pool_desc d = clcnn_pool_desc_global(id, mode);
        int od[4];
        assert_int_equal(clcnn_pool2d_output_shape_desc(id, &d, od), CLCNN_OK);
        assert_int_equal(od[1], 1);
        assert_int_equal(od[2], 1);
        const pcase pc = {2, 5, 4, 3, d};
        double x[120], da[6];
        for (int i = 0; i < 120; i++)
            x[i] = (double)((i * 37) % 11) - 5.0;
        for (int i = 0; i < 6; i++)
            da[i] = (double)i - 2.0;
        check_case(fx, th_host(fx), &pc, cfg->dtype, x, da);
    }
    /* NULL dims: a 0 x 0 window, which the calls reject */
    const clcnn_pool_desc bad = clcnn_pool_desc_global(NULL, CLCNN_POOL_AVG);
    int od[4];
    assert_int_equal(clcnn_pool2d_output_shape_desc(id, &bad, od), CLCNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clcnn_last_error(NULL), "d->fh is 0"));
}

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

static void gradcheck_case(void **state)
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

static void tied_windows_case(void **state)
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
static void padding_never_wins_case(void **state)
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

static void notebook_form_case(void **state)
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

static void beyond_notebook_case(void **state)
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

/* ------------------------------------------------------------------------ */
/* main                                                                       */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    CMUnitTestFunction fn;
    int every_backend; /* 0: the host only */
} pool_desc_case;

static const pool_desc_case cases[] = {
    {"random_descs_against_definition", random_descs_case, 0},
    {"resnet_padded_max_pool", resnet_max_pool_case, 0},
    {"global_pooling", global_pool_case, 0},
    {"tied_windows_all_ties_and_first_max", tied_windows_case, 0},
    {"padding_never_wins", padding_never_wins_case, 0},
    {"notebook_form_matches_old_entry_points", notebook_form_case, 1},
#ifdef CLCNN_TEST_OPENCL
    {"opencl_refuses_beyond_notebook_form", beyond_notebook_case, 2},
#endif
};

#define N_CASES (sizeof cases / sizeof cases[0])

int main(void)
{
    static th_config configs[] = {
        {CLCNN_BACKEND_HOST, CLCNN_F64},
        {CLCNN_BACKEND_HOST, CLCNN_F32},
#ifdef CLCNN_TEST_OPENCL
        {CLCNN_BACKEND_OPENCL, CLCNN_F64},
        {CLCNN_BACKEND_OPENCL, CLCNN_F32},
#endif
    };
    enum { N_CONFIGS = sizeof configs / sizeof configs[0] };
    static char names[N_CASES * N_CONFIGS + 1][96];
    static struct CMUnitTest tests[N_CASES * N_CONFIGS + 1];
    size_t n = 0;
    for (size_t c = 0; c < N_CASES; c++)
        for (size_t k = 0; k < (size_t)N_CONFIGS; k++) {
            th_config *cfg = &configs[k];
            const int opencl = cfg->backend == CLCNN_BACKEND_OPENCL;
            /* every_backend 0: host configs, 1: all, 2: OpenCL configs */
            if ((cases[c].every_backend == 0 && opencl) || (cases[c].every_backend == 2 && !opencl))
                continue;
            snprintf(names[n], sizeof names[n], "%s/%s/%s", cases[c].name, th_backend_name(cfg->backend),
                     th_dtype_name(cfg->dtype));
            tests[n] = (struct CMUnitTest){names[n], cases[c].fn, th_setup, th_teardown, cfg};
            n++;
        }
    snprintf(names[n], sizeof names[n], "gradients_by_finite_differences/host/f64");
    tests[n] = (struct CMUnitTest){names[n], gradcheck_case, th_setup, th_teardown, &configs[0]};
    n++;
    return _cmocka_run_group_tests("pool_desc", tests, n, NULL, NULL);
}
