/* test_conv_desc_grad.c - the clcnn_conv_desc entry points against finite
 * differences, the notebook's form against the old entry points' bytes,
 * backward outputs asked for separately, and the forms OpenCL contexts
 * refuse (test_conv_desc.c says what each checks). */
#include "conv_desc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

void backward_desc_matches_finite_differences(void **state)
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

void notebook_form_gives_the_old_entry_points_bytes(void **state)
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
void backward_desc_outputs_do_not_depend_on_the_others_asked_for(void **state)
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
void opencl_refuses_other_forms_and_keeps_outputs(void **state)
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
