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
 *  - OpenCL contexts: every other form CLCNN_ERR_UNSUPPORTED, outputs kept.
 * conv_desc.h says which file holds which. */
#include "conv_desc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int cpg(const cd_case *k)
{
    return k->c / k->d.groups;
}

int opg(const cd_case *k)
{
    return k->nc / k->d.groups;
}

size_t a_count(const cd_case *k)
{
    return (size_t)k->m * k->h * k->w * k->c;
}

size_t w_count(const cd_case *k)
{
    return (size_t)k->fh * k->fw * cpg(k) * k->nc;
}

size_t z_count(const cd_case *k)
{
    return (size_t)k->m * k->zh * k->zw * k->nc;
}

/* The case as text, for failure messages. */
const char *describe(const cd_case *k)
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

double *forward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k, const double *a,
                     const double *w, const double *b)
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
void backward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k, const double *dz,
                   const double *a, const double *w, double **da, double **dw, double **db)
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

double *zeros(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* ---- random cases --------------------------------------------------------- */
/* A random valid case in which the parameters of feat vary (the others keep
 * the notebook's form: equal pads and strides, dilation 1, groups 1). */
cd_case random_case(np_random *r, unsigned feat)
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
double *random_data(np_random *r, size_t n, int integers, clcnn_dtype dt)
{
    double *x = zeros(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = integers ? (double)(rnd(r, 7) - 3) : np_random_gauss(r);
        if (dt == CLCNN_F32)
            x[i] = (double)(float)x[i];
    }
    return x;
}

double *magnitudes(const double *x, size_t n)
{
    double *m = zeros(n);
    for (size_t i = 0; i < n; i++)
        m[i] = fabs(x[i]);
    return m;
}

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
