/* test_pool_desc_formulation.c - random descs, ResNet's padded max pool
 * and global pooling against the formulation of test_pool_desc.c
 * (pool_desc.h): output shapes, forward and backward, and the refusal of
 * every desc the formulation rejects. */
#include "pool_desc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void random_descs_case(void **state)
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
/* ResNet's first max pool: 3x3, stride 2, pad 1 takes 112 to 56. */
void resnet_max_pool_case(void **state)
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
    /* the same on 2 channels against test_pool_desc.c's formulation, all values
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
void global_pool_case(void **state)
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
