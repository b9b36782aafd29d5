/* test_conv_desc.c - the clcnn_conv_desc entry points (per-side pads,
 * per-axis strides, dilation, groups):
 *  - against an independent formulation built from the notebook's entry
 *    points: a_prev padded by hand, the dilated filter expanded with zeros
 *    into an ordinary one, each group an ungrouped convolution of its channel
 *    slice, strides by subsampling a stride-1 result (and, backward, by
 *    scattering dz into a stride-1 gradient);
 *  - finite differences of a scalar loss for each new parameter;
 *  - the notebook's form: the same bytes as the old entry points, on the
 *    host and on OpenCL contexts;
 *  - OpenCL contexts: every other form CLCNN_ERR_UNSUPPORTED, outputs kept. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One convolution: a_prev [m][h][w][c], w [fh][fw][c / groups][nc], the
 * descriptor, and the output size it gives. */
typedef struct {
    int m, h, w, c;
    int fh, fw, nc;
    clcnn_conv_desc d;
    int zh, zw;
} cd_case;

static int cpg(const cd_case *k)
{
    return k->c / k->d.groups;
}

static int opg(const cd_case *k)
{
    return k->nc / k->d.groups;
}

static size_t a_count(const cd_case *k)
{
    return (size_t)k->m * k->h * k->w * k->c;
}

static size_t w_count(const cd_case *k)
{
    return (size_t)k->fh * k->fw * cpg(k) * k->nc;
}

static size_t z_count(const cd_case *k)
{
    return (size_t)k->m * k->zh * k->zw * k->nc;
}

/* The case as text, for failure messages. */
static const char *describe(const cd_case *k)
{
    static char s[256];
    const clcnn_conv_desc *d = &k->d;
    snprintf(s, sizeof s,
             "a_prev (%d, %d, %d, %d) w (%d, %d, %d, %d) pads t%d b%d l%d r%d strides %d,%d dilation %d,%d "
             "groups %d",
             k->m, k->h, k->w, k->c, k->fh, k->fw, cpg(k), k->nc, d->pad_top, d->pad_bottom, d->pad_left,
             d->pad_right, d->stride_h, d->stride_w, d->dilation_h, d->dilation_w, d->groups);
    return s;
}

static int rnd(np_random *r, int n)
{
    return (int)(np_random_u32(r) % (uint32_t)n);
}

/* ---- the entry points under test, on double arrays ---------------------- */

static double *forward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k,
                            const double *a, const double *w, const double *b)
{
    clcnn_tensor *ta = th_fx_tensor(f, ctx, dt, k->m, k->h, k->w, k->c, a);
    clcnn_tensor *tw = th_fx_tensor(f, ctx, dt, k->fh, k->fw, cpg(k), k->nc, w);
    clcnn_tensor *tb = b ? th_fx_tensor(f, ctx, dt, 1, 1, 1, k->nc, b) : NULL;
    clcnn_tensor *tz = th_fx_tensor(f, ctx, dt, k->m, k->zh, k->zw, k->nc, NULL);
    clcnn_status s = clcnn_conv2d_forward_desc(ctx, ta, tw, tb, &k->d, tz);
    if (s != CLCNN_OK)
        fail_msg("clcnn_conv2d_forward_desc %s: %s: %s", describe(k), clcnn_status_string(s),
                 clcnn_last_error(ctx));
    double *z = th_read(tz);
    th_drop(f, tz);
    th_drop(f, tb);
    th_drop(f, tw);
    th_drop(f, ta);
    return z;
}

/* da, dw, db: new arrays. */
static void backward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k,
                          const double *dz, const double *a, const double *w, double **da, double **dw,
                          double **db)
{
    clcnn_tensor *tdz = th_fx_tensor(f, ctx, dt, k->m, k->zh, k->zw, k->nc, dz);
    clcnn_tensor *ta = th_fx_tensor(f, ctx, dt, k->m, k->h, k->w, k->c, a);
    clcnn_tensor *tw = th_fx_tensor(f, ctx, dt, k->fh, k->fw, cpg(k), k->nc, w);
    clcnn_tensor *tda = th_fx_tensor(f, ctx, dt, k->m, k->h, k->w, k->c, NULL);
    clcnn_tensor *tdw = th_fx_tensor(f, ctx, dt, k->fh, k->fw, cpg(k), k->nc, NULL);
    clcnn_tensor *tdb = th_fx_tensor(f, ctx, dt, 1, 1, 1, k->nc, NULL);
    clcnn_status s = clcnn_conv2d_backward_desc(ctx, tdz, ta, tw, &k->d, tda, tdw, tdb);
    if (s != CLCNN_OK)
        fail_msg("clcnn_conv2d_backward_desc %s: %s: %s", describe(k), clcnn_status_string(s),
                 clcnn_last_error(ctx));
    *da = th_read(tda);
    *dw = th_read(tdw);
    *db = th_read(tdb);
    clcnn_tensor *ts[] = {tdb, tdw, tda, tw, ta, tdz};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        th_drop(f, ts[i]);
}

/* ---- the independent formulation (notebook entry points, host) ---------- */

/* The ungrouped, undilated, stride-1, unpadded problem of group g: its
 * padded input slice, its expanded filter, and their sizes. */
typedef struct {
    int ph, pw; /* padded input */
    int eh, ew; /* expanded (dilated) filter */
    int z1h, z1w;
    double *ag, *wg;
} cd_group;

static double *zeros(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static void group_make(const cd_case *k, int g, const double *a, const double *w, cd_group *gp)
{
    const clcnn_conv_desc *d = &k->d;
    const int cg = cpg(k), og = opg(k);
    gp->ph = k->h + d->pad_top + d->pad_bottom;
    gp->pw = k->w + d->pad_left + d->pad_right;
    gp->eh = d->dilation_h * (k->fh - 1) + 1;
    gp->ew = d->dilation_w * (k->fw - 1) + 1;
    gp->z1h = gp->ph - gp->eh + 1;
    gp->z1w = gp->pw - gp->ew + 1;
    gp->ag = zeros((size_t)k->m * gp->ph * gp->pw * cg);
    gp->wg = zeros((size_t)gp->eh * gp->ew * cg * og);
    for (int i = 0; i < k->m; i++)
        for (int y = 0; y < k->h; y++)
            for (int x = 0; x < k->w; x++)
                for (int c = 0; c < cg; c++)
                    gp->ag[(((size_t)i * gp->ph + y + d->pad_top) * gp->pw + x + d->pad_left) * cg + c] =
                        a[(((size_t)i * k->h + y) * k->w + x) * k->c + g * cg + c];
    for (int y = 0; y < k->fh; y++)
        for (int x = 0; x < k->fw; x++)
            for (int c = 0; c < cg; c++)
                for (int o = 0; o < og; o++)
                    gp->wg[(((size_t)y * d->dilation_h * gp->ew + x * d->dilation_w) * cg + c) * og + o] =
                        w[(((size_t)y * k->fw + x) * cg + c) * k->nc + g * og + o];
}

static void group_free(cd_group *gp)
{
    free(gp->ag);
    free(gp->wg);
}

static const clcnn_conv_params plain = {1, 0, CLCNN_CONV_AUTO};

static double *indep_forward(th_fixture *f, clcnn_dtype dt, const cd_case *k, const double *a,
                             const double *w, const double *b)
{
    clcnn_context *ctx = th_host(f);
    const int og = opg(k);
    double *z = zeros(z_count(k));
    for (int g = 0; g < k->d.groups; g++) {
        cd_group gp;
        group_make(k, g, a, w, &gp);
        clcnn_tensor *ta = th_fx_tensor(f, ctx, dt, k->m, gp.ph, gp.pw, cpg(k), gp.ag);
        clcnn_tensor *tw = th_fx_tensor(f, ctx, dt, gp.eh, gp.ew, cpg(k), og, gp.wg);
        clcnn_tensor *tb = b ? th_fx_tensor(f, ctx, dt, 1, 1, 1, og, b + g * og) : NULL;
        clcnn_tensor *tz = th_fx_tensor(f, ctx, dt, k->m, gp.z1h, gp.z1w, og, NULL);
        assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, plain, tz), CLCNN_OK);
        double *z1 = th_read(tz);
        for (int i = 0; i < k->m; i++)
            for (int y = 0; y < k->zh; y++)
                for (int x = 0; x < k->zw; x++)
                    for (int o = 0; o < og; o++)
                        z[(((size_t)i * k->zh + y) * k->zw + x) * k->nc + g * og + o] =
                            z1[(((size_t)i * gp.z1h + (size_t)y * k->d.stride_h) * gp.z1w +
                                (size_t)x * k->d.stride_w) *
                                   og +
                               o];
        free(z1);
        th_drop(f, tz);
        th_drop(f, tb);
        th_drop(f, tw);
        th_drop(f, ta);
        group_free(&gp);
    }
    return z;
}

static void indep_backward(th_fixture *f, clcnn_dtype dt, const cd_case *k, const double *dz, const double *a,
                           const double *w, double **da, double **dw, double **db)
{
    clcnn_context *ctx = th_host(f);
    const clcnn_conv_desc *d = &k->d;
    const int cg = cpg(k), og = opg(k);
    *da = zeros(a_count(k));
    *dw = zeros(w_count(k));
    *db = zeros((size_t)k->nc);
    for (int g = 0; g < d->groups; g++) {
        cd_group gp;
        group_make(k, g, a, w, &gp);
        /* dz of the stride-1 problem: the given dz at the kept positions. */
        double *dz1 = zeros((size_t)k->m * gp.z1h * gp.z1w * og);
        for (int i = 0; i < k->m; i++)
            for (int y = 0; y < k->zh; y++)
                for (int x = 0; x < k->zw; x++)
                    for (int o = 0; o < og; o++)
                        dz1[(((size_t)i * gp.z1h + (size_t)y * d->stride_h) * gp.z1w +
                             (size_t)x * d->stride_w) *
                                og +
                            o] = dz[(((size_t)i * k->zh + y) * k->zw + x) * k->nc + g * og + o];
        clcnn_tensor *tdz = th_fx_tensor(f, ctx, dt, k->m, gp.z1h, gp.z1w, og, dz1);
        clcnn_tensor *ta = th_fx_tensor(f, ctx, dt, k->m, gp.ph, gp.pw, cg, gp.ag);
        clcnn_tensor *tw = th_fx_tensor(f, ctx, dt, gp.eh, gp.ew, cg, og, gp.wg);
        clcnn_tensor *tda = th_fx_tensor(f, ctx, dt, k->m, gp.ph, gp.pw, cg, NULL);
        clcnn_tensor *tdw = th_fx_tensor(f, ctx, dt, gp.eh, gp.ew, cg, og, NULL);
        clcnn_tensor *tdb = th_fx_tensor(f, ctx, dt, 1, 1, 1, og, NULL);
        assert_int_equal(clcnn_conv2d_backward(ctx, tdz, ta, tw, plain, tda, tdw, tdb), CLCNN_OK);
        double *dap = th_read(tda), *dwe = th_read(tdw), *dbg = th_read(tdb);
        /* Crop the padding off, keep the taps of the dilated filter. */
        for (int i = 0; i < k->m; i++)
            for (int y = 0; y < k->h; y++)
                for (int x = 0; x < k->w; x++)
                    for (int c = 0; c < cg; c++)
                        (*da)[(((size_t)i * k->h + y) * k->w + x) * k->c + g * cg + c] =
                            dap[(((size_t)i * gp.ph + y + d->pad_top) * gp.pw + x + d->pad_left) * cg + c];
        for (int y = 0; y < k->fh; y++)
            for (int x = 0; x < k->fw; x++)
                for (int c = 0; c < cg; c++)
                    for (int o = 0; o < og; o++)
                        (*dw)[(((size_t)y * k->fw + x) * cg + c) * k->nc + g * og + o] =
                            dwe[(((size_t)y * d->dilation_h * gp.ew + x * d->dilation_w) * cg + c) * og + o];
        for (int o = 0; o < og; o++)
            (*db)[g * og + o] = dbg[o];
        free(dap);
        free(dwe);
        free(dbg);
        clcnn_tensor *ts[] = {tdb, tdw, tda, tw, ta, tdz};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
            th_drop(f, ts[i]);
        free(dz1);
        group_free(&gp);
    }
}

/* ---- random cases --------------------------------------------------------- */

enum { F_PADS = 1, F_STRIDES = 2, F_DILATION = 4, F_GROUPS = 8, F_ALL = 15 };

/* A random valid case in which the parameters of feat vary (the others keep
 * the notebook's form: equal pads and strides, dilation 1, groups 1). */
static cd_case random_case(np_random *r, unsigned feat)
{
    for (;;) {
        cd_case k = {0};
        int groups = 1, cg = 1 + rnd(r, 3), og = 1 + rnd(r, 3);
        if (feat & F_GROUPS) {
            groups = 1 + rnd(r, 4);
            if (rnd(r, 2))
                cg = 1; /* depthwise: a multiplier of og = 1 to 3 */
        }
        k.m = 1 + rnd(r, 2);
        k.h = 1 + rnd(r, 7);
        k.w = 1 + rnd(r, 7);
        k.c = groups * cg;
        k.fh = 1 + rnd(r, 3);
        k.fw = 1 + rnd(r, 3);
        k.nc = groups * og;
        const int p = rnd(r, 3), s = 1 + rnd(r, 2);
        k.d = (clcnn_conv_desc){p, p, p, p, s, s, 1, 1, groups, CLCNN_CONV_AUTO};
        if (feat & F_PADS) {
            k.d.pad_top = rnd(r, 4);
            k.d.pad_bottom = rnd(r, 4);
            k.d.pad_left = rnd(r, 4);
            k.d.pad_right = rnd(r, 4);
        }
        if (feat & F_STRIDES) {
            k.d.stride_h = 1 + rnd(r, 3);
            k.d.stride_w = 1 + rnd(r, 3);
        }
        if (feat & F_DILATION) {
            k.d.dilation_h = 1 + rnd(r, 4);
            k.d.dilation_w = 1 + rnd(r, 4);
        }
        int out[4];
        if (clcnn_conv2d_output_shape_desc((int[]){k.m, k.h, k.w, k.c}, (int[]){k.fh, k.fw, cg, k.nc}, &k.d,
                                           out) != CLCNN_OK)
            continue; /* the dilated window is larger than the padded input */
        k.zh = out[1];
        k.zw = out[2];
        return k;
    }
}

/* n values: small integers in [-3, 3], or normal values rounded to dt. */
static double *random_data(np_random *r, size_t n, int integers, clcnn_dtype dt)
{
    double *x = zeros(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = integers ? (double)(rnd(r, 7) - 3) : np_random_gauss(r);
        if (dt == CLCNN_F32)
            x[i] = (double)(float)x[i];
    }
    return x;
}

static double *magnitudes(const double *x, size_t n)
{
    double *m = zeros(n);
    for (size_t i = 0; i < n; i++)
        m[i] = fabs(x[i]);
    return m;
}

/* Fails unless got[i] == want[i] (tol NULL) or |got[i] - want[i]| <= tol[i]. */
static void expect_close(const double *got, const double *want, const double *tol, size_t n, const char *what,
                         const cd_case *k)
{
    for (size_t i = 0; i < n; i++) {
        const double err = fabs(got[i] - want[i]);
        if (tol ? !(err <= tol[i]) : got[i] != want[i])
            fail_msg("%s[%zu] = %.17g, the independent formulation %.17g (tolerance %.3g) for %s", what, i,
                     got[i], want[i], tol ? tol[i] : 0.0, describe(k));
    }
}

/* The bound on |desc - independent| of one output whose terms' magnitudes
 * sum to mag: both sum the same nonzero products (the independent one also
 * exact zeros) in double, each within gamma_n * mag of the exact sum, with
 * n at most the terms of any one sum (n below); F32 then rounds each once,
 * within 2^-24 relative, so twice 2^-24 * mag more. */
static void tolerances(double *tol, size_t count, double n, clcnn_dtype dt)
{
    const double u = 0x1p-53, gamma = n * u / (1.0 - n * u);
    for (size_t i = 0; i < count; i++)
        tol[i] = (2.0 * gamma + (dt == CLCNN_F32 ? 0x1p-23 : 0.0)) * tol[i];
}

/* Runs one case forward and backward through both formulations. Integer
 * data compares exactly: inputs are integers within 3, so every product and
 * partial sum is an integer below 2 * 13 * 13 * 9 < 2^24 in magnitude (the
 * most terms of one sum: backward filter over 2 images of at most 13 x 13
 * stride-1 positions), which double and F32 hold exactly; every order of
 * summation then gives the same value. Real data compares within
 * tolerances(). */
static void check_case(th_fixture *f, np_random *r, const cd_case *k, clcnn_dtype dt, int integers)
{
    double *a = random_data(r, a_count(k), integers, dt), *w = random_data(r, w_count(k), integers, dt);
    double *b = random_data(r, (size_t)k->nc, integers, dt), *dz = random_data(r, z_count(k), integers, dt);
    double *z = forward_desc(f, th_host(f), dt, k, a, w, b);
    double *zi = indep_forward(f, dt, k, a, w, b);
    double *da, *dw, *db, *dai, *dwi, *dbi;
    backward_desc(f, th_host(f), dt, k, dz, a, w, &da, &dw, &db);
    indep_backward(f, dt, k, dz, a, w, &dai, &dwi, &dbi);
    double *tz = NULL, *tda = NULL, *tdw = NULL, *tdb = NULL;
    if (!integers) {
        /* The terms' magnitudes: the same sums on |inputs| in F64. */
        double *ma = magnitudes(a, a_count(k)), *mw = magnitudes(w, w_count(k));
        double *mb = magnitudes(b, (size_t)k->nc), *mdz = magnitudes(dz, z_count(k));
        tz = indep_forward(f, CLCNN_F64, k, ma, mw, mb);
        indep_backward(f, CLCNN_F64, k, mdz, ma, mw, &tda, &tdw, &tdb);
        const double eh = k->d.dilation_h * (k->fh - 1) + 1, ew = k->d.dilation_w * (k->fw - 1) + 1;
        const double ph = k->h + k->d.pad_top + k->d.pad_bottom, pw = k->w + k->d.pad_left + k->d.pad_right;
        /* forward: the expanded window and b; backward data: the expanded
         * window's taps over every output channel of the group; filter and
         * bias: every stride-1 output position. */
        const double n = eh * ew * (cpg(k) + opg(k)) + k->m * ph * pw + 1;
        tolerances(tz, z_count(k), n, dt);
        tolerances(tda, a_count(k), n, dt);
        tolerances(tdw, w_count(k), n, dt);
        tolerances(tdb, (size_t)k->nc, n, dt);
        free(ma);
        free(mw);
        free(mb);
        free(mdz);
    }
    expect_close(z, zi, tz, z_count(k), "z", k);
    expect_close(da, dai, tda, a_count(k), "da_prev", k);
    expect_close(dw, dwi, tdw, w_count(k), "dw", k);
    expect_close(db, dbi, tdb, (size_t)k->nc, "db", k);
    double *all[] = {a, w, b, dz, z, zi, da, dw, db, dai, dwi, dbi, tz, tda, tdw, tdb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

typedef struct {
    unsigned feat;
    clcnn_dtype dtype;
    int integers;
} feature_config;

enum { CASES_PER_FEATURE = 200 };

static void desc_matches_independent_formulation(void **state)
{
    th_fixture *f = th_fx(state);
    const feature_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r, 7000u + 16u * cfg->feat + 2u * (uint32_t)cfg->dtype + (uint32_t)cfg->integers);
    for (int i = 0; i < CASES_PER_FEATURE; i++) {
        const cd_case k = random_case(&r, cfg->feat);
        check_case(f, &r, &k, cfg->dtype, cfg->integers);
    }
}

/* ---- finite differences (F64, host) -------------------------------------- */

/* L = sum(z * r) of the desc forward. */
static double loss(th_fixture *f, const cd_case *k, const double *a, const double *w, const double *b,
                   const double *rz)
{
    double *z = forward_desc(f, th_host(f), CLCNN_F64, k, a, w, b);
    double l = 0.0;
    for (size_t i = 0; i < z_count(k); i++)
        l += z[i] * rz[i];
    free(z);
    return l;
}

/* Compares grad (of L with respect to x, n values) with central differences
 * of step h. L is affine in each of a_prev, w and b, so a central difference
 * has no truncation error: what remains is the rounding of the two L
 * evaluations, each within gamma_N * lmag (N terms of magnitudes summing to
 * lmag), divided by 2h, and the rounding of grad itself, within gamma_N of
 * the magnitudes of its terms gmag[i]. */
static void check_fd(th_fixture *f, const cd_case *k, double *x, size_t n, const double *grad,
                     const double *gmag, double lmag, double big_n, const double *a, const double *w,
                     const double *b, const double *rz, const char *what)
{
    const double h = 1e-3, u = 0x1p-53, gamma = big_n * u / (1.0 - big_n * u);
    for (size_t i = 0; i < n; i++) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = loss(f, k, a, w, b, rz);
        x[i] = x0 - h;
        const double lm = loss(f, k, a, w, b, rz);
        x[i] = x0;
        const double fd = (lp - lm) / (2 * h);
        const double tol = 2 * gamma * lmag / (2 * h) + gamma * gmag[i];
        if (!(fabs(fd - grad[i]) <= tol))
            fail_msg("%s[%zu]: backward %.17g, finite difference %.17g (tolerance %.3g) for %s", what, i,
                     grad[i], fd, tol, describe(k));
    }
}

static void gradcheck_case(th_fixture *f, np_random *r, const cd_case *k)
{
    double *a = random_data(r, a_count(k), 0, CLCNN_F64), *w = random_data(r, w_count(k), 0, CLCNN_F64);
    double *b = random_data(r, (size_t)k->nc, 0, CLCNN_F64), *rz = random_data(r, z_count(k), 0, CLCNN_F64);
    double *da, *dw, *db, *gda, *gdw, *gdb;
    backward_desc(f, th_host(f), CLCNN_F64, k, rz, a, w, &da, &dw, &db);
    /* Magnitudes: |a| + h and |w| + h, |b| + h bound every perturbed input. */
    double *ma = magnitudes(a, a_count(k)), *mw = magnitudes(w, w_count(k)),
           *mb = magnitudes(b, (size_t)k->nc);
    double *mr = magnitudes(rz, z_count(k));
    for (size_t i = 0; i < a_count(k); i++)
        ma[i] += 1e-3;
    for (size_t i = 0; i < w_count(k); i++)
        mw[i] += 1e-3;
    for (int i = 0; i < k->nc; i++)
        mb[i] += 1e-3;
    const double lmag = loss(f, k, ma, mw, mb, mr);
    backward_desc(f, th_host(f), CLCNN_F64, k, mr, ma, mw, &gda, &gdw, &gdb);
    const double big_n =
        (double)z_count(k) * (k->fh * k->fw * cpg(k) + 1) + (double)k->m * k->h * k->w * k->nc;
    check_fd(f, k, a, a_count(k), da, gda, lmag, big_n, a, w, b, rz, "da_prev");
    check_fd(f, k, w, w_count(k), dw, gdw, lmag, big_n, a, w, b, rz, "dw");
    check_fd(f, k, b, (size_t)k->nc, db, gdb, lmag, big_n, a, w, b, rz, "db");
    double *all[] = {a, w, b, rz, da, dw, db, gda, gdw, gdb, ma, mw, mb, mr};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

static void backward_desc_matches_finite_differences(void **state)
{
    th_fixture *f = th_fx(state);
    const unsigned feat = *(const unsigned *)th_param(state);
    np_random r;
    np_random_seed(&r, 8000u + feat);
    for (int i = 0; i < 6; i++) {
        cd_case k = random_case(&r, feat);
        if (a_count(&k) + w_count(&k) > 400) {
            i--; /* keep the 2 forwards per input small */
            continue;
        }
        gradcheck_case(f, &r, &k);
    }
}

/* ---- the notebook's form: the old entry points' bytes -------------------- */

static unsigned char *bytes_of(const clcnn_tensor *t, size_t *n)
{
    return th_snapshot(t, n);
}

/* Runs the notebook's form of k (equal pads and strides) through the old and
 * the desc entry points on ctx and compares the bytes of every output. */
static void check_notebook_form(th_fixture *f, clcnn_context *ctx, np_random *r, const cd_case *k,
                                clcnn_dtype dt)
{
    const clcnn_conv_params p = {k->d.stride_h, k->d.pad_top, k->d.algo};
    const clcnn_conv_desc d = clcnn_conv_desc_from_params(p);
    assert_memory_equal(&d, &k->d, sizeof d);
    double *a = random_data(r, a_count(k), 0, dt), *w = random_data(r, w_count(k), 0, dt);
    double *b = random_data(r, (size_t)k->nc, 0, dt), *dz = random_data(r, z_count(k), 0, dt);
    clcnn_tensor *ta = th_fx_tensor(f, ctx, dt, k->m, k->h, k->w, k->c, a);
    clcnn_tensor *tw = th_fx_tensor(f, ctx, dt, k->fh, k->fw, k->c, k->nc, w);
    clcnn_tensor *tb = th_fx_tensor(f, ctx, dt, 1, 1, 1, k->nc, b);
    clcnn_tensor *tdz = th_fx_tensor(f, ctx, dt, k->m, k->zh, k->zw, k->nc, dz);
    clcnn_tensor *out[2][4];
    for (int v = 0; v < 2; v++) {
        out[v][0] = th_fx_tensor(f, ctx, dt, k->m, k->zh, k->zw, k->nc, NULL);
        out[v][1] = th_fx_tensor(f, ctx, dt, k->m, k->h, k->w, k->c, NULL);
        out[v][2] = th_fx_tensor(f, ctx, dt, k->fh, k->fw, k->c, k->nc, NULL);
        out[v][3] = th_fx_tensor(f, ctx, dt, 1, 1, 1, k->nc, NULL);
    }
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, p, out[0][0]), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_backward(ctx, tdz, ta, tw, p, out[0][1], out[0][2], out[0][3]), CLCNN_OK);
    clcnn_status s = clcnn_conv2d_forward_desc(ctx, ta, tw, tb, &d, out[1][0]);
    if (s == CLCNN_OK)
        s = clcnn_conv2d_backward_desc(ctx, tdz, ta, tw, &d, out[1][1], out[1][2], out[1][3]);
    if (s != CLCNN_OK)
        fail_msg("the notebook's form %s: %s: %s", describe(k), clcnn_status_string(s),
                 clcnn_last_error(ctx));
    static const char *const names[4] = {"z", "da_prev", "dw", "db"};
    for (int o = 0; o < 4; o++) {
        size_t n0, n1;
        unsigned char *b0 = bytes_of(out[0][o], &n0), *b1 = bytes_of(out[1][o], &n1);
        assert_int_equal(n0, n1);
        if (memcmp(b0, b1, n0) != 0)
            fail_msg("%s of the desc entry point differs from the old one's bytes for %s", names[o],
                     describe(k));
        free(b0);
        free(b1);
    }
    for (int v = 1; v >= 0; v--)
        for (int o = 3; o >= 0; o--)
            th_drop(f, out[v][o]);
    th_drop(f, tdz);
    th_drop(f, tb);
    th_drop(f, tw);
    th_drop(f, ta);
    free(a);
    free(w);
    free(b);
    free(dz);
}

static void notebook_form_gives_the_old_entry_points_bytes(void **state)
{
    th_fixture *f = th_fx(state);
    const th_config *cfg = th_param(state);
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(f) : th_host(f);
    np_random r;
    np_random_seed(&r, 9000u + 2u * (uint32_t)cfg->backend + (uint32_t)cfg->dtype);
    for (int i = 0; i < 40; i++) {
        cd_case k = random_case(&r, 0);
        k.d.algo = (clcnn_conv_algo)(i % 3); /* DIRECT and GEMM on OpenCL too */
        check_notebook_form(f, ctx, &r, &k, cfg->dtype);
    }
}

/* ---- backward outputs asked for separately ------------------------------- */

/* Each subset of da_prev, dw, db gives the bytes of the full call, so what is
 * computed does not depend on what else is asked for. */
static void backward_desc_outputs_do_not_depend_on_the_others_asked_for(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctx = th_host(f);
    np_random r;
    np_random_seed(&r, 9500u);
    for (int c = 0; c < 20; c++) {
        const cd_case k = random_case(&r, F_ALL);
        double *dz = random_data(&r, z_count(&k), 0, CLCNN_F32),
               *a = random_data(&r, a_count(&k), 0, CLCNN_F32);
        double *w = random_data(&r, w_count(&k), 0, CLCNN_F32);
        clcnn_tensor *tdz = th_fx_tensor(f, ctx, CLCNN_F32, k.m, k.zh, k.zw, k.nc, dz);
        clcnn_tensor *ta = th_fx_tensor(f, ctx, CLCNN_F32, k.m, k.h, k.w, k.c, a);
        clcnn_tensor *tw = th_fx_tensor(f, ctx, CLCNN_F32, k.fh, k.fw, cpg(&k), k.nc, w);
        clcnn_tensor *full[3], *part[3];
        for (int v = 0; v < 2; v++) {
            clcnn_tensor **o = v ? part : full;
            o[0] = th_fx_tensor(f, ctx, CLCNN_F32, k.m, k.h, k.w, k.c, NULL);
            o[1] = th_fx_tensor(f, ctx, CLCNN_F32, k.fh, k.fw, cpg(&k), k.nc, NULL);
            o[2] = th_fx_tensor(f, ctx, CLCNN_F32, 1, 1, 1, k.nc, NULL);
        }
        assert_int_equal(clcnn_conv2d_backward_desc(ctx, tdz, ta, tw, &k.d, full[0], full[1], full[2]),
                         CLCNN_OK);
        for (int mask = 1; mask < 7; mask++) {
            assert_int_equal(clcnn_conv2d_backward_desc(ctx, tdz, ta, tw, &k.d, mask & 1 ? part[0] : NULL,
                                                        mask & 2 ? part[1] : NULL, mask & 4 ? part[2] : NULL),
                             CLCNN_OK);
            for (int o = 0; o < 3; o++) {
                if (!(mask & (1 << o)))
                    continue;
                size_t n0, n1;
                unsigned char *b0 = th_snapshot(full[o], &n0), *b1 = th_snapshot(part[o], &n1);
                if (n0 != n1 || memcmp(b0, b1, n0) != 0)
                    fail_msg("output %d alone (mask %d) differs from the full call for %s", o, mask,
                             describe(&k));
                free(b0);
                free(b1);
            }
        }
        for (int o = 2; o >= 0; o--)
            th_drop(f, part[o]);
        for (int o = 2; o >= 0; o--)
            th_drop(f, full[o]);
        th_drop(f, tw);
        th_drop(f, ta);
        th_drop(f, tdz);
        free(dz);
        free(a);
        free(w);
    }
}

/* ---- OpenCL contexts: what they refuse ------------------------------------ */

#ifdef CLCNN_TEST_OPENCL
/* A form the OpenCL backend does not run, and what its sentence names. */
typedef struct {
    clcnn_conv_desc d;
    const char *needle;
} refused_form;

static const refused_form refused[] = {
    {{1, 1, 1, 1, 1, 1, 1, 1, 2, CLCNN_CONV_AUTO}, "d->groups 2"},
    {{1, 1, 1, 1, 1, 1, 2, 1, 1, CLCNN_CONV_AUTO}, "dilation (d->dilation_h 2, d->dilation_w 1)"},
    {{1, 1, 1, 1, 1, 1, 1, 3, 1, CLCNN_CONV_DIRECT}, "dilation (d->dilation_h 1, d->dilation_w 3)"},
    {{1, 1, 1, 1, 2, 1, 1, 1, 1, CLCNN_CONV_AUTO}, "d->stride_h 2 unequal to d->stride_w 1"},
    {{1, 1, 1, 1, 1, 2, 1, 1, 1, CLCNN_CONV_GEMM}, "d->stride_h 1 unequal to d->stride_w 2"},
    {{0, 1, 1, 1, 1, 1, 1, 1, 1, CLCNN_CONV_AUTO}, "d->pad_top 0, d->pad_bottom 1"},
    {{1, 0, 1, 1, 1, 1, 1, 1, 1, CLCNN_CONV_AUTO}, "d->pad_bottom 0"},
    {{1, 1, 2, 1, 1, 1, 1, 1, 1, CLCNN_CONV_AUTO}, "d->pad_left 2"},
    {{1, 1, 1, 0, 1, 1, 1, 1, 1, CLCNN_CONV_AUTO}, "d->pad_right 0"},
};

static void expect_refused(clcnn_context *ctx, clcnn_status s, const char *fn, const refused_form *r)
{
    const char *msg = clcnn_last_error(ctx);
    if (s != CLCNN_ERR_UNSUPPORTED || !strstr(msg, fn) || !strstr(msg, r->needle) ||
        !strstr(msg, "is not yet supported on the OpenCL backend; use a host context"))
        fail_msg("%s on OpenCL (needle \"%s\"): %s: %s", fn, r->needle, clcnn_status_string(s), msg);
}

/* Each refused form, forward and backward, on inputs that suit every form
 * (a_prev 2x6x5x4, w 2x3 with 2 input channels per group when grouped):
 * CLCNN_ERR_UNSUPPORTED, the sentence, and every output's bytes kept. */
static void opencl_refuses_other_forms_and_keeps_outputs(void **state)
{
    th_fixture *f = th_fx(state);
    const clcnn_dtype dt = ((const th_config *)th_param(state))->dtype;
    clcnn_context *ctx = th_device(f);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const refused_form *r = &refused[i];
        const int cin = 4 / r->d.groups;
        int out[4];
        assert_int_equal(
            clcnn_conv2d_output_shape_desc((int[]){2, 6, 5, 4}, (int[]){2, 3, cin, 6}, &r->d, out), CLCNN_OK);
        clcnn_tensor *a = th_fx_tensor(f, ctx, dt, 2, 6, 5, 4, NULL),
                     *w = th_fx_tensor(f, ctx, dt, 2, 3, cin, 6, NULL);
        clcnn_tensor *b = th_fx_tensor(f, ctx, dt, 1, 1, 1, 6, NULL);
        clcnn_tensor *z = th_fx_tensor(f, ctx, dt, out[0], out[1], out[2], out[3], NULL);
        clcnn_tensor *dz = th_fx_tensor(f, ctx, dt, out[0], out[1], out[2], out[3], NULL);
        clcnn_tensor *da = th_fx_tensor(f, ctx, dt, 2, 6, 5, 4, NULL),
                     *dw = th_fx_tensor(f, ctx, dt, 2, 3, cin, 6, NULL);
        clcnn_tensor *db = th_fx_tensor(f, ctx, dt, 1, 1, 1, 6, NULL);
        clcnn_tensor *outs[] = {z, da, dw, db};
        unsigned char *snap[4];
        size_t nb[4];
        th_fill(a, 0.5, 0.25);
        th_fill(w, -1.0, 0.125);
        th_fill(dz, 2.0, -0.5);
        for (int o = 0; o < 4; o++) {
            th_fill(outs[o], 7.0 + o, 1.0);
            snap[o] = th_snapshot(outs[o], &nb[o]);
        }
        expect_refused(ctx, clcnn_conv2d_forward_desc(ctx, a, w, b, &r->d, z), "clcnn_conv2d_forward_desc",
                       r);
        expect_refused(ctx, clcnn_conv2d_backward_desc(ctx, dz, a, w, &r->d, da, dw, db),
                       "clcnn_conv2d_backward_desc", r);
        static const char *const names[4] = {"z", "da_prev", "dw", "db"};
        for (int o = 0; o < 4; o++) {
            th_expect_unchanged(outs[o], snap[o], nb[o], names[o]);
            free(snap[o]);
        }
        /* The same inputs in the notebook's form run. */
        const clcnn_conv_desc nb_form = clcnn_conv_desc_from_params((clcnn_conv_params){1, 1, r->d.algo});
        if (r->d.groups == 1) {
            clcnn_tensor *z1 = th_fx_tensor(f, ctx, dt, 2, 7, 5, 6, NULL);
            assert_int_equal(clcnn_conv2d_forward_desc(ctx, a, w, b, &nb_form, z1), CLCNN_OK);
            th_drop(f, z1);
        }
        clcnn_tensor *all[] = {db, dw, da, dz, z, b, w, a};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
            th_drop(f, all[k]);
    }
}
#endif

/* ---- main ------------------------------------------------------------------ */

int main(void)
{
    static feature_config features[5 * 2 * 2];
    static char names[64][96];
    static struct CMUnitTest tests[64];
    static const unsigned feats[] = {F_PADS, F_STRIDES, F_DILATION, F_GROUPS, F_ALL};
    static const char *const feat_names[] = {"asymmetric_pads", "per_axis_strides", "dilation", "groups",
                                             "all"};
    size_t n = 0, nf = 0;
    for (int i = 0; i < 5; i++)
        for (int dt = 0; dt < 2; dt++)
            for (int integers = 1; integers >= 0; integers--) {
                features[nf] = (feature_config){feats[i], dt ? CLCNN_F64 : CLCNN_F32, integers};
                snprintf(names[n], sizeof names[n], "desc_matches_independent_formulation/%s/%s/%s",
                         feat_names[i], dt ? "f64" : "f32", integers ? "exact" : "bounded");
                tests[n] = (struct CMUnitTest){names[n], desc_matches_independent_formulation, th_setup,
                                               th_teardown, &features[nf++]};
                n++;
            }
    for (int i = 0; i < 4; i++) {
        snprintf(names[n], sizeof names[n], "backward_desc_matches_finite_differences/%s", feat_names[i]);
        tests[n] = (struct CMUnitTest){names[n], backward_desc_matches_finite_differences, th_setup,
                                       th_teardown, (void *)&feats[i]};
        n++;
    }
    tests[n++] = (struct CMUnitTest){"backward_desc_outputs_do_not_depend_on_the_others_asked_for",
                                     backward_desc_outputs_do_not_depend_on_the_others_asked_for, th_setup,
                                     th_teardown, NULL};
    static th_config configs[] = {
        {CLCNN_BACKEND_HOST, CLCNN_F64},
        {CLCNN_BACKEND_HOST, CLCNN_F32},
#ifdef CLCNN_TEST_OPENCL
        {CLCNN_BACKEND_OPENCL, CLCNN_F64},
        {CLCNN_BACKEND_OPENCL, CLCNN_F32},
#endif
    };
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        snprintf(names[n], sizeof names[n], "notebook_form_gives_the_old_entry_points_bytes/%s/%s",
                 th_backend_name(configs[c].backend), th_dtype_name(configs[c].dtype));
        tests[n] = (struct CMUnitTest){names[n], notebook_form_gives_the_old_entry_points_bytes, th_setup,
                                       th_teardown, &configs[c]};
        n++;
    }
#ifdef CLCNN_TEST_OPENCL
    for (int dt = 0; dt < 2; dt++) {
        snprintf(names[n], sizeof names[n], "opencl_refuses_other_forms_and_keeps_outputs/%s",
                 dt ? "f64" : "f32");
        tests[n] = (struct CMUnitTest){names[n], opencl_refuses_other_forms_and_keeps_outputs, th_setup,
                                       th_teardown, (void *)&configs[dt ? 2 : 3]};
        n++;
    }
#endif
    return _cmocka_run_group_tests("conv_desc", tests, n, NULL, NULL);
}
