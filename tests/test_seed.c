/* test_seed.c - every answer printed in the notebook ("Convolutional Neural
 * Networks: Step by Step"), regenerated from the same np.random seeds, on
 * every backend and dtype this build can run. F64 must give every printed
 * digit, F32 within 1e-5 relative (helpers.h). */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset of [i][y][x][k] in an NHWC array of dims {n, h, w, c}. */
static size_t at(const int d[4], int i, int y, int x, int k)
{
    return (((size_t)i * (size_t)d[1] + (size_t)y) * (size_t)d[2] + (size_t)x) * (size_t)d[3] + (size_t)k;
}

static double *randn(np_random *r, size_t count)
{
    double *x = malloc(count * sizeof(double));
    assert_non_null(x);
    np_random_randn(r, x, count);
    return x;
}

static void expect_dims(const clcnn_tensor *t, int n, int h, int w, int c)
{
    int d[4];
    clcnn_tensor_shape(t, d);
    assert_int_equal(d[0], n);
    assert_int_equal(d[1], h);
    assert_int_equal(d[2], w);
    assert_int_equal(d[3], c);
}

/* Fills t with 7.0 so that a test sees whether the call wrote every element. */
static void poison(clcnn_tensor *t)
{
    size_t n = th_count(t);
    double *v = malloc(n * sizeof(double));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = 7.0;
    th_write(t, v);
    free(v);
}

/* 3-1: np.random.seed(1); x = randn(4, 3, 3, 2); x_pad = zero_pad(x, 2). */
static void zero_pad_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r, 1);
    double *x = randn(&r, 4 * 3 * 3 * 2);
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *tx = th_fx_tensor(fx, ctx, cfg->dtype, 4, 3, 3, 2, x);
    clcnn_tensor *tp = th_fx_tensor(fx, ctx, cfg->dtype, 4, 7, 7, 2, NULL);
    poison(tp);
    assert_int_equal(clcnn_zero_pad(ctx, tx, 2, tp), CLCNN_OK);

    expect_dims(tx, 4, 3, 3, 2); /* x.shape = (4, 3, 3, 2) */
    expect_dims(tp, 4, 7, 7, 2); /* x_pad.shape = (4, 7, 7, 2) */
    const int xd[4] = {4, 3, 3, 2}, pd[4] = {4, 7, 7, 2};
    double *xr = th_read(tx), *pr = th_read(tp);
    th_expect_printed_list(
        xr + at(xd, 1, 1, 0, 0), 6,
        "[[ 0.90085595 -0.68372786]\n [-0.12289023 -0.93576943]\n [-0.26788808  0.53035547]]", cfg->dtype,
        "x[1,1]");
    th_expect_printed_list(
        pr + at(pd, 1, 1, 0, 0), 14,
        "[[ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]]", cfg->dtype,
        "x_pad[1,1]");
    /* Beyond what the notebook prints: the interior is x, the border is 0. */
    for (int i = 0; i < 4; i++)
        for (int y = 0; y < 7; y++)
            for (int xx = 0; xx < 7; xx++)
                for (int k = 0; k < 2; k++) {
                    int inside = y >= 2 && y < 5 && xx >= 2 && xx < 5;
                    double want = inside ? xr[at(xd, i, y - 2, xx - 2, k)] : 0.0;
                    if (pr[at(pd, i, y, xx, k)] != want)
                        fail_msg("x_pad[%d,%d,%d,%d] is %g, expected %g", i, y, xx, k,
                                 pr[at(pd, i, y, xx, k)], want);
                }
    free(x);
    free(xr);
    free(pr);
}

/* 3-2: np.random.seed(1); a_slice_prev = randn(4, 4, 3); W = randn(4, 4, 3);
 * b = randn(1, 1, 1); Z = conv_single_step(...) = -6.99908945068, through the
 * public step function (F64) and as a 1x1-output convolution (cfg dtype). */
static void conv_single_step_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r, 1);
    double *a = randn(&r, 48), *w = randn(&r, 48), *b = randn(&r, 1);
    if (cfg->dtype == CLCNN_F64)
        th_expect_printed(clcnn_conv_single_step(a, w, b[0], 4, 4, 3), "-6.99908945068", CLCNN_F64,
                          "clcnn_conv_single_step Z");

    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 1, 4, 4, 3, a);
    clcnn_tensor *tw = th_fx_tensor(fx, ctx, cfg->dtype, 4, 4, 3, 1, w); /* (4,4,3) as HWIO with one filter */
    clcnn_tensor *tb = th_fx_tensor(fx, ctx, cfg->dtype, 1, 1, 1, 1, b);
    clcnn_tensor *tz = th_fx_tensor(fx, ctx, cfg->dtype, 1, 1, 1, 1, NULL);
    clcnn_conv_params p = {1, 0, CLCNN_CONV_AUTO};
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz), CLCNN_OK);
    double *z = th_read(tz);
    th_expect_printed(z[0], "-6.99908945068", cfg->dtype, "conv2d_forward Z");
    free(z);
    free(a);
    free(w);
    free(b);
}

/* 3-3: np.random.seed(1); A_prev = randn(10, 5, 7, 4); W = randn(3, 3, 4, 8);
 * b = randn(1, 1, 1, 8); pad 1, stride 2. */
static void conv_forward_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r, 1);
    double *a = randn(&r, 10 * 5 * 7 * 4), *w = randn(&r, 3 * 3 * 4 * 8), *b = randn(&r, 8);
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 10, 5, 7, 4, a);
    clcnn_tensor *tw = th_fx_tensor(fx, ctx, cfg->dtype, 3, 3, 4, 8, w);
    clcnn_tensor *tb = th_fx_tensor(fx, ctx, cfg->dtype, 1, 1, 1, 8, b);
    clcnn_tensor *tz = th_fx_tensor(fx, ctx, cfg->dtype, 10, 3, 4, 8, NULL);
    poison(tz);
    clcnn_conv_params p = {2, 1, CLCNN_CONV_AUTO};
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz), CLCNN_OK);

    const int zd[4] = {10, 3, 4, 8}, ad[4] = {10, 5, 7, 4};
    double *z = th_read(tz), *ar = th_read(ta);
    th_expect_printed(th_mean(z, th_count(tz)), "0.692360880758", cfg->dtype, "Z's mean");
    th_expect_printed_list(z + at(zd, 3, 2, 1, 0), 8,
                           "[ -1.28912231   2.27650251   6.61941931   0.95527176   8.25132576\n"
                           "   2.31329639  13.00689405   2.34576051]",
                           cfg->dtype, "Z[3,2,1]");
    /* cache_conv[0][1][2][3]: the input, unchanged on the backend after the call. */
    th_expect_printed_list(ar + at(ad, 1, 2, 3, 0), 4, "[-1.1191154   1.9560789  -0.3264995  -1.34267579]",
                           cfg->dtype, "cache_conv[0][1][2][3]");
    free(z);
    free(ar);
    free(a);
    free(w);
    free(b);
}

/* Runs pool_forward on np.random.seed(1); A_prev = randn(2, 5, 5, 3) with
 * f = 3 and the given stride and mode, and compares the whole output. */
static void pool_forward_check(th_fixture *fx, const th_config *cfg, int stride, clcnn_pool_mode mode,
                               int out_hw, const char *printed, const char *what)
{
    np_random r;
    np_random_seed(&r, 1);
    double *a = randn(&r, 2 * 5 * 5 * 3);
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 2, 5, 5, 3, a);
    clcnn_tensor *to = th_fx_tensor(fx, ctx, cfg->dtype, 2, out_hw, out_hw, 3, NULL);
    poison(to);
    clcnn_pool_params p = {3, stride, mode};
    assert_int_equal(clcnn_pool2d_forward(ctx, ta, p, to), CLCNN_OK);
    expect_dims(to, 2, out_hw, out_hw, 3); /* A.shape */
    double *o = th_read(to);
    th_expect_printed_list(o, th_count(to), printed, cfg->dtype, what);
    free(o);
    free(a);
}

/* 4-1, case 1: stride 1. */
static void pool_forward_stride_1_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    pool_forward_check(fx, cfg, 1, CLCNN_POOL_MAX, 3,
                       "[[[[ 1.74481176  0.90159072  1.65980218]"
                       "   [ 1.74481176  1.46210794  1.65980218]"
                       "   [ 1.74481176  1.6924546   1.65980218]]"
                       "  [[ 1.14472371  0.90159072  2.10025514]"
                       "   [ 1.14472371  0.90159072  1.65980218]"
                       "   [ 1.14472371  1.6924546   1.65980218]]"
                       "  [[ 1.13162939  1.51981682  2.18557541]"
                       "   [ 1.13162939  1.51981682  2.18557541]"
                       "   [ 1.13162939  1.6924546   2.18557541]]]"
                       " [[[ 1.19891788  0.84616065  0.82797464]"
                       "   [ 0.69803203  0.84616065  1.2245077 ]"
                       "   [ 0.69803203  1.12141771  1.2245077 ]]"
                       "  [[ 1.96710175  0.84616065  1.27375593]"
                       "   [ 1.96710175  0.84616065  1.23616403]"
                       "   [ 1.62765075  1.12141771  1.2245077 ]]"
                       "  [[ 1.96710175  0.86888616  1.27375593]"
                       "   [ 1.96710175  0.86888616  1.23616403]"
                       "   [ 1.62765075  1.12141771  0.79280687]]]]",
                       "max A");
    pool_forward_check(fx, cfg, 1, CLCNN_POOL_AVG, 3,
                       "[[[[ -3.01046719e-02  -3.24021315e-03  -3.36298859e-01]"
                       "   [  1.43310483e-01   1.93146751e-01  -4.44905196e-01]"
                       "   [  1.28934436e-01   2.22428468e-01   1.25067597e-01]]"
                       "  [[ -3.81801899e-01   1.59993515e-02   1.70562706e-01]"
                       "   [  4.73707165e-02   2.59244658e-02   9.20338402e-02]"
                       "   [  3.97048605e-02   1.57189094e-01   3.45302489e-01]]"
                       "  [[ -3.82680519e-01   2.32579951e-01   6.25997903e-01]"
                       "   [ -2.47157416e-01  -3.48524998e-04   3.50539717e-01]"
                       "   [ -9.52551510e-02   2.68511000e-01   4.66056368e-01]]]"
                       " [[[ -1.73134159e-01   3.23771981e-01  -3.43175716e-01]"
                       "   [  3.80634669e-02   7.26706274e-02  -2.30268958e-01]"
                       "   [  2.03009393e-02   1.41414785e-01  -1.23158476e-02]]"
                       "  [[  4.44976963e-01  -2.61694592e-03  -3.10403073e-01]"
                       "   [  5.08114737e-01  -2.34937338e-01  -2.39611830e-01]"
                       "   [  1.18726772e-01   1.72552294e-01  -2.21121966e-01]]"
                       "  [[  4.29449255e-01   8.44699612e-02  -2.72909051e-01]"
                       "   [  6.76351685e-01  -1.20138225e-01  -2.44076712e-01]"
                       "   [  1.50774518e-01   2.89111751e-01   1.23238536e-03]]]]",
                       "average A");
}

/* 4-1, case 2: stride 2. */
static void pool_forward_stride_2_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    pool_forward_check(fx, cfg, 2, CLCNN_POOL_MAX, 2,
                       "[[[[ 1.74481176  0.90159072  1.65980218]"
                       "   [ 1.74481176  1.6924546   1.65980218]]"
                       "  [[ 1.13162939  1.51981682  2.18557541]"
                       "   [ 1.13162939  1.6924546   2.18557541]]]"
                       " [[[ 1.19891788  0.84616065  0.82797464]"
                       "   [ 0.69803203  1.12141771  1.2245077 ]]"
                       "  [[ 1.96710175  0.86888616  1.27375593]"
                       "   [ 1.62765075  1.12141771  0.79280687]]]]",
                       "max A");
    pool_forward_check(fx, cfg, 2, CLCNN_POOL_AVG, 2,
                       "[[[[-0.03010467 -0.00324021 -0.33629886]"
                       "   [ 0.12893444  0.22242847  0.1250676 ]]"
                       "  [[-0.38268052  0.23257995  0.6259979 ]"
                       "   [-0.09525515  0.268511    0.46605637]]]"
                       " [[[-0.17313416  0.32377198 -0.34317572]"
                       "   [ 0.02030094  0.14141479 -0.01231585]]"
                       "  [[ 0.42944926  0.08446996 -0.27290905]"
                       "   [ 0.15077452  0.28911175  0.00123239]]]]",
                       "average A");
}

/* 5-1: np.random.seed(1); A_prev = randn(10, 4, 4, 3); W = randn(2, 2, 3, 8);
 * b = randn(1, 1, 1, 8); pad 2, stride 2; Z = conv_forward; then
 * conv_backward(Z, cache). */
static void conv_backward_case(void **state)
{
    th_fixture *fx = th_fx(state);
    const th_config *cfg = th_param(state);
    np_random r;
    np_random_seed(&r, 1);
    double *a = randn(&r, 10 * 4 * 4 * 3), *w = randn(&r, 2 * 2 * 3 * 8), *b = randn(&r, 8);
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 10, 4, 4, 3, a);
    clcnn_tensor *tw = th_fx_tensor(fx, ctx, cfg->dtype, 2, 2, 3, 8, w);
    clcnn_tensor *tb = th_fx_tensor(fx, ctx, cfg->dtype, 1, 1, 1, 8, b);
    clcnn_tensor *tz = th_fx_tensor(fx, ctx, cfg->dtype, 10, 4, 4, 8, NULL);
    clcnn_tensor *tda = th_fx_tensor(fx, ctx, cfg->dtype, 10, 4, 4, 3, NULL);
    clcnn_tensor *tdw = th_fx_tensor(fx, ctx, cfg->dtype, 2, 2, 3, 8, NULL);
    clcnn_tensor *tdb = th_fx_tensor(fx, ctx, cfg->dtype, 1, 1, 1, 8, NULL);
    poison(tda);
    poison(tdw);
    poison(tdb);
    clcnn_conv_params p = {2, 2, CLCNN_CONV_AUTO};
    assert_int_equal(clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz), CLCNN_OK);
    assert_int_equal(clcnn_conv2d_backward(ctx, tz, ta, tw, p, tda, tdw, tdb), CLCNN_OK);
    double *da = th_read(tda), *dw = th_read(tdw), *db = th_read(tdb);
    th_expect_printed(th_mean(da, th_count(tda)), "1.45243777754", cfg->dtype, "dA_mean");
    th_expect_printed(th_mean(dw, th_count(tdw)), "1.72699145831", cfg->dtype, "dW_mean");
    th_expect_printed(th_mean(db, th_count(tdb)), "7.83923256462", cfg->dtype, "db_mean");
    free(da);
    free(dw);
    free(db);
    free(a);
    free(w);
    free(b);
}

/* 5-2-1: np.random.seed(1); x = randn(2, 3); mask = create_mask_from_window(x). */
static void mask_from_window_case(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 1);
    double x[6];
    np_random_randn(&r, x, 6);
    th_expect_printed_list(x, 6,
                           "[[ 1.62434536 -0.61175641 -0.52817175]\n [-1.07296862  0.86540763 -2.3015387 ]]",
                           CLCNN_F64, "x");
    unsigned char mask[6];
    memset(mask, 9, sizeof mask);
    clcnn_mask_from_window(x, 2, 3, mask);
    const unsigned char want[6] = {1, 0, 0, 0, 0, 0}; /* [[ True False False] [False False False]] */
    assert_memory_equal(mask, want, 6);
}

/* 5-2-2: distribute_value(2, (2, 2)). */
static void distribute_value_case(void **state)
{
    (void)state;
    double a[4] = {9, 9, 9, 9};
    clcnn_distribute_value(2.0, 2, 2, a);
    th_expect_printed_list(a, 4, "[[ 0.5  0.5]\n [ 0.5  0.5]]", CLCNN_F64, "distributed value");
}

/* 5-2-3: np.random.seed(1); A_prev = randn(5, 5, 3, 2); f = 2, stride 1;
 * A = pool_forward(A_prev); dA = randn(5, 4, 2, 2); pool_backward(dA, ...). */
static void pool_backward_check(th_fixture *fx, const th_config *cfg, clcnn_pool_mode mode,
                                const char *printed)
{
    np_random r;
    np_random_seed(&r, 1);
    double *a = randn(&r, 5 * 5 * 3 * 2), *da = randn(&r, 5 * 4 * 2 * 2);
    th_expect_printed(th_mean(da, 5 * 4 * 2 * 2), "0.145713902729", CLCNN_F64, "mean of dA");
    clcnn_context *ctx = cfg->backend == CLCNN_BACKEND_OPENCL ? th_device(fx) : th_host(fx);
    clcnn_tensor *ta = th_fx_tensor(fx, ctx, cfg->dtype, 5, 5, 3, 2, a);
    clcnn_tensor *tda = th_fx_tensor(fx, ctx, cfg->dtype, 5, 4, 2, 2, da);
    clcnn_tensor *tout = th_fx_tensor(fx, ctx, cfg->dtype, 5, 4, 2, 2, NULL);
    clcnn_tensor *tdp = th_fx_tensor(fx, ctx, cfg->dtype, 5, 5, 3, 2, NULL);
    poison(tdp);
    clcnn_pool_params p = {2, 1, mode};
    assert_int_equal(clcnn_pool2d_forward(ctx, ta, (clcnn_pool_params){2, 1, CLCNN_POOL_MAX}, tout),
                     CLCNN_OK);
    assert_int_equal(clcnn_pool2d_backward(ctx, tda, ta, p, tdp), CLCNN_OK);
    const int pd[4] = {5, 5, 3, 2};
    double *dp = th_read(tdp);
    th_expect_printed_list(dp + at(pd, 1, 1, 0, 0), 6, printed, cfg->dtype,
                           mode == CLCNN_POOL_MAX ? "max dA_prev[1,1]" : "average dA_prev[1,1]");
    free(dp);
    free(a);
    free(da);
}

static void pool_backward_max_case(void **state)
{
    pool_backward_check(
        th_fx(state), th_param(state), CLCNN_POOL_MAX,
        "[[ 0.          0.        ]\n [ 5.05844394 -1.68282702]\n [ 0.          0.        ]]");
}

static void pool_backward_average_case(void **state)
{
    pool_backward_check(
        th_fx(state), th_param(state), CLCNN_POOL_AVG,
        "[[ 0.08485462  0.2787552 ]\n [ 1.26461098 -0.25749373]\n [ 1.17975636 -0.53624893]]");
}

typedef struct {
    const char *name;
    CMUnitTestFunction fn;
    int every_config; /* 0: a host step function, run once */
} seed_case;

static const seed_case cases[] = {
    {"zero_pad", zero_pad_case, 1},
    {"conv_single_step", conv_single_step_case, 1},
    {"conv_forward", conv_forward_case, 1},
    {"pool_forward_stride_1", pool_forward_stride_1_case, 1},
    {"pool_forward_stride_2", pool_forward_stride_2_case, 1},
    {"conv_backward", conv_backward_case, 1},
    {"create_mask_from_window", mask_from_window_case, 0},
    {"distribute_value", distribute_value_case, 0},
    {"pool_backward_max", pool_backward_max_case, 1},
    {"pool_backward_average", pool_backward_average_case, 1},
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
    static char names[N_CASES * N_CONFIGS][96];
    static struct CMUnitTest tests[N_CASES * N_CONFIGS];
    size_t n = 0;
    for (size_t c = 0; c < N_CASES; c++)
        for (size_t k = 0; k < (cases[c].every_config ? (size_t)N_CONFIGS : 1); k++) {
            th_config *cfg = &configs[k];
            if (cases[c].every_config)
                snprintf(names[n], sizeof names[n], "%s/%s/%s", cases[c].name, th_backend_name(cfg->backend),
                         th_dtype_name(cfg->dtype));
            else
                snprintf(names[n], sizeof names[n], "%s/step_function/f64", cases[c].name);
            tests[n] = (struct CMUnitTest){names[n], cases[c].fn, th_setup, th_teardown, cfg};
            n++;
        }
    return _cmocka_run_group_tests("seed", tests, n, NULL, NULL);
}
