/* test_pool_desc.c - pooling with a clcnn_pool_desc: random descs against a
 * formulation written here from the PyTorch/ONNX definitions (each
 * window's element list built tap by tap in padded coordinates), finite
 * differences of the gradients, the two max rules on tied windows, ResNet's
 * padded max pool, the notebook's form bit for bit against the old entry
 * points (host and OpenCL), and every other form refused on OpenCL. This
 * file holds the formulation, the check of one case against it and main;
 * the comparisons of random descs and real shapes against it are in
 * test_pool_desc_formulation.c, the other cases in test_pool_desc_cases.c
 * (pool_desc.h). */
#include "pool_desc.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The formulation of this file                                             */
/* ------------------------------------------------------------------------ */

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

void out_dims_of(const pcase *pc, int out[4])
{
    const clcnn_pool_desc *d = &pc->d;
    out[0] = pc->n;
    out[1] = windows_along(pc->h, d->pad_top, d->pad_bottom, d->fh, d->stride_h, d->dilation_h, d->ceil_mode);
    out[2] = windows_along(pc->w, d->pad_left, d->pad_right, d->fw, d->stride_w, d->dilation_w, d->ceil_mode);
    out[3] = pc->c;
}

void window_of(const pcase *pc, int oy, int ox, window *win)
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
int valid_case(const pcase *pc)
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

size_t at4(const int d[4], int i, int y, int x, int k)
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

void describe(const pcase *pc, char *buf, size_t len)
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
void check_case(th_fixture *fx, clcnn_context *ctx, const pcase *pc, clcnn_dtype dt, const double *x,
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
/* Descs by field                                                           */
/* ------------------------------------------------------------------------ */

clcnn_pool_desc desc_of(int fh, int fw, int sh, int sw, int pt, int pb, int pl, int pr, clcnn_pool_mode mode)
{
    clcnn_pool_desc d = clcnn_pool_desc_from_params((clcnn_pool_params){fh, sh, mode});
    d.fw = fw, d.stride_w = sw;
    d.pad_top = pt, d.pad_bottom = pb, d.pad_left = pl, d.pad_right = pr;
    return d;
}

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
