/* test_gradcheck.c - the backward passes against central finite differences
 * of the forward passes, in F64 on the host backend.
 *
 * For each shape: draw an upstream gradient G with the output's shape and
 * define L(x) = sum(G * forward(x)).  The backward call given dz = G (resp.
 * da = G) must return dL/dx, so for every element x_i of every input
 * (a_prev, w and b for the convolution, a_prev for pooling)
 *
 *     backward(G)[i]  ~=  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps).
 *
 * The shapes are a fixed list of special cases (stride > f, f = 1, pad > f,
 * non-square inputs and filters, a single channel, ...), which are always
 * present, plus random small shapes drawn from a seeded np_random.
 *
 * Tolerance (see fd_tolerance below).  Convolution is affine in each of
 * a_prev, w and b, and average pooling is linear, so the central difference
 * is exact in real arithmetic: there is no truncation error, only rounding.
 * Every value is rounded to a multiple of 2^-30 (and is far below 2^22 in
 * magnitude) and eps is a power of two, so x +- eps is exact and the step is
 * exactly 2 eps.  What remains is the rounding of the two forward passes and
 * of the sum L, and of the backward pass itself.  By the standard bound for
 * sums and dot products (Higham, Accuracy and Stability, 3.1), a sum of
 * products with K roundings along any path differs from the exact one by at
 * most gamma_K = K u / (1 - K u) (u = 2^-53) times the sum of the |terms|,
 * whatever the summation order (FMA only helps).  Each L(x +- eps e_i) goes
 * through K = (window size + 1) + (number of outputs) + 1 roundings and its
 * |terms| sum to at most
 *     S = sum_j |G_j| * (max|b| + window * max|a| * max|w|)
 * (with eps added to each max to cover the perturbed element), so the
 * central difference is within 2 gamma_K S / (2 eps) = gamma_K S / eps of
 * the true derivative.  The backward pass sums at most K products of |G| and
 * one of |a|, |w|, 1 (or 1/f^2), so it is within gamma_K * sum|G| * max(1,
 * max|a|, max|w|).  The test allows twice the sum of the two (the factor two
 * covers the second-order terms of the bound).  With values of order 1, eps
 * = 2^-10 and at most a few hundred outputs this comes to 1e-11..2e-6 for the
 * shapes below (the observed errors stay below 1% of it), while an index or
 * scale error in a backward pass changes an entry by about |w * G| or
 * |a * G|, i.e. by order 1.
 *
 * Max pooling is piecewise linear; it is linear around the test point when no
 * perturbation changes which element of a window is the max.  Its inputs are
 * therefore a random permutation of a grid spaced 0.01 apart plus jitter below
 * 0.001 (so distinct values are at least 0.008 apart, checked), and eps =
 * 2^-13 ~ 1.2e-4, so 2 eps is 30 times smaller than any gap.  The max itself
 * is exact, and the same tolerance formula applies with S = sum|G| * max|a|.
 *
 * Every backward output is prefilled with junk, so an implementation that
 * accumulates into its outputs instead of overwriting them fails too.
 */
#include "helpers.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step for the linear ops (conv, average pooling) and for max pooling. */
#define LINEAR_EPS 0x1p-10
#define MAX_POOL_EPS 0x1p-13
/* Data values are multiples of 2^-QUANTUM_BITS, so x +- eps is exact. */
#define QUANTUM_BITS 30
/* Junk written into backward outputs before the call. */
#define JUNK 1234.5

#define N_RANDOM_SHAPES 25

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------ */

/* A uniform integer in [lo, hi]. */
static int rand_int(np_random *r, int lo, int hi)
{
    int v = lo + (int)(np_random_double(r) * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}

static double quantize(double x)
{
    return ldexp(nearbyint(ldexp(x, QUANTUM_BITS)), -QUANTUM_BITS);
}

static double *xmalloc(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* n values of np.random.randn, each rounded to a multiple of 2^-30. */
static double *randn_array(np_random *r, size_t n)
{
    double *x = xmalloc(n);
    np_random_randn(r, x, n);
    for (size_t i = 0; i < n; i++)
        x[i] = quantize(x[i]);
    return x;
}

static double *filled_array(size_t n, double v)
{
    double *x = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        x[i] = v;
    return x;
}

/* A tensor of shape d, prefilled with JUNK. */
static clcnn_tensor *junk_tensor(clcnn_context *ctx, const int d[4])
{
    size_t n = (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
    double *junk = filled_array(n, JUNK);
    clcnn_tensor *t = th_tensor(ctx, CLCNN_F64, d[0], d[1], d[2], d[3], junk);
    free(junk);
    return t;
}

static size_t count4(const int d[4])
{
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

static double sum_abs(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs(x[i]);
    return s;
}

static void write_f64(clcnn_tensor *t, const double *x, size_t n, const char *desc)
{
    clcnn_status s = clcnn_tensor_write(t, x, n * sizeof(double));
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_tensor_write: %s", desc, clcnn_status_string(s));
}

static void read_f64(const clcnn_tensor *t, double *x, size_t n, const char *desc)
{
    clcnn_status s = clcnn_tensor_read(t, x, n * sizeof(double));
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_tensor_read: %s", desc, clcnn_status_string(s));
}

/* sum(g * z), left to right. */
static double dot(const double *g, const double *z, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += g[i] * z[i];
    return s;
}

/* Higham's gamma_k = k u / (1 - k u), u the unit roundoff of double. */
static double gamma_k(double k)
{
    const double u = DBL_EPSILON / 2.0;
    return k * u / (1.0 - k * u);
}

/* The bound derived in the header comment: K roundings, S the sum of |terms|
 * of one evaluation of L, A the sum of |terms| of one backward entry. */
static double fd_tolerance(double k, double s, double eps, double a)
{
    return 2.0 * gamma_k(k) * (s / eps + a);
}

/* ------------------------------------------------------------------------ */
/* The finite-difference loop                                                 */
/* ------------------------------------------------------------------------ */

typedef double (*loss_fn)(void *problem);

typedef struct {
    int cases;
    size_t entries;
    double worst;            /* max over entries of |fd - analytic| / tolerance */
    double tol_min, tol_max; /* the range of the tolerances used */
} gc_stats;

static gc_stats gc_stats_init(void)
{
    gc_stats st = {0, 0, 0.0, INFINITY, 0.0};
    return st;
}

static void gc_stats_print(const char *what, const gc_stats *st)
{
    print_message("%s: %d cases, %zu gradient entries, tolerance %.2g..%.2g, worst |fd - analytic| "
                  "/ tolerance %.3g\n",
                  what, st->cases, st->entries, st->tol_min, st->tol_max, st->worst);
}

/* Compares grad[i] with the central difference of loss() over x[i], for every
 * element of x (shape dims).  On the first mismatch writes a message to
 * failure and returns 1; the caller fails after freeing everything. */
static int fd_check(loss_fn loss, void *problem, double *x, const int dims[4], const double *grad, double eps,
                    double tol, const char *desc, const char *what, gc_stats *st, char *failure,
                    size_t failure_len)
{
    const size_t n = count4(dims);
    st->tol_min = fmin(st->tol_min, tol);
    st->tol_max = fmax(st->tol_max, tol);
    for (size_t i = 0; i < n; i++) {
        const double x0 = x[i];
        x[i] = x0 + eps;
        const double lp = loss(problem);
        x[i] = x0 - eps;
        const double lm = loss(problem);
        x[i] = x0;
        const double fd = (lp - lm) / (2.0 * eps);
        const double err = fabs(fd - grad[i]);
        st->entries++;
        if (err / tol > st->worst)
            st->worst = err / tol;
        if (!(err <= tol)) {
            size_t rest = i;
            int c = (int)(rest % (size_t)dims[3]);
            rest /= (size_t)dims[3];
            int xw = (int)(rest % (size_t)dims[2]);
            rest /= (size_t)dims[2];
            int y = (int)(rest % (size_t)dims[1]);
            int b = (int)(rest / (size_t)dims[1]);
            snprintf(failure, failure_len,
                     "%s: %s[%d][%d][%d][%d] (flat %zu): backward gives %.17g, central difference "
                     "%.17g, |diff| %.3g > tolerance %.3g",
                     desc, what, b, y, xw, c, i, grad[i], fd, err, tol);
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Convolution                                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *why; /* the special case it covers; NULL for a random shape */
    int m, h, w, cin, cout, fh, fw, stride, pad;
} conv_case;

/* Always present, whatever the seed. Fields: why, m, H, W, C_prev, C, fh, fw,
 * stride, pad. */
static const conv_case conv_special[] = {
    {"stride > f", 1, 7, 6, 2, 3, 2, 2, 3, 0},
    {"stride > f, non-square filter, padded", 2, 7, 7, 1, 2, 1, 2, 3, 1},
    {"f = 1", 1, 4, 5, 3, 2, 1, 1, 1, 0},
    {"f = 1, stride 2, pad 1", 2, 5, 5, 2, 3, 1, 1, 2, 1},
    {"pad > f", 1, 3, 4, 2, 2, 2, 2, 1, 3},
    {"pad > f, f = 1 (border outputs see only zeros)", 1, 2, 3, 1, 2, 1, 1, 1, 2},
    {"pad > f, stride > f, non-square filter", 1, 4, 3, 2, 2, 1, 2, 3, 3},
    {"non-square input", 1, 3, 7, 2, 2, 3, 3, 1, 0},
    {"non-square filter, fh > fw", 1, 6, 5, 2, 3, 3, 1, 1, 1},
    {"non-square filter, fh < fw, stride 2", 2, 5, 6, 1, 2, 2, 4, 2, 0},
    {"single channel in and out", 1, 5, 5, 1, 1, 3, 3, 1, 1},
    {"single channel, 1x1 input, padded", 1, 1, 1, 1, 1, 2, 3, 1, 1},
    {"filter as large as the padded input (1x1 output)", 2, 3, 4, 2, 3, 5, 6, 2, 1},
    {"stride leaves trailing rows unused", 1, 7, 6, 2, 2, 2, 3, 3, 0},
};

static int conv_case_fits(const conv_case *c)
{
    return c->fh <= c->h + 2 * c->pad && c->fw <= c->w + 2 * c->pad;
}

/* A random small shape whose window fits its padded input (redrawn until it
 * does). */
static conv_case draw_conv_case(np_random *r)
{
    conv_case c;
    do {
        c.why = NULL;
        c.m = rand_int(r, 1, 2);
        c.h = rand_int(r, 1, 7);
        c.w = rand_int(r, 1, 7);
        c.cin = rand_int(r, 1, 3);
        c.cout = rand_int(r, 1, 4);
        c.fh = rand_int(r, 1, 4);
        c.fw = rand_int(r, 1, 4);
        c.stride = rand_int(r, 1, 3);
        c.pad = rand_int(r, 0, 3);
    } while (!conv_case_fits(&c));
    return c;
}

static void conv_describe(const conv_case *c, int index, char *buf, size_t len)
{
    snprintf(buf, len,
             "conv case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], w [fh=%d][fw=%d][%d][%d], "
             "stride %d, pad %d",
             index, c->why ? c->why : "random", c->m, c->h, c->w, c->cin, c->fh, c->fw, c->cin, c->cout,
             c->stride, c->pad);
}

/* The output shape, checked against the documented formula. */
static void conv_out_dims(const conv_case *c, const char *desc, int zd[4])
{
    const int ad[4] = {c->m, c->h, c->w, c->cin}, wd[4] = {c->fh, c->fw, c->cin, c->cout};
    const clcnn_conv_params p = {c->stride, c->pad, CLCNN_CONV_AUTO};
    clcnn_status s = clcnn_conv2d_output_shape(ad, wd, p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {c->m, (c->h - c->fh + 2 * c->pad) / c->stride + 1,
                         (c->w - c->fw + 2 * c->pad) / c->stride + 1, c->cout};
    if (memcmp(zd, want, sizeof want) != 0)
        fail_msg("%s: clcnn_conv2d_output_shape gives [%d][%d][%d][%d], want [%d][%d][%d][%d]", desc, zd[0],
                 zd[1], zd[2], zd[3], want[0], want[1], want[2], want[3]);
}

typedef struct {
    clcnn_context *ctx;
    clcnn_conv_params p;
    const char *desc;
    size_t na, nw, nb, nz;
    double *a, *w, *b, *g, *z;
    clcnn_tensor *ta, *tw, *tb, *tz;
} conv_problem;

/* L = sum(G * conv_forward(a, w, b)) for the current arrays. */
static double conv_loss(void *problem)
{
    conv_problem *P = problem;
    write_f64(P->ta, P->a, P->na, P->desc);
    write_f64(P->tw, P->w, P->nw, P->desc);
    write_f64(P->tb, P->b, P->nb, P->desc);
    clcnn_status s = clcnn_conv2d_forward(P->ctx, P->ta, P->tw, P->tb, P->p, P->tz);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_forward: %s: %s", P->desc, clcnn_status_string(s),
                 clcnn_last_error(P->ctx));
    read_f64(P->tz, P->z, P->nz, P->desc);
    return dot(P->g, P->z, P->nz);
}

/* Checks one shape. Returns 0, or 1 with a message in failure (everything of
 * the case already freed). */
static int check_conv_case(clcnn_context *ctx, np_random *r, const conv_case *c, int index, gc_stats *st,
                           char *failure, size_t failure_len)
{
    char desc[320];
    conv_describe(c, index, desc, sizeof desc);
    if (!conv_case_fits(c))
        fail_msg("%s: the filter does not fit the padded input (bad test case)", desc);
    int zd[4];
    conv_out_dims(c, desc, zd);
    const int ad[4] = {c->m, c->h, c->w, c->cin}, wd[4] = {c->fh, c->fw, c->cin, c->cout},
              bd[4] = {1, 1, 1, c->cout};

    conv_problem P;
    P.ctx = ctx;
    P.p = (clcnn_conv_params){c->stride, c->pad, CLCNN_CONV_AUTO};
    P.desc = desc;
    P.na = count4(ad), P.nw = count4(wd), P.nb = count4(bd), P.nz = count4(zd);
    P.a = randn_array(r, P.na);
    P.w = randn_array(r, P.nw);
    P.b = randn_array(r, P.nb);
    P.g = randn_array(r, P.nz);
    P.z = xmalloc(P.nz);
    P.ta = th_tensor(ctx, CLCNN_F64, ad[0], ad[1], ad[2], ad[3], P.a);
    P.tw = th_tensor(ctx, CLCNN_F64, wd[0], wd[1], wd[2], wd[3], P.w);
    P.tb = th_tensor(ctx, CLCNN_F64, bd[0], bd[1], bd[2], bd[3], P.b);
    P.tz = th_tensor(ctx, CLCNN_F64, zd[0], zd[1], zd[2], zd[3], NULL);

    /* The analytic gradients, into outputs prefilled with junk. */
    clcnn_tensor *tdz = th_tensor(ctx, CLCNN_F64, zd[0], zd[1], zd[2], zd[3], P.g);
    clcnn_tensor *tda = junk_tensor(ctx, ad), *tdw = junk_tensor(ctx, wd), *tdb = junk_tensor(ctx, bd);
    clcnn_status s = clcnn_conv2d_backward(ctx, tdz, P.ta, P.tw, P.p, tda, tdw, tdb);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(ctx));
    double *da = th_read(tda), *dw = th_read(tdw), *db = th_read(tdb);

    /* The tolerance of the header comment. */
    const double eps = LINEAR_EPS;
    const double amax = max_abs(P.a, P.na) + eps, wmax = max_abs(P.w, P.nw) + eps,
                 bmax = max_abs(P.b, P.nb) + eps, gsum = sum_abs(P.g, P.nz);
    const double window = (double)c->fh * c->fw * c->cin;
    const double k = window + 1.0 + (double)P.nz + 1.0;
    const double sum_terms = gsum * (bmax + window * amax * wmax);
    const double tol = fd_tolerance(k, sum_terms, eps, gsum * fmax(1.0, fmax(amax, wmax)));

    int bad = fd_check(conv_loss, &P, P.a, ad, da, eps, tol, desc, "da_prev", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.w, wd, dw, eps, tol, desc, "dw", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.b, bd, db, eps, tol, desc, "db", st, failure, failure_len);
    st->cases++;

    free(da), free(dw), free(db);
    clcnn_tensor_destroy(tdz), clcnn_tensor_destroy(tda), clcnn_tensor_destroy(tdw),
        clcnn_tensor_destroy(tdb);
    clcnn_tensor_destroy(P.ta), clcnn_tensor_destroy(P.tw), clcnn_tensor_destroy(P.tb),
        clcnn_tensor_destroy(P.tz);
    free(P.a), free(P.w), free(P.b), free(P.g), free(P.z);
    return bad;
}

static void conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel(void **state)
{
    (void)state;
    const size_t n = sizeof conv_special / sizeof conv_special[0];
    /* The list covers what it claims to, whatever later edits do to it. */
    int stride_gt_f = 0, f1 = 0, pad_gt_f = 0, nonsquare_in = 0, nonsquare_f = 0, one_ch = 0;
    for (size_t i = 0; i < n; i++) {
        const conv_case *c = &conv_special[i];
        int f = c->fh > c->fw ? c->fh : c->fw;
        stride_gt_f |= c->stride > f;
        f1 |= c->fh == 1 && c->fw == 1;
        pad_gt_f |= c->pad > f;
        nonsquare_in |= c->h != c->w;
        nonsquare_f |= c->fh != c->fw;
        one_ch |= c->cin == 1 && c->cout == 1;
    }
    assert_true(stride_gt_f && f1 && pad_gt_f && nonsquare_in && nonsquare_f && one_ch);

    np_random r;
    np_random_seed(&r, 1001);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_conv_case(ctx, &r, &conv_special[i], (int)i, &st, failure, sizeof failure);
    clcnn_context_destroy(ctx);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv special shapes", &st);
}

static void conv_backward_matches_finite_differences_on_random_shapes(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 1002);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        conv_case c = draw_conv_case(&r);
        check_conv_case(ctx, &r, &c, i, &st, failure, sizeof failure);
    }
    clcnn_context_destroy(ctx);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv random shapes", &st);
}

/* da_prev, dw and db computed alone or in any combination are bitwise those
 * computed all together (and the full call is deterministic). */
static void conv_backward_outputs_do_not_depend_on_which_others_are_requested(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 1003);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    const size_t n_special = sizeof conv_special / sizeof conv_special[0];
    const int n_cases = (int)n_special + 12;
    static const char *const names[3] = {"da_prev", "dw", "db"};

    for (int ci = 0; ci < n_cases; ci++) {
        conv_case c = ci < (int)n_special ? conv_special[ci] : draw_conv_case(&r);
        char desc[320];
        conv_describe(&c, ci, desc, sizeof desc);
        int zd[4];
        conv_out_dims(&c, desc, zd);
        const int dims[3][4] = {{c.m, c.h, c.w, c.cin}, {c.fh, c.fw, c.cin, c.cout}, {1, 1, 1, c.cout}};
        const clcnn_conv_params p = {c.stride, c.pad, CLCNN_CONV_AUTO};
        double *a = randn_array(&r, count4(dims[0])), *w = randn_array(&r, count4(dims[1])),
               *g = randn_array(&r, count4(zd));
        clcnn_tensor *ta = th_tensor(ctx, CLCNN_F64, dims[0][0], dims[0][1], dims[0][2], dims[0][3], a);
        clcnn_tensor *tw = th_tensor(ctx, CLCNN_F64, dims[1][0], dims[1][1], dims[1][2], dims[1][3], w);
        clcnn_tensor *tdz = th_tensor(ctx, CLCNN_F64, zd[0], zd[1], zd[2], zd[3], g);

        /* All three together. */
        clcnn_tensor *full[3];
        unsigned char *snap[3];
        size_t snap_n[3];
        for (int o = 0; o < 3; o++)
            full[o] = junk_tensor(ctx, dims[o]);
        clcnn_status s = clcnn_conv2d_backward(ctx, tdz, ta, tw, p, full[0], full[1], full[2]);
        if (s != CLCNN_OK)
            fail_msg("%s: clcnn_conv2d_backward (all outputs): %s: %s", desc, clcnn_status_string(s),
                     clcnn_last_error(ctx));
        for (int o = 0; o < 3; o++)
            snap[o] = th_snapshot(full[o], &snap_n[o]);

        /* Every non-empty subset, the full one again included. */
        char failure[600] = "";
        for (int mask = 1; mask < 8 && !failure[0]; mask++) {
            clcnn_tensor *out[3] = {NULL, NULL, NULL};
            for (int o = 0; o < 3; o++)
                if (mask & (1 << o)) {
                    /* Different junk than the full call's, so stale data shows. */
                    size_t cnt = count4(dims[o]);
                    double *junk = filled_array(cnt, -7.25 * mask);
                    out[o] = th_tensor(ctx, CLCNN_F64, dims[o][0], dims[o][1], dims[o][2], dims[o][3], junk);
                    free(junk);
                }
            s = clcnn_conv2d_backward(ctx, tdz, ta, tw, p, out[0], out[1], out[2]);
            if (s != CLCNN_OK)
                snprintf(failure, sizeof failure,
                         "%s: clcnn_conv2d_backward with da_prev %s, dw %s, db %s: %s: %s", desc,
                         out[0] ? "requested" : "NULL", out[1] ? "requested" : "NULL",
                         out[2] ? "requested" : "NULL", clcnn_status_string(s), clcnn_last_error(ctx));
            for (int o = 0; o < 3 && !failure[0]; o++) {
                if (!out[o])
                    continue;
                size_t nb;
                unsigned char *got = th_snapshot(out[o], &nb);
                if (nb != snap_n[o] || memcmp(got, snap[o], nb) != 0)
                    snprintf(failure, sizeof failure,
                             "%s: %s computed with da_prev %s, dw %s, db %s differs bitwise from %s "
                             "computed with all three",
                             desc, names[o], out[0] ? "requested" : "NULL", out[1] ? "requested" : "NULL",
                             out[2] ? "requested" : "NULL", names[o]);
                free(got);
            }
            for (int o = 0; o < 3; o++)
                clcnn_tensor_destroy(out[o]);
        }

        for (int o = 0; o < 3; o++) {
            free(snap[o]);
            clcnn_tensor_destroy(full[o]);
        }
        clcnn_tensor_destroy(ta), clcnn_tensor_destroy(tw), clcnn_tensor_destroy(tdz);
        free(a), free(w), free(g);
        if (failure[0]) {
            clcnn_context_destroy(ctx);
            fail_msg("%s", failure);
        }
    }
    clcnn_context_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                    */
/* ------------------------------------------------------------------------ */

/* Pooling has no padding and a square window, so "pad > f" and "fh != fw" do
 * not apply; the other special cases do. */
typedef struct {
    const char *why; /* NULL for a random shape */
    int m, h, w, c, f, stride;
} pool_case;

/* Fields: why, m, H, W, C, f, stride. */
static const pool_case pool_special[] = {
    {"stride > f", 1, 7, 6, 2, 2, 3},
    {"f = 1", 1, 3, 4, 2, 1, 1},
    {"f = 1, stride > f", 2, 5, 4, 1, 1, 2},
    {"non-square input", 1, 3, 7, 2, 2, 2},
    {"non-square input, overlapping windows", 2, 5, 3, 2, 3, 1},
    {"single channel", 1, 6, 6, 1, 2, 2},
    {"single channel, overlapping windows (stride < f)", 1, 5, 6, 1, 3, 1},
    {"window as large as the input (1x1 output)", 2, 3, 3, 3, 3, 1},
    {"1x1 input", 1, 1, 1, 3, 1, 1},
    {"stride leaves the last row and column unused", 1, 6, 4, 2, 3, 2},
};

static int pool_case_fits(const pool_case *c)
{
    return c->f <= c->h && c->f <= c->w;
}

static pool_case draw_pool_case(np_random *r)
{
    pool_case c;
    do {
        c.why = NULL;
        c.m = rand_int(r, 1, 2);
        c.h = rand_int(r, 1, 7);
        c.w = rand_int(r, 1, 7);
        c.c = rand_int(r, 1, 3);
        c.f = rand_int(r, 1, 3);
        c.stride = rand_int(r, 1, 3);
    } while (!pool_case_fits(&c));
    return c;
}

static void pool_describe(const pool_case *c, clcnn_pool_mode mode, int index, char *buf, size_t len)
{
    snprintf(buf, len, "%s pool case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], f %d, stride %d",
             mode == CLCNN_POOL_MAX ? "max" : "avg", index, c->why ? c->why : "random", c->m, c->h, c->w,
             c->c, c->f, c->stride);
}

typedef struct {
    clcnn_context *ctx;
    clcnn_pool_params p;
    const char *desc;
    size_t na, nz;
    double *a, *g, *z;
    clcnn_tensor *ta, *tz;
} pool_problem;

static double pool_loss(void *problem)
{
    pool_problem *P = problem;
    write_f64(P->ta, P->a, P->na, P->desc);
    clcnn_status s = clcnn_pool2d_forward(P->ctx, P->ta, P->p, P->tz);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_forward: %s: %s", P->desc, clcnn_status_string(s),
                 clcnn_last_error(P->ctx));
    read_f64(P->tz, P->z, P->nz, P->desc);
    return dot(P->g, P->z, P->nz);
}

/* n distinct values: a random permutation of a grid spaced 0.01 apart and
 * centred on 0, plus jitter in [-0.001, 0.001), rounded to multiples of
 * 2^-30.  Distinct values end up at least 0.008 apart. */
static double *distinct_array(np_random *r, size_t n)
{
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(np_random_double(r) * (double)i);
        if (j >= i)
            j = i - 1;
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    double *x = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        x[i] = quantize(((double)perm[i] - (double)n / 2.0) * 0.01 + (np_random_double(r) - 0.5) * 0.002);
    free(perm);
    return x;
}

/* As check_conv_case. */
static int check_pool_case(clcnn_context *ctx, np_random *r, const pool_case *c, clcnn_pool_mode mode,
                           int index, gc_stats *st, char *failure, size_t failure_len)
{
    char desc[320];
    pool_describe(c, mode, index, desc, sizeof desc);
    if (!pool_case_fits(c))
        fail_msg("%s: the window does not fit the input (bad test case)", desc);
    const int ad[4] = {c->m, c->h, c->w, c->c};
    int zd[4];
    pool_problem P;
    P.ctx = ctx;
    P.p = (clcnn_pool_params){c->f, c->stride, mode};
    P.desc = desc;
    clcnn_status s = clcnn_pool2d_output_shape(ad, P.p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {c->m, (c->h - c->f) / c->stride + 1, (c->w - c->f) / c->stride + 1, c->c};
    if (memcmp(zd, want, sizeof want) != 0)
        fail_msg("%s: clcnn_pool2d_output_shape gives [%d][%d][%d][%d], want [%d][%d][%d][%d]", desc, zd[0],
                 zd[1], zd[2], zd[3], want[0], want[1], want[2], want[3]);

    const double eps = mode == CLCNN_POOL_MAX ? MAX_POOL_EPS : LINEAR_EPS;
    P.na = count4(ad), P.nz = count4(zd);
    P.a = mode == CLCNN_POOL_MAX ? distinct_array(r, P.na) : randn_array(r, P.na);
    P.g = randn_array(r, P.nz);
    P.z = xmalloc(P.nz);
    if (mode == CLCNN_POOL_MAX) {
        /* The precondition of the max check: no step of +-eps reorders two
         * values, with a wide margin. */
        for (size_t i = 0; i < P.na; i++)
            for (size_t j = i + 1; j < P.na; j++)
                if (!(fabs(P.a[i] - P.a[j]) > 50.0 * eps))
                    fail_msg("%s: inputs %zu and %zu are only %g apart (bad test data)", desc, i, j,
                             fabs(P.a[i] - P.a[j]));
    }
    P.ta = th_tensor(ctx, CLCNN_F64, ad[0], ad[1], ad[2], ad[3], P.a);
    P.tz = th_tensor(ctx, CLCNN_F64, zd[0], zd[1], zd[2], zd[3], NULL);

    clcnn_tensor *tda = th_tensor(ctx, CLCNN_F64, zd[0], zd[1], zd[2], zd[3], P.g);
    clcnn_tensor *tdp = junk_tensor(ctx, ad);
    s = clcnn_pool2d_backward(ctx, tda, P.ta, P.p, tdp);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(ctx));
    double *dp = th_read(tdp);

    /* The tolerance of the header comment: each output reads f*f inputs
     * (plus one division for the average), each |output| <= max|a|. */
    const double amax = max_abs(P.a, P.na) + eps, gsum = sum_abs(P.g, P.nz);
    const double k = (double)c->f * c->f + 1.0 + (double)P.nz + 1.0;
    const double tol = fd_tolerance(k, gsum * amax, eps, gsum * fmax(1.0, amax));

    int bad = fd_check(pool_loss, &P, P.a, ad, dp, eps, tol, desc, "da_prev", st, failure, failure_len);
    st->cases++;

    free(dp);
    clcnn_tensor_destroy(tda), clcnn_tensor_destroy(tdp);
    clcnn_tensor_destroy(P.ta), clcnn_tensor_destroy(P.tz);
    free(P.a), free(P.g), free(P.z);
    return bad;
}

static void check_pool_special(clcnn_pool_mode mode, uint32_t seed)
{
    const size_t n = sizeof pool_special / sizeof pool_special[0];
    int stride_gt_f = 0, f1 = 0, nonsquare_in = 0, one_ch = 0, overlap = 0;
    for (size_t i = 0; i < n; i++) {
        const pool_case *c = &pool_special[i];
        stride_gt_f |= c->stride > c->f;
        f1 |= c->f == 1;
        nonsquare_in |= c->h != c->w;
        one_ch |= c->c == 1;
        overlap |= c->stride < c->f;
    }
    assert_true(stride_gt_f && f1 && nonsquare_in && one_ch && overlap);

    np_random r;
    np_random_seed(&r, seed);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_pool_case(ctx, &r, &pool_special[i], mode, (int)i, &st, failure, sizeof failure);
    clcnn_context_destroy(ctx);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool special shapes" : "avg pool special shapes", &st);
}

static void check_pool_random(clcnn_pool_mode mode, uint32_t seed)
{
    np_random r;
    np_random_seed(&r, seed);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        pool_case c = draw_pool_case(&r);
        check_pool_case(ctx, &r, &c, mode, i, &st, failure, sizeof failure);
    }
    clcnn_context_destroy(ctx);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool random shapes" : "avg pool random shapes", &st);
}

static void pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    (void)state;
    check_pool_special(CLCNN_POOL_AVG, 2001);
}

static void pool_avg_backward_matches_finite_differences_on_random_shapes(void **state)
{
    (void)state;
    check_pool_random(CLCNN_POOL_AVG, 2002);
}

static void
pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    (void)state;
    check_pool_special(CLCNN_POOL_MAX, 3001);
}

static void pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs(void **state)
{
    (void)state;
    check_pool_random(CLCNN_POOL_MAX, 3002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel),
        cmocka_unit_test(conv_backward_matches_finite_differences_on_random_shapes),
        cmocka_unit_test(conv_backward_outputs_do_not_depend_on_which_others_are_requested),
        cmocka_unit_test(pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel),
        cmocka_unit_test(pool_avg_backward_matches_finite_differences_on_random_shapes),
        cmocka_unit_test(
            pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel),
        cmocka_unit_test(pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs),
    };
    return cmocka_run_group_tests_name("gradcheck", tests, NULL, NULL);
}
