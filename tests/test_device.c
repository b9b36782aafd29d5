/* test_device.c - the OpenCL backend against the host reference path:
 * seeded random shapes for every op and direction in F32 and F64, exact
 * agreement on integer-valued data, and identical bytes from repeated calls.
 * In canary builds (CLCNN_CANARIES) the guards of every tensor are checked
 * after every operation.
 *
 * Tolerance. A device result sums K terms in its own precision (u = 2^-24
 * for F32, 2^-53 for F64), in the reference's order but possibly with fused
 * multiply-adds; the reference sums in double and rounds once. Both start
 * from the same (already rounded) inputs, so
 *   |device - reference| <= gamma_K * sum|terms| + u * |reference|
 *                        <= (K + 1) * u * M / (1 - K*u),
 * where M = sum|terms| is computed by running the reference on the absolute
 * values of the inputs (every op here is linear in each input, so that gives
 * exactly sum|terms| for each output element). The tests allow
 * 2 * (K + 3) * u * M: the factor 2 covers 1/(1 - K*u) and the reference's
 * own double-precision error; the +2 covers a division (average pooling),
 * which OpenCL C lets a device round to 2.5 ulp. */
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

typedef struct {
    clcnn_context *dev;  /* the OpenCL backend under test */
    clcnn_context *host; /* the reference */
} contexts;

static int draw(np_random *r, int lo, int hi)
{
    return lo + (int)(np_random_u32(r) % (uint32_t)(hi - lo + 1));
}

/* n values: normal(0, 1), or small integers in [-3, 3] times `scale`. */
static double *values(np_random *r, size_t n, int integers, double scale)
{
    double *v = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = integers ? (double)draw(r, -3, 3) * scale : np_random_gauss(r);
    return v;
}

static double *absolute(const double *v, size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = fabs(v[i]);
    return a;
}

/* Compares a device result with the reference: exactly when mag is NULL,
 * else within 2 (K + 3) u mag[i] (see the top of the file). */
static void compare(const char *what, const char *desc, const clcnn_tensor *dev_t, const clcnn_tensor *ref_t,
                    const double *mag, double k_terms)
{
    const size_t n = th_count(dev_t);
    assert_int_equal(n, th_count(ref_t));
    double *dev = th_read(dev_t), *ref = th_read(ref_t);
    const double u = clcnn_tensor_dtype(dev_t) == CLCNN_F64 ? 0x1p-53 : 0x1p-24;
    for (size_t i = 0; i < n; i++) {
        double tol = mag ? 2.0 * (k_terms + 3.0) * u * mag[i] : 0.0;
        if (!(dev[i] == ref[i] || fabs(dev[i] - ref[i]) <= tol)) {
            double d = dev[i], rv = ref[i];
            free(dev);
            free(ref);
            fail_msg("%s %s: element %zu: device %.17g, reference %.17g, difference %.3g > tolerance %.3g",
                     what, desc, i, d, rv, fabs(d - rv), tol);
        }
    }
    free(dev);
    free(ref);
}

/* ---------------------------------------------------------------- pad --- */

static void pad_case(contexts *c, np_random *r, clcnn_dtype dt, int integers)
{
    const int n = draw(r, 1, 4), h = draw(r, 1, 33), w = draw(r, 1, 33), ch = draw(r, 1, 17),
              pad = draw(r, 0, 4);
    char desc[128];
    snprintf(desc, sizeof desc, "(%s x (%d,%d,%d,%d), pad %d)", th_dtype_name(dt), n, h, w, ch, pad);
    double *x = values(r, (size_t)n * h * w * ch, integers, 1.0);
    clcnn_tensor *dx = th_tensor(c->dev, dt, n, h, w, ch, x), *hx = th_tensor(c->host, dt, n, h, w, ch, x);
    clcnn_tensor *dp = th_tensor(c->dev, dt, n, h + 2 * pad, w + 2 * pad, ch, NULL);
    clcnn_tensor *hp = th_tensor(c->host, dt, n, h + 2 * pad, w + 2 * pad, ch, NULL);
    assert_int_equal(clcnn_zero_pad(c->dev, dx, pad, dp), CLCNN_OK);
    assert_int_equal(clcnn_zero_pad(c->host, hx, pad, hp), CLCNN_OK);
    th_expect_guards((clcnn_tensor *const[]){dx, dp, hx, hp}, 4, "after zero_pad");
    compare("zero_pad", desc, dp, hp, NULL, 0);
    free(x);
    clcnn_tensor_destroy(dx);
    clcnn_tensor_destroy(hx);
    clcnn_tensor_destroy(dp);
    clcnn_tensor_destroy(hp);
}

/* --------------------------------------------------------------- conv --- */

typedef struct {
    int n, h, w, cin, fh, fw, cout, stride, pad, ho, wo, bias;
    clcnn_conv_algo algo; /* of the device's calls; 0 (left out) is AUTO */
} conv_case;

/* An OpenCL context created with environment variable `var` set to
 * `value` (NULL: as it is), as contexts read such settings at creation;
 * the variable is restored afterwards. */
static clcnn_context *context_with(const char *var, const char *value)
{
    if (!value)
        return th_context(CLCNN_BACKEND_OPENCL);
    char *saved = th_env_swap(var, value);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    th_env_restore(var, saved);
    return ctx;
}

static conv_case draw_conv(np_random *r)
{
    conv_case k;
    do {
        k.n = draw(r, 1, 4), k.h = draw(r, 1, 33), k.w = draw(r, 1, 33), k.cin = draw(r, 1, 17);
        k.fh = draw(r, 1, 7), k.fw = draw(r, 1, 7), k.cout = draw(r, 1, 17);
        k.stride = draw(r, 1, 4), k.pad = draw(r, 0, 4), k.bias = draw(r, 0, 3) != 0;
    } while (k.fh > k.h + 2 * k.pad || k.fw > k.w + 2 * k.pad);
    k.ho = (k.h + 2 * k.pad - k.fh) / k.stride + 1;
    k.wo = (k.w + 2 * k.pad - k.fw) / k.stride + 1;
    k.algo = CLCNN_CONV_AUTO;
    return k;
}

/* The tensors of one convolution on one context. */
typedef struct {
    clcnn_tensor *a, *w, *b, *z, *dz, *da, *dw, *db;
} conv_tensors;

static conv_tensors conv_make(clcnn_context *ctx, clcnn_dtype dt, const conv_case *k, const double *a,
                              const double *w, const double *b, const double *dz)
{
    conv_tensors t;
    t.a = th_tensor(ctx, dt, k->n, k->h, k->w, k->cin, a);
    t.w = th_tensor(ctx, dt, k->fh, k->fw, k->cin, k->cout, w);
    t.b = k->bias ? th_tensor(ctx, dt, 1, 1, 1, k->cout, b) : NULL;
    t.z = th_tensor(ctx, dt, k->n, k->ho, k->wo, k->cout, NULL);
    t.dz = th_tensor(ctx, dt, k->n, k->ho, k->wo, k->cout, dz);
    t.da = th_tensor(ctx, dt, k->n, k->h, k->w, k->cin, NULL);
    t.dw = th_tensor(ctx, dt, k->fh, k->fw, k->cin, k->cout, NULL);
    t.db = th_tensor(ctx, dt, 1, 1, 1, k->cout, NULL);
    return t;
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

/* Teardown of a test that set expect_ran (also when it failed midway). */
static int forget_expected_algos(void **state)
{
    (void)state;
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_AUTO;
    return 0;
}

static void conv_run(clcnn_context *ctx, const conv_case *k, conv_tensors *t)
{
    clcnn_conv_params p = {k->stride, k->pad, k->algo};
    clcnn_tensor *const all[] = {t->a, t->w, t->b, t->z, t->dz, t->da, t->dw, t->db};
    assert_int_equal(clcnn_conv2d_forward(ctx, t->a, t->w, t->b, p, t->z), CLCNN_OK);
    th_expect_guards(all, 8, "after conv2d_forward");
    expect_algos(ctx, "conv2d_forward", 0, 0);
    assert_int_equal(clcnn_conv2d_backward(ctx, t->dz, t->a, t->w, p, t->da, t->dw, t->db), CLCNN_OK);
    th_expect_guards(all, 8, "after conv2d_backward");
    expect_algos(ctx, "conv2d_backward", 1, 2);
}

static void conv_free(conv_tensors *t)
{
    clcnn_tensor *all[] = {t->a, t->w, t->b, t->z, t->dz, t->da, t->dw, t->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clcnn_tensor_destroy(all[i]);
}

static void conv_check_case(contexts *c, np_random *r, clcnn_dtype dt, int integers, const conv_case k)
{
    char desc[192];
    snprintf(desc, sizeof desc, "(%s, a (%d,%d,%d,%d), w (%d,%d,%d,%d), stride %d, pad %d, %s)",
             th_dtype_name(dt), k.n, k.h, k.w, k.cin, k.fh, k.fw, k.cin, k.cout, k.stride, k.pad,
             k.bias ? "bias" : "no bias");
    const size_t na = (size_t)k.n * k.h * k.w * k.cin, nw = (size_t)k.fh * k.fw * k.cin * k.cout;
    const size_t nz = (size_t)k.n * k.ho * k.wo * k.cout;
    double *a = values(r, na, integers, 1.0), *w = values(r, nw, integers, 1.0);
    double *b = values(r, (size_t)k.cout, integers, 1.0), *dz = values(r, nz, integers, 1.0);

    conv_tensors dev = conv_make(c->dev, dt, &k, a, w, b, dz), ref = conv_make(c->host, dt, &k, a, w, b, dz);
    conv_run(c->dev, &k, &dev);
    conv_run(c->host, &k, &ref);

    double *mz = NULL, *mda = NULL, *mdw = NULL, *mdb = NULL;
    if (!integers) { /* sum|terms| of every output: the reference on |inputs| */
        double *aa = absolute(a, na), *aw = absolute(w, nw), *ab = absolute(b, (size_t)k.cout),
               *adz = absolute(dz, nz);
        conv_tensors mag = conv_make(c->host, CLCNN_F64, &k, aa, aw, ab, adz);
        conv_run(c->host, &k, &mag);
        mz = th_read(mag.z), mda = th_read(mag.da), mdw = th_read(mag.dw), mdb = th_read(mag.db);
        conv_free(&mag);
        free(aa), free(aw), free(ab), free(adz);
    }
    const double k_fwd = (double)k.fh * k.fw * k.cin + 1;
    const double k_data =
        (double)((k.fh + k.stride - 1) / k.stride) * ((k.fw + k.stride - 1) / k.stride) * k.cout;
    const double k_filter = (double)k.n * k.ho * k.wo;
    if (integers) { /* every sum is exact in F32: results must be identical */
        compare("conv2d_forward z", desc, dev.z, ref.z, NULL, 0);
        compare("conv2d_backward da_prev", desc, dev.da, ref.da, NULL, 0);
        compare("conv2d_backward dw", desc, dev.dw, ref.dw, NULL, 0);
        compare("conv2d_backward db", desc, dev.db, ref.db, NULL, 0);
    } else {
        compare("conv2d_forward z", desc, dev.z, ref.z, mz, k_fwd);
        compare("conv2d_backward da_prev", desc, dev.da, ref.da, mda, k_data);
        compare("conv2d_backward dw", desc, dev.dw, ref.dw, mdw, k_filter);
        compare("conv2d_backward db", desc, dev.db, ref.db, mdb, k_filter);
    }
    free(mz), free(mda), free(mdw), free(mdb);
    conv_free(&dev);
    conv_free(&ref);
    free(a), free(w), free(b), free(dz);
}

static void conv_check(contexts *c, np_random *r, clcnn_dtype dt, int integers)
{
    conv_check_case(c, r, dt, integers, draw_conv(r));
}

/* Every case of cases[n] against the reference, random data and integer
 * data, in F32 and (f64) F64. */
static void check_cases(contexts *c, np_random *r, const conv_case *cases, int n, int f64)
{
    for (int d = 0; d <= f64; d++)
        for (int integers = 0; integers < 2; integers++)
            for (int i = 0; i < n; i++)
                conv_check_case(c, r, d ? CLCNN_F64 : CLCNN_F32, integers, cases[i]);
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
    (void)state;
    const conv_case cases[2] = {
        {2, 6, 7, 130, 3, 3, 64, 1, 1, 6, 7, 1, CLCNN_CONV_AUTO},
        {1, 5, 4, 130, 3, 3, 512, 1, 1, 5, 4, 0, CLCNN_CONV_AUTO},
    };
    for (int limited = 0; limited < 2; limited++) {
        contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
        if (limited)
            assert_int_equal(clcnn_context_set_workspace_limit(c.dev, 20 << 10), CLCNN_OK);
        np_random r;
        np_random_seed(&r, 4242);
        check_cases(&c, &r, cases, 2, 0);
        clcnn_context_destroy(c.dev);
        clcnn_context_destroy(c.host);
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
    (void)state;
    const conv_case cases[4] = {
        {3, 5, 7, 9, 1, 1, 16, 1, 0, 5, 7, 1, CLCNN_CONV_DIRECT},
        {2, 7, 7, 20, 1, 1, 8, 1, 0, 7, 7, 0, CLCNN_CONV_DIRECT},
        {1, 2, 13, 32, 1, 1, 12, 1, 0, 2, 13, 1, CLCNN_CONV_DIRECT},
        {4, 3, 6, 5, 1, 1, 32, 1, 0, 3, 6, 0, CLCNN_CONV_AUTO},
    };
    for (int rows = 0; rows < 2; rows++) {
        contexts c = {context_with("CLCNN_CONV_FLAT", rows ? "0" : NULL), th_context(CLCNN_BACKEND_HOST)};
        np_random r;
        np_random_seed(&r, 1414);
        check_cases(&c, &r, cases, 4, 1);
        clcnn_context_destroy(c.dev);
        clcnn_context_destroy(c.host);
    }
}

/* A context with CLCNN_CONV_TILED=1 and CLCNN_CONV_TILE=`tile` (NULL: as
 * the environment has it). */
static clcnn_context *tiled_context(const char *tile)
{
    char *saved = tile ? th_env_swap("CLCNN_CONV_TILE", tile) : NULL;
    clcnn_context *ctx = context_with("CLCNN_CONV_TILED", "1");
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
    (void)state;
    const conv_case cases[6] = {
        {2, 9, 11, 12, 3, 3, 20, 1, 1, 9, 11, 1, CLCNN_CONV_DIRECT},
        {3, 7, 7, 24, 1, 1, 40, 1, 0, 7, 7, 1, CLCNN_CONV_DIRECT},
        {2, 13, 10, 5, 5, 3, 6, 2, 2, 7, 6, 0, CLCNN_CONV_DIRECT},
        {1, 6, 20, 2, 2, 17, 9, 1, 1, 7, 6, 1, CLCNN_CONV_DIRECT},
        {3, 17, 18, 3, 3, 3, 8, 1, 1, 17, 18, 0, CLCNN_CONV_DIRECT},
        {24, 3, 4, 2, 3, 3, 8, 1, 0, 1, 2, 0, CLCNN_CONV_DIRECT},
    };
    enum { CONTEXTS = 4 };
    static const char *const tiles[CONTEXTS] = {"direct", "environment's tiles", "32:16:8:4:2:1",
                                                "64:64:16:4:4:1"};
    clcnn_context *ctx[CONTEXTS] = {context_with("CLCNN_CONV_TILED", "0"), tiled_context(NULL),
                                    tiled_context(tiles[2]), tiled_context(tiles[3])};
    np_random r;
    np_random_seed(&r, 5150);
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 6; i++) {
            const conv_case *k = &cases[i];
            const clcnn_dtype dt = d ? CLCNN_F64 : CLCNN_F32;
            double *a = values(&r, (size_t)k->n * k->h * k->w * k->cin, 0, 1.0);
            double *w = values(&r, (size_t)k->fh * k->fw * k->cin * k->cout, 0, 1.0);
            double *b = values(&r, (size_t)k->cout, 0, 1.0);
            double *dz = values(&r, (size_t)k->n * k->ho * k->wo * k->cout, 0, 1.0);
            conv_tensors t[CONTEXTS];
            for (int on = 0; on < CONTEXTS; on++) {
                t[on] = conv_make(ctx[on], dt, k, a, w, b, dz);
                conv_run(ctx[on], k, &t[on]);
            }
            static const char *const names[4] = {"z", "da_prev", "dw", "db"};
            for (int on = 1; on < CONTEXTS; on++)
                for (int o = 0; o < 4; o++) {
                    const clcnn_tensor *x_t[4] = {t[0].z, t[0].da, t[0].dw, t[0].db};
                    const clcnn_tensor *y_t[4] = {t[on].z, t[on].da, t[on].dw, t[on].db};
                    size_t n0, n1;
                    unsigned char *x = th_snapshot(x_t[o], &n0), *y = th_snapshot(y_t[o], &n1);
                    if (n0 != n1 || memcmp(x, y, n0) != 0)
                        fail_msg("%s case %d: %s differs between the direct kernels and the tiled ones (%s)",
                                 th_dtype_name(dt), i, names[o], tiles[on]);
                    free(x), free(y);
                }
            for (int on = 0; on < CONTEXTS; on++)
                conv_free(&t[on]);
            free(a), free(w), free(b), free(dz);
        }
    for (int on = 0; on < CONTEXTS; on++)
        clcnn_context_destroy(ctx[on]);
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
    (void)state;
    contexts c = {context_with("CLCNN_GEMM_INDEX_LIMIT", "1024"), th_context(CLCNN_BACKEND_HOST)};
    /* the default workspace limit (ctest runs this suite with a 2 KiB one
     * too), so that which algorithm runs depends on the index bound alone */
    assert_int_equal(clcnn_context_set_workspace_limit(c.dev, (size_t)256 << 20), CLCNN_OK);
    const conv_case cases[3] = {
        {6, 7, 7, 2, 3, 3, 8, 1, 1, 7, 7, 1, CLCNN_CONV_GEMM},
        {3, 9, 10, 24, 1, 1, 32, 1, 0, 9, 10, 1, CLCNN_CONV_GEMM},
        {8, 9, 9, 3, 3, 3, 10, 2, 1, 5, 5, 0, CLCNN_CONV_GEMM},
    };
    np_random r;
    np_random_seed(&r, 2718);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_GEMM;
    check_cases(&c, &r, cases, 3, 1);

    /* Forced GEMM where a matrix would pass the bound runs DIRECT (as where
     * the workspace limit fits no chunk): w (3,3,16,8) has 1152 elements;
     * one 12x12 image has 2592 columns for backward data. */
    const conv_case past[2] = {
        {1, 4, 4, 16, 3, 3, 8, 1, 1, 4, 4, 1, CLCNN_CONV_GEMM},
        {1, 12, 12, 2, 3, 3, 4, 1, 1, 12, 12, 0, CLCNN_CONV_GEMM},
    };
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_DIRECT;
    check_cases(&c, &r, past, 1, 0);
    expect_ran[0] = expect_ran[2] = CLCNN_CONV_GEMM; /* the forward and dW fit; one image's columns do not */
    check_cases(&c, &r, past + 1, 1, 0);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_AUTO;
    clcnn_context_destroy(c.dev);
    clcnn_context_destroy(c.host);
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
/* F32 a_prev (2x28x28x32, values a), da (2 x ho x ho x 32, values da) and
 * da_prev on the device and host contexts ctxs, and pool2d_backward with p
 * on each: t[s] = {a_prev, da, da_prev} of ctxs[s]. */
static void pool_backward_on_both(clcnn_context *const ctxs[2], const double *a, const double *da, int ho,
                                  clcnn_pool_params p, clcnn_tensor *t[2][3])
{
    for (int s = 0; s < 2; s++) {
        t[s][0] = th_tensor(ctxs[s], CLCNN_F32, 2, 28, 28, 32, a);
        t[s][1] = th_tensor(ctxs[s], CLCNN_F32, 2, ho, ho, 32, da);
        t[s][2] = th_tensor(ctxs[s], CLCNN_F32, 2, 28, 28, 32, NULL);
        assert_int_equal(clcnn_pool2d_backward(ctxs[s], t[s][1], t[s][0], p, t[s][2]), CLCNN_OK);
    }
}

static void workspace_is_kept_within_the_limit(void **state)
{
    (void)state;
    const size_t limit = 96 << 10;
    contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
    assert_int_equal(clcnn_context_workspace_bytes(c.dev), 0);
    assert_int_equal(clcnn_context_workspace_bytes(c.host), 0);
    assert_int_equal(clcnn_context_workspace_bytes(NULL), 0);
    assert_int_equal(clcnn_context_set_workspace_limit(c.dev, limit), CLCNN_OK);
    np_random r;
    np_random_seed(&r, 9090);
    const conv_case layers[2] = {
        {2, 10, 10, 64, 3, 3, 32, 1, 1, 10, 10, 1, CLCNN_CONV_DIRECT},
        {2, 8, 8, 24, 3, 3, 8, 1, 1, 8, 8, 0, CLCNN_CONV_GEMM},
    };
    /* CPU defaults (PoCL, no GPU profile, no tiled forward, which reads
     * a_prev as it is): the direct forward pads a copy */
    const char *profile = getenv("CLCNN_DEVICE_PROFILE"), *tiled = getenv("CLCNN_CONV_TILED");
    const int cpu_defaults = strstr(clcnn_context_device_name(c.dev), "pthread") != NULL &&
                             !(profile && strcmp(profile, "gpu") == 0) && !(tiled && strcmp(tiled, "1") == 0);
    {
        const conv_case *k = &layers[0];
        double *a = values(&r, (size_t)k->n * k->h * k->w * k->cin, 1, 1.0);
        double *w = values(&r, (size_t)k->fh * k->fw * k->cin * k->cout, 1, 1.0);
        conv_tensors dev = conv_make(c.dev, CLCNN_F32, k, a, w, w, w);
        const clcnn_conv_params p = {k->stride, k->pad, k->algo};
        assert_int_equal(clcnn_conv2d_forward(c.dev, dev.a, dev.w, NULL, p, dev.z), CLCNN_OK);
        const size_t held = clcnn_context_workspace_bytes(c.dev);
        if ((cpu_defaults && held == 0) || held > limit)
            fail_msg("after layer 1's forward the context holds %zu bytes of workspace; expected %d to %zu",
                     held, cpu_defaults, limit);
        conv_free(&dev);
        free(a), free(w);
    }
    for (int i = 0; i < 2; i++) {
        conv_check_case(&c, &r, CLCNN_F32, 1, layers[i]);
        /* layer 1's backward cannot do without copies of dw and db (restored
         * if a later step fails), a copy of w (flipped, or transposed) and,
         * on the tiled kernel, the 4-byte flag of non-finite weights: 147.6
         * KB, above the limit; the padded dz (37.4 KB) only speeds reads and
         * does not fit beside them, and the forward's padded copy is not the
         * backward's to keep */
        const size_t w_bytes = 3 * 3 * 64 * 32 * sizeof(float),
                     most = 2 * w_bytes + 32 * sizeof(float) + sizeof(int);
        if (i == 0 && clcnn_context_workspace_bytes(c.dev) > most)
            fail_msg(
                "after layer 1's backward the context holds %zu bytes of workspace; expected at most %zu",
                clcnn_context_workspace_bytes(c.dev), most);
    }
    if (clcnn_context_workspace_bytes(c.dev) == 0)
        fail_msg("the layers left no workspace: the test no longer reaches the release");
    /* max pool 2x28x28x32 f3 s2: maxima of 2x13x13x32 */
    const clcnn_pool_params p = {3, 2, CLCNN_POOL_MAX};
    double *a = values(&r, 2 * 28 * 28 * 32, 1, 1.0), *da = values(&r, 2 * 13 * 13 * 32, 1, 1.0);
    clcnn_tensor *t[2][3];
    clcnn_context *ctxs[2] = {c.dev, c.host};
    pool_backward_on_both(ctxs, a, da, 13, p, t);
    compare("pool2d_backward da_prev", "(max 2x28x28x32 f3 s2)", t[0][2], t[1][2], NULL, 0);
    const size_t held = clcnn_context_workspace_bytes(c.dev), maxima = 2 * 13 * 13 * 32 * sizeof(float);
    if (held < maxima || held > limit)
        fail_msg("after the max pool the context holds %zu bytes of workspace; expected %zu to %zu", held,
                 maxima, limit);
    /* a limit below what is held: released at once */
    assert_int_equal(clcnn_context_set_workspace_limit(c.dev, held - 1), CLCNN_OK);
    assert_int_equal(clcnn_context_workspace_bytes(c.dev), 0);
    /* average pool 2x28x28x32 f4 s1: each window's share first would take
     * 2x25x25x32 (160 KB), above the limit: the gather divides instead, with
     * the same bits (integers over 16, exact) and no workspace */
    {
        const clcnn_pool_params pa = {4, 1, CLCNN_POOL_AVG};
        double *g = values(&r, 2 * 25 * 25 * 32, 1, 1.0);
        clcnn_tensor *u[2][3];
        pool_backward_on_both(ctxs, a, g, 25, pa, u);
        compare("pool2d_backward da_prev", "(average 2x28x28x32 f4 s1)", u[0][2], u[1][2], NULL, 0);
        if (clcnn_context_workspace_bytes(c.dev) != 0)
            fail_msg("after the average pool the context holds %zu bytes of workspace; expected 0",
                     clcnn_context_workspace_bytes(c.dev));
        for (int s = 0; s < 2; s++)
            for (int j = 0; j < 3; j++)
                clcnn_tensor_destroy(u[s][j]);
        free(g);
    }
    /* dw alone of 1x6x6x130 -> 64 3x3 under 24 KiB (CPU defaults): blocked
     * copies of a_prev (19 KB) and dz (9.2 KB) each fit, not both; the
     * filter reads the tensors themselves, with the same bits */
    assert_int_equal(clcnn_context_set_workspace_limit(c.dev, 24 << 10), CLCNN_OK);
    {
        const conv_case k = {1, 6, 6, 130, 3, 3, 64, 1, 1, 6, 6, 0, CLCNN_CONV_DIRECT};
        double *a6 = values(&r, 6 * 6 * 130, 1, 1.0), *w6 = values(&r, 3 * 3 * 130 * 64, 1, 1.0);
        double *dz6 = values(&r, 6 * 6 * 64, 1, 1.0);
        conv_tensors dev = conv_make(c.dev, CLCNN_F32, &k, a6, w6, NULL, dz6);
        conv_tensors ref = conv_make(c.host, CLCNN_F32, &k, a6, w6, NULL, dz6);
        const clcnn_conv_params pk = {1, 1, CLCNN_CONV_DIRECT};
        assert_int_equal(clcnn_conv2d_backward(c.dev, dev.dz, dev.a, dev.w, pk, NULL, dev.dw, NULL),
                         CLCNN_OK);
        assert_int_equal(clcnn_conv2d_backward(c.host, ref.dz, ref.a, ref.w, pk, NULL, ref.dw, NULL),
                         CLCNN_OK);
        compare("conv2d_backward dw", "(a (1,6,6,130), w (3,3,130,64), 24 KiB)", dev.dw, ref.dw, NULL, 0);
        const size_t held6 = clcnn_context_workspace_bytes(c.dev);
        if (held6 > (24 << 10))
            fail_msg("after the dw-only backward the context holds %zu bytes of workspace, above 24 KiB",
                     held6);
        conv_free(&dev), conv_free(&ref);
        free(a6), free(w6), free(dz6);
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 3; i++)
            clcnn_tensor_destroy(t[s][i]);
    free(a), free(da);
    clcnn_context_destroy(c.dev);
    clcnn_context_destroy(c.host);
}

/* --------------------------------------------------------------- pool --- */

static void pool_check(contexts *c, np_random *r, clcnn_dtype dt, clcnn_pool_mode mode, int integers)
{
    int n, h, w, ch, f, stride;
    do {
        n = draw(r, 1, 4), h = draw(r, 1, 33), w = draw(r, 1, 33), ch = draw(r, 1, 17);
        f = draw(r, 1, 5), stride = draw(r, 1, 4);
    } while (f > h || f > w);
    const int ho = (h - f) / stride + 1, wo = (w - f) / stride + 1;
    char desc[160];
    snprintf(desc, sizeof desc, "(%s, %s, a (%d,%d,%d,%d), f %d, stride %d)", th_dtype_name(dt),
             mode == CLCNN_POOL_MAX ? "max" : "average", n, h, w, ch, f, stride);
    const size_t na = (size_t)n * h * w * ch, no = (size_t)n * ho * wo * ch;
    /* Integer averages are exact when every value is a multiple of f*f. */
    const double scale = integers && mode == CLCNN_POOL_AVG ? (double)(f * f) : 1.0;
    double *a = values(r, na, integers, scale), *da = values(r, no, integers, scale);
    clcnn_pool_params p = {f, stride, mode};
    clcnn_tensor *t[2][4];
    clcnn_context *ctxs[2] = {c->dev, c->host};
    for (int s = 0; s < 2; s++) {
        t[s][0] = th_tensor(ctxs[s], dt, n, h, w, ch, a);
        t[s][1] = th_tensor(ctxs[s], dt, n, ho, wo, ch, NULL);
        t[s][2] = th_tensor(ctxs[s], dt, n, ho, wo, ch, da);
        t[s][3] = th_tensor(ctxs[s], dt, n, h, w, ch, NULL);
        assert_int_equal(clcnn_pool2d_forward(ctxs[s], t[s][0], p, t[s][1]), CLCNN_OK);
        th_expect_guards(t[s], 4, "after pool2d_forward");
        assert_int_equal(clcnn_pool2d_backward(ctxs[s], t[s][2], t[s][0], p, t[s][3]), CLCNN_OK);
        th_expect_guards(t[s], 4, "after pool2d_backward");
    }
    double *ma = NULL, *mda = NULL;
    if (!integers) {
        /* max forward moves values without arithmetic: exact. The others are
         * linear in a (average) or in da (both backward directions). */
        double *aa = absolute(a, na), *ada = absolute(da, no);
        clcnn_tensor *ta = th_tensor(c->host, CLCNN_F64, n, h, w, ch, aa);
        clcnn_tensor *tao = th_tensor(c->host, CLCNN_F64, n, ho, wo, ch, NULL);
        clcnn_tensor *tda = th_tensor(c->host, CLCNN_F64, n, ho, wo, ch, ada);
        clcnn_tensor *tdp = th_tensor(c->host, CLCNN_F64, n, h, w, ch, NULL);
        clcnn_tensor *sel =
            th_tensor(c->host, CLCNN_F64, n, h, w, ch, a); /* the max mask needs the signed a */
        assert_int_equal(clcnn_pool2d_forward(c->host, ta, p, tao), CLCNN_OK);
        assert_int_equal(clcnn_pool2d_backward(c->host, tda, sel, p, tdp), CLCNN_OK);
        th_expect_guards((clcnn_tensor *const[]){ta, tao, tda, tdp, sel}, 5, "after the |terms| pooling");
        ma = th_read(tao), mda = th_read(tdp);
        clcnn_tensor_destroy(ta), clcnn_tensor_destroy(tao), clcnn_tensor_destroy(tda);
        clcnn_tensor_destroy(tdp), clcnn_tensor_destroy(sel);
        free(aa), free(ada);
    }
    const double k_windows = (double)((f + stride - 1) / stride) * ((f + stride - 1) / stride);
    if (integers || mode == CLCNN_POOL_MAX)
        compare("pool2d_forward a", desc, t[0][1], t[1][1], NULL, 0);
    else
        compare("pool2d_forward a", desc, t[0][1], t[1][1], ma, (double)f * f);
    compare("pool2d_backward da_prev", desc, t[0][3], t[1][3], integers ? NULL : mda, k_windows);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 4; i++)
            clcnn_tensor_destroy(t[s][i]);
    free(ma), free(mda), free(a), free(da);
}

/* ------------------------------------------------------------- drivers --- */

typedef enum { OP_PAD, OP_CONV, OP_POOL_MAX, OP_POOL_AVG } op_kind;

typedef struct {
    op_kind op;
    clcnn_dtype dtype;
    int integers;
} random_config;

static void run_cases(const random_config *cfg, int cases)
{
    contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
    np_random r;
    np_random_seed(&r,
                   1000u + 10u * (uint32_t)cfg->op + (uint32_t)cfg->dtype + 100u * (uint32_t)cfg->integers);
    for (int i = 0; i < cases; i++) {
        switch (cfg->op) {
        case OP_PAD: pad_case(&c, &r, cfg->dtype, cfg->integers); break;
        case OP_CONV: conv_check(&c, &r, cfg->dtype, cfg->integers); break;
        case OP_POOL_MAX: pool_check(&c, &r, cfg->dtype, CLCNN_POOL_MAX, cfg->integers); break;
        case OP_POOL_AVG: pool_check(&c, &r, cfg->dtype, CLCNN_POOL_AVG, cfg->integers); break;
        }
    }
    clcnn_context_destroy(c.dev);
    clcnn_context_destroy(c.host);
}

static void random_shapes_match_reference(void **state)
{
    run_cases(*state, CLCNN_DEVICE_CASES);
}

static void integer_data_matches_reference_exactly(void **state)
{
    run_cases(*state, CLCNN_DEVICE_CASES / 5);
}

/* Three identical calls of each op give identical bytes. */
static void repeated_calls_give_identical_bytes(void **state)
{
    const clcnn_dtype dt = *(const clcnn_dtype *)*state;
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    np_random r;
    np_random_seed(&r, 77);
    double *a = values(&r, 3 * 20 * 18 * 9, 0, 1), *w = values(&r, 3 * 4 * 9 * 11, 0, 1);
    double *dz = values(&r, 3 * 10 * 9 * 11, 0, 1), *dp = values(&r, 3 * 9 * 8 * 9, 0, 1);
    clcnn_tensor *ta = th_tensor(ctx, dt, 3, 20, 18, 9, a), *tw = th_tensor(ctx, dt, 3, 4, 9, 11, w);
    clcnn_tensor *tdz = th_tensor(ctx, dt, 3, 10, 9, 11, dz), *tdp = th_tensor(ctx, dt, 3, 9, 8, 9, dp);
    clcnn_tensor *outs[7] = {
        th_tensor(ctx, dt, 3, 10, 9, 11, NULL), th_tensor(ctx, dt, 3, 20, 18, 9, NULL),
        th_tensor(ctx, dt, 3, 4, 9, 11, NULL),  th_tensor(ctx, dt, 1, 1, 1, 11, NULL),
        th_tensor(ctx, dt, 3, 9, 8, 9, NULL),   th_tensor(ctx, dt, 3, 20, 18, 9, NULL),
        th_tensor(ctx, dt, 3, 22, 20, 9, NULL),
    };
    unsigned char *first[7] = {0};
    size_t sizes[7];
    clcnn_conv_params cp = {2, 1, CLCNN_CONV_AUTO};
    clcnn_pool_params pp = {4, 2, CLCNN_POOL_AVG};
    for (int rep = 0; rep < 3; rep++) {
        assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, NULL, cp, outs[0]), CLCNN_OK);
        assert_int_equal(clcnn_conv2d_backward(ctx, tdz, ta, tw, cp, outs[1], outs[2], outs[3]), CLCNN_OK);
        assert_int_equal(clcnn_pool2d_forward(ctx, ta, pp, outs[4]), CLCNN_OK);
        assert_int_equal(clcnn_pool2d_backward(ctx, tdp, ta, pp, outs[5]), CLCNN_OK);
        assert_int_equal(clcnn_zero_pad(ctx, ta, 1, outs[6]), CLCNN_OK);
        th_expect_guards(outs, 7, "after the repeated calls");
        th_expect_guards((clcnn_tensor *const[]){ta, tw, tdz, tdp}, 4, "after the repeated calls");
        for (int i = 0; i < 7; i++) {
            if (rep == 0) {
                first[i] = th_snapshot(outs[i], &sizes[i]);
            } else {
                th_expect_unchanged(outs[i], first[i], sizes[i], "a repeated call's output");
            }
        }
    }
    for (int i = 0; i < 7; i++) {
        free(first[i]);
        clcnn_tensor_destroy(outs[i]);
    }
    clcnn_tensor_destroy(ta), clcnn_tensor_destroy(tw), clcnn_tensor_destroy(tdz), clcnn_tensor_destroy(tdp);
    free(a), free(w), free(dz), free(dp);
    clcnn_context_destroy(ctx);
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
    const clcnn_dtype dt = *(const clcnn_dtype *)*state;
    static const struct {
        int n, h, w, c, f, cout, stride, pad;
    } shapes[] = {{2, 40, 40, 7, 3, 24, 1, 1}, {1, 9, 9, 130, 1, 16, 2, 0}};
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    np_random r;
    np_random_seed(&r, 91);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int n = shapes[k].n, h = shapes[k].h, w = shapes[k].w, c = shapes[k].c, f = shapes[k].f;
        const int cout = shapes[k].cout, ho = (h + 2 * shapes[k].pad - f) / shapes[k].stride + 1;
        const clcnn_conv_params cp = {shapes[k].stride, shapes[k].pad, CLCNN_CONV_AUTO};
        double *a = values(&r, (size_t)n * h * w * c, 0, 1), *wv = values(&r, (size_t)f * f * c * cout, 0, 1);
        double *dz = values(&r, (size_t)n * ho * ho * cout, 0, 1);
        clcnn_tensor *ta = th_tensor(ctx, dt, n, h, w, c, a), *tw = th_tensor(ctx, dt, f, f, c, cout, wv);
        clcnn_tensor *tdz = th_tensor(ctx, dt, n, ho, ho, cout, dz);
        clcnn_tensor *all[3] = {th_tensor(ctx, dt, n, h, w, c, NULL), th_tensor(ctx, dt, f, f, c, cout, NULL),
                                th_tensor(ctx, dt, 1, 1, 1, cout, NULL)};
        clcnn_tensor *some[3] = {th_tensor(ctx, dt, n, h, w, c, NULL),
                                 th_tensor(ctx, dt, f, f, c, cout, NULL),
                                 th_tensor(ctx, dt, 1, 1, 1, cout, NULL)};
        assert_int_equal(clcnn_conv2d_backward(ctx, tdz, ta, tw, cp, all[0], all[1], all[2]), CLCNN_OK);
        unsigned char *want[3];
        size_t sizes[3];
        for (int i = 0; i < 3; i++)
            want[i] = th_snapshot(all[i], &sizes[i]);
        for (int mask = 1; mask < 7; mask++) { /* every proper, non-empty subset */
            clcnn_tensor *o[3];
            for (int i = 0; i < 3; i++)
                o[i] = mask & (1 << i) ? some[i] : NULL;
            assert_int_equal(clcnn_conv2d_backward(ctx, tdz, ta, tw, cp, o[0], o[1], o[2]), CLCNN_OK);
            for (int i = 0; i < 3; i++)
                if (o[i]) {
                    size_t got_size;
                    unsigned char *got = th_snapshot(o[i], &got_size);
                    if (got_size != sizes[i] || memcmp(got, want[i], sizes[i]) != 0)
                        fail_msg("shape %zu: output %d (da_prev, dw, db) of the call asking for subset %d "
                                 "(bits 1 da_prev, 2 dw, 4 db) differs from the call asking for all three",
                                 k, i, mask);
                    free(got);
                }
        }
        for (int i = 0; i < 3; i++) {
            free(want[i]);
            clcnn_tensor_destroy(all[i]);
            clcnn_tensor_destroy(some[i]);
        }
        clcnn_tensor_destroy(ta), clcnn_tensor_destroy(tw), clcnn_tensor_destroy(tdz);
        free(a), free(wv), free(dz);
    }
    clcnn_context_destroy(ctx);
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

/* A stride close to INT_MAX is valid (the output is 1 wide) and must not
 * overflow the kernels' window arithmetic: backward-data and pool-backward
 * against the reference on a 16-row input. */
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
    (void)state;
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
        setenv("CLCNN_CONV_ALGO", algos[g % 2], 1);
        contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
        unsetenv("CLCNN_CONV_ALGO");
        clcnn_tensor *t[2][7];
        clcnn_context *ctxs[2] = {c.dev, c.host};
        const clcnn_conv_params p = {1, 1, CLCNN_CONV_AUTO};
        for (int s = 0; s < 2; s++) {
            t[s][0] = th_tensor(ctxs[s], CLCNN_F32, 2, 5, 4, 3, a);
            t[s][1] = th_tensor(ctxs[s], CLCNN_F32, 3, fw, 3, 2, w);
            t[s][2] = th_tensor(ctxs[s], CLCNN_F32, 2, 5, wo, 2, dz);
            t[s][3] = th_tensor(ctxs[s], CLCNN_F32, 2, 5, wo, 2, NULL); /* z */
            t[s][4] = th_tensor(ctxs[s], CLCNN_F32, 2, 5, 4, 3, NULL);  /* da_prev */
            t[s][5] = th_tensor(ctxs[s], CLCNN_F32, 3, fw, 3, 2, NULL); /* dw */
            t[s][6] = th_tensor(ctxs[s], CLCNN_F32, 1, 1, 1, 2, NULL);  /* db */
            assert_int_equal(clcnn_conv2d_forward(ctxs[s], t[s][0], t[s][1], NULL, p, t[s][3]), CLCNN_OK);
            assert_int_equal(
                clcnn_conv2d_backward(ctxs[s], t[s][2], t[s][0], t[s][1], p, t[s][4], t[s][5], t[s][6]),
                CLCNN_OK);
        }
        static const char *const names[] = {"z", "da_prev", "dw", "db"};
        for (int o = 3; o < 7; o++) {
            double *dev = th_read(t[0][o]), *ref = th_read(t[1][o]);
            for (size_t i = 0; i < th_count(t[0][o]); i++)
                if (!(dev[i] == ref[i] || (isnan(dev[i]) && isnan(ref[i]))))
                    fail_msg("%s, 3x%d filter, non-finite %s, %s element %zu: device %g, reference %g",
                             algos[g % 2], fw, g < 4 ? "w" : "dz", names[o - 3], i, dev[i], ref[i]);
            free(dev), free(ref);
        }
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < 7; i++)
                clcnn_tensor_destroy(t[s][i]);
        clcnn_context_destroy(c.dev);
        clcnn_context_destroy(c.host);
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
    (void)state;
    contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
    clcnn_context *ctxs[2] = {c.dev, c.host};
    static const int channels[] = {64, 20, 12, 3}, windows[][2] = {{3, 2}, {2, 2}, {2, 1}, {2, 3}, {3, 1}};
    static const clcnn_dtype dtypes[2] = {CLCNN_F32, CLCNN_F64};
    enum { N = 2, H = 9, W = 11 };
    for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
            for (int d = 0; d < 2; d++)
                for (int mode = 0; mode < 2; mode++) {
                    const int ch = channels[ci], f = windows[wi][0], stride = windows[wi][1];
                    const clcnn_pool_params p = {f, stride, mode ? CLCNN_POOL_AVG : CLCNN_POOL_MAX};
                    const int in[4] = {N, H, W, ch};
                    int out[4];
                    assert_int_equal(clcnn_pool2d_output_shape(in, p, out), CLCNN_OK);
                    const size_t n_in = (size_t)N * H * W * (size_t)ch,
                                 n_out = (size_t)out[0] * out[1] * out[2] * out[3];
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
                    const int inexact = mode && dtypes[d] == CLCNN_F32 && ((f * f) & (f * f - 1)) != 0;
                    double *res[2][2];
                    for (int s = 0; s < 2; s++) {
                        clcnn_tensor *ta = th_tensor(ctxs[s], dtypes[d], N, H, W, ch, a);
                        clcnn_tensor *tda = th_tensor(ctxs[s], dtypes[d], out[0], out[1], out[2], out[3], da);
                        clcnn_tensor *to =
                            th_tensor(ctxs[s], dtypes[d], out[0], out[1], out[2], out[3], NULL);
                        clcnn_tensor *tg = th_tensor(ctxs[s], dtypes[d], N, H, W, ch, NULL);
                        assert_int_equal(clcnn_pool2d_forward(ctxs[s], ta, p, to), CLCNN_OK);
                        assert_int_equal(clcnn_pool2d_backward(ctxs[s], tda, ta, p, tg), CLCNN_OK);
                        res[s][0] = th_read(to), res[s][1] = th_read(tg);
                        clcnn_tensor_destroy(ta), clcnn_tensor_destroy(tda), clcnn_tensor_destroy(to);
                        clcnn_tensor_destroy(tg);
                    }
                    for (int o = 0; o < 2; o++)
                        for (size_t i = 0; i < (o ? n_in : n_out); i++)
                            if ((!same_value(res[0][o][i], res[1][o][i]) &&
                                 !(inexact && o == 1 && isfinite(res[1][o][i]) &&
                                   fabs(res[0][o][i] - res[1][o][i]) < 1e-6)) ||
                                (!mode && !o && !same_bits(res[0][o][i], res[1][o][i])))
                                fail_msg("%s %s pool f %d s %d, %d channels, %s element %zu: device %g, "
                                         "reference %g",
                                         th_dtype_name(dtypes[d]), mode ? "average" : "max", f, stride, ch,
                                         o ? "da_prev" : "a", i, res[0][o][i], res[1][o][i]);
                    for (int s = 0; s < 2; s++)
                        free(res[s][0]), free(res[s][1]);
                    free(a), free(da);
                }
    clcnn_context_destroy(c.dev);
    clcnn_context_destroy(c.host);
}

static void huge_strides_match_reference(void **state)
{
    (void)state;
    contexts c = {th_context(CLCNN_BACKEND_OPENCL), th_context(CLCNN_BACKEND_HOST)};
    const int strides[2] = {INT_MAX - 5, INT_MAX};
    double a[16], one[1] = {3.0}, w[1] = {2.0};
    for (int i = 0; i < 16; i++)
        a[i] = i + 1;
    for (int k = 0; k < 2; k++) {
        clcnn_tensor *t[2][6];
        clcnn_context *ctxs[2] = {c.dev, c.host};
        for (int s = 0; s < 2; s++) {
            t[s][0] = th_tensor(ctxs[s], CLCNN_F32, 1, 16, 1, 1, a);    /* a_prev */
            t[s][1] = th_tensor(ctxs[s], CLCNN_F32, 1, 1, 1, 1, w);     /* w */
            t[s][2] = th_tensor(ctxs[s], CLCNN_F32, 1, 1, 1, 1, one);   /* dz, da */
            t[s][3] = th_tensor(ctxs[s], CLCNN_F32, 1, 16, 1, 1, NULL); /* conv da_prev */
            t[s][4] = th_tensor(ctxs[s], CLCNN_F32, 1, 16, 1, 1, NULL); /* max-pool da_prev */
            t[s][5] = th_tensor(ctxs[s], CLCNN_F32, 1, 16, 1, 1, NULL); /* avg-pool da_prev */
            clcnn_conv_params cp = {strides[k], 0, CLCNN_CONV_AUTO};
            assert_int_equal(
                clcnn_conv2d_backward(ctxs[s], t[s][2], t[s][0], t[s][1], cp, t[s][3], NULL, NULL), CLCNN_OK);
            assert_int_equal(clcnn_pool2d_backward(ctxs[s], t[s][2], t[s][0],
                                                   (clcnn_pool_params){1, strides[k], CLCNN_POOL_MAX},
                                                   t[s][4]),
                             CLCNN_OK);
            assert_int_equal(clcnn_pool2d_backward(ctxs[s], t[s][2], t[s][0],
                                                   (clcnn_pool_params){1, strides[k], CLCNN_POOL_AVG},
                                                   t[s][5]),
                             CLCNN_OK);
            th_expect_guards(t[s], 6, "after the huge-stride backward calls");
        }
        for (int o = 3; o < 6; o++)
            compare("huge stride backward", "(stride near INT_MAX)", t[0][o], t[1][o], NULL, 0);
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < 6; i++)
                clcnn_tensor_destroy(t[s][i]);
    }
    clcnn_context_destroy(c.dev);
    clcnn_context_destroy(c.host);
}

/* The device really is an OpenCL device, not the host path. */
static void device_context_runs_on_opencl(void **state)
{
    (void)state;
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    assert_string_not_equal(clcnn_context_device_name(ctx), "host reference");
    print_message("device: %s\n", clcnn_context_device_name(ctx));
    clcnn_context_destroy(ctx);
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
    tests[n++] =
        (struct CMUnitTest){"device_context_runs_on_opencl", device_context_runs_on_opencl, NULL, NULL, NULL};
    tests[n++] =
        (struct CMUnitTest){"huge_strides_match_reference", huge_strides_match_reference, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"tiled_kernels_give_the_direct_kernels_bits",
                                     tiled_kernels_give_the_direct_kernels_bits, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"non_finite_weights_spread_like_the_reference",
                                     non_finite_weights_spread_like_the_reference, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"non_finite_pool_inputs_match_the_reference",
                                     non_finite_pool_inputs_match_the_reference, NULL, NULL, NULL};
    tests[n++] =
        (struct CMUnitTest){"wide_layers_match_reference", wide_layers_match_reference, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"workspace_is_kept_within_the_limit", workspace_is_kept_within_the_limit,
                                     NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"pointwise_layers_match_reference", pointwise_layers_match_reference,
                                     NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"gemm_views_past_the_index_limit_match_reference",
                                     gemm_views_past_the_index_limit_match_reference, NULL,
                                     forget_expected_algos, NULL};
    tests[n++] = (struct CMUnitTest){"f64_without_cl_khr_fp64_is_unsupported",
                                     f64_without_cl_khr_fp64_is_unsupported, NULL, NULL, NULL};
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
                                               NULL, NULL, cfg};
                n++;
            }
    for (int d = 0; d < 2; d++) {
        snprintf(names[n], sizeof names[n], "repeated_calls_give_identical_bytes/%s",
                 th_dtype_name(dtypes[d]));
        tests[n] = (struct CMUnitTest){names[n], repeated_calls_give_identical_bytes, NULL, NULL,
                                       (void *)&dtypes[d]};
        n++;
        snprintf(names[n], sizeof names[n], "backward_outputs_do_not_depend_on_which_are_asked_for/%s",
                 th_dtype_name(dtypes[d]));
        tests[n] = (struct CMUnitTest){names[n], backward_outputs_do_not_depend_on_which_are_asked_for, NULL,
                                       NULL, (void *)&dtypes[d]};
        n++;
    }
    return _cmocka_run_group_tests("device", tests, n, NULL, NULL);
}
