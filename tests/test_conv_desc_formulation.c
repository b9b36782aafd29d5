/* test_conv_desc_formulation.c - the clcnn_conv_desc entry points against
 * the independent formulation that test_conv_desc.c describes: exactly on
 * integer data, within a bound on the rounding on real data. */
#include "conv_desc.h"

#include <math.h>
#include <stdlib.h>

/* ---- the independent formulation (notebook entry points, host) ---------- */

/* The ungrouped, undilated, stride-1, unpadded problem of group g: its
 * padded input slice, its expanded filter, and their sizes. */
typedef struct {
    int ph, pw; /* padded input */
    int eh, ew; /* expanded (dilated) filter */
    int z1h, z1w;
    double *ag, *wg;
} cd_group;
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
enum { CASES_PER_FEATURE = 200 };

void desc_matches_independent_formulation(void **state)
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
