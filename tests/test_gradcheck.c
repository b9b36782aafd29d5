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

/* n values of np.random.randn, each rounded to a multiple of 2^-30 (the
 * descriptors' TC_QUANTIZED data). */
static double *randn_array(np_random *r, size_t n)
{
    double *x = tc_values(r, n, TC_QUANTIZED, 1.0);
    assert_non_null(x);
    return x;
}

/* Every output of a case overwritten with JUNK. */
static void junk_outputs(tc_tensors *t)
{
    for (int o = 0; o < TC_MAX_OUT; o++)
        if (t->out[o])
            th_fill(t->out[o], JUNK, 0.0);
}

static size_t count4(const int d[4])
{
    return tc_count(d);
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

/* A case of the descriptors (ops.h) and the special case it covers (NULL
 * for a random shape). */
typedef struct {
    const char *why;
    tc_shape s;
} named_shape;

/* why, m, H, W, C_prev, C, fh, fw, stride, pad: a convolution with bias. */
#define CONV(why, m, h, w, cin, cout, fh, fw, stride, pad)                                                   \
    {                                                                                                        \
        why,                                                                                                 \
        {                                                                                                    \
            m, h, w, cin, cout, fh, fw, stride, pad, 1, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO                   \
        }                                                                                                    \
    }

/* Always present, whatever the seed. */
static const named_shape conv_special[] = {
    CONV("stride > f", 1, 7, 6, 2, 3, 2, 2, 3, 0),
    CONV("stride > f, non-square filter, padded", 2, 7, 7, 1, 2, 1, 2, 3, 1),
    CONV("f = 1", 1, 4, 5, 3, 2, 1, 1, 1, 0),
    CONV("f = 1, stride 2, pad 1", 2, 5, 5, 2, 3, 1, 1, 2, 1),
    CONV("pad > f", 1, 3, 4, 2, 2, 2, 2, 1, 3),
    CONV("pad > f, f = 1 (border outputs see only zeros)", 1, 2, 3, 1, 2, 1, 1, 1, 2),
    CONV("pad > f, stride > f, non-square filter", 1, 4, 3, 2, 2, 1, 2, 3, 3),
    CONV("non-square input", 1, 3, 7, 2, 2, 3, 3, 1, 0),
    CONV("non-square filter, fh > fw", 1, 6, 5, 2, 3, 3, 1, 1, 1),
    CONV("non-square filter, fh < fw, stride 2", 2, 5, 6, 1, 2, 2, 4, 2, 0),
    CONV("single channel in and out", 1, 5, 5, 1, 1, 3, 3, 1, 1),
    CONV("single channel, 1x1 input, padded", 1, 1, 1, 1, 1, 2, 3, 1, 1),
    CONV("filter as large as the padded input (1x1 output)", 2, 3, 4, 2, 3, 5, 6, 2, 1),
    CONV("stride leaves trailing rows unused", 1, 7, 6, 2, 2, 2, 3, 3, 0),
};

/* A random small shape (tc_small_limits) whose window fits its padded
 * input. */
static named_shape draw_conv_case(np_random *r)
{
    named_shape c = {NULL, tc_draw(tc_op_of(TC_CONV_FORWARD), &tc_small_limits, r, NULL)};
    return c;
}

static void conv_describe(const named_shape *c, int index, char *buf, size_t len)
{
    const tc_shape *s = &c->s;
    snprintf(buf, len,
             "conv case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], w [fh=%d][fw=%d][%d][%d], "
             "stride %d, pad %d",
             index, c->why ? c->why : "random", s->n, s->h, s->w, s->c, s->fh, s->fw, s->c, s->cout,
             s->stride, s->pad);
}

/* The output shape, checked against the documented formula. */
static void conv_out_dims(const named_shape *c, const char *desc, int zd[4])
{
    const tc_shape *k = &c->s;
    const int ad[4] = {k->n, k->h, k->w, k->c}, wd[4] = {k->fh, k->fw, k->c, k->cout};
    const clcnn_conv_params p = {k->stride, k->pad, CLCNN_CONV_AUTO};
    clcnn_status s = clcnn_conv2d_output_shape(ad, wd, p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {k->n, (k->h - k->fh + 2 * k->pad) / k->stride + 1,
                         (k->w - k->fw + 2 * k->pad) / k->stride + 1, k->cout};
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

/* Checks one shape on f's host context. Returns 0, or 1 with a message in
 * failure (the case's arrays freed; its tensors are the fixture's). */
static int check_conv_case(th_fixture *f, np_random *r, const named_shape *c, int index, gc_stats *st,
                           char *failure, size_t failure_len)
{
    char desc[320];
    conv_describe(c, index, desc, sizeof desc);
    const tc_op *fwd = tc_op_of(TC_CONV_FORWARD), *bwd = tc_op_of(TC_CONV_BACKWARD);
    if (!tc_fits(fwd, &c->s))
        fail_msg("%s: the filter does not fit the padded input (bad test case)", desc);
    int zd[4];
    conv_out_dims(c, desc, zd);
    int ad[4], wd[4], bd[4], fz[4];
    tc_dims(fwd, &c->s, 0, ad), tc_dims(fwd, &c->s, 1, wd), tc_dims(fwd, &c->s, 2, bd),
        tc_dims(fwd, &c->s, 3, fz);
    if (memcmp(zd, fz, sizeof fz) != 0)
        fail_msg("%s: the descriptor's z shape [%d][%d][%d][%d] is not the library's", desc, fz[0], fz[1],
                 fz[2], fz[3]);

    conv_problem P;
    P.ctx = th_host(f);
    P.p = (clcnn_conv_params){c->s.stride, c->s.pad, CLCNN_CONV_AUTO};
    P.desc = desc;
    P.na = count4(ad), P.nw = count4(wd), P.nb = count4(bd), P.nz = count4(zd);
    P.a = randn_array(r, P.na);
    P.w = randn_array(r, P.nw);
    P.b = randn_array(r, P.nb);
    P.g = randn_array(r, P.nz);
    P.z = xmalloc(P.nz);
    tc_tensors ft, bt;
    th_case_make(f, P.ctx, fwd, &c->s, CLCNN_F64, (double *const[TC_MAX_IN]){P.a, P.w, P.b}, &ft);
    P.ta = ft.in[0], P.tw = ft.in[1], P.tb = ft.in[2], P.tz = ft.out[0];

    /* The analytic gradients, into outputs prefilled with junk. */
    th_case_make(f, P.ctx, bwd, &c->s, CLCNN_F64, (double *const[TC_MAX_IN]){P.g, P.a, P.w}, &bt);
    junk_outputs(&bt);
    clcnn_status s = tc_run(&bt);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_conv2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(P.ctx));
    double *da = th_read(bt.out[0]), *dw = th_read(bt.out[1]), *db = th_read(bt.out[2]);

    /* The tolerance of the header comment. */
    const double eps = LINEAR_EPS;
    const double amax = max_abs(P.a, P.na) + eps, wmax = max_abs(P.w, P.nw) + eps,
                 bmax = max_abs(P.b, P.nb) + eps, gsum = sum_abs(P.g, P.nz);
    const double window = (double)c->s.fh * c->s.fw * c->s.c;
    const double k = window + 1.0 + (double)P.nz + 1.0;
    const double sum_terms = gsum * (bmax + window * amax * wmax);
    const double tol = fd_tolerance(k, sum_terms, eps, gsum * fmax(1.0, fmax(amax, wmax)));

    int bad = fd_check(conv_loss, &P, P.a, ad, da, eps, tol, desc, "da_prev", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.w, wd, dw, eps, tol, desc, "dw", st, failure, failure_len) ||
              fd_check(conv_loss, &P, P.b, bd, db, eps, tol, desc, "db", st, failure, failure_len);
    st->cases++;

    free(da), free(dw), free(db);
    th_case_free(f, &bt);
    th_case_free(f, &ft);
    free(P.a), free(P.w), free(P.b), free(P.g), free(P.z);
    return bad;
}

static void conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel(void **state)
{
    th_fixture *f = th_fx(state);
    const size_t n = sizeof conv_special / sizeof conv_special[0];
    /* The list covers what it claims to, whatever later edits do to it. */
    int stride_gt_f = 0, f1 = 0, pad_gt_f = 0, nonsquare_in = 0, nonsquare_f = 0, one_ch = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_shape *c = &conv_special[i].s;
        int fmax_ = c->fh > c->fw ? c->fh : c->fw;
        stride_gt_f |= c->stride > fmax_;
        f1 |= c->fh == 1 && c->fw == 1;
        pad_gt_f |= c->pad > fmax_;
        nonsquare_in |= c->h != c->w;
        nonsquare_f |= c->fh != c->fw;
        one_ch |= c->c == 1 && c->cout == 1;
    }
    assert_true(stride_gt_f && f1 && pad_gt_f && nonsquare_in && nonsquare_f && one_ch);

    np_random r;
    np_random_seed(&r, 1001);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_conv_case(f, &r, &conv_special[i], (int)i, &st, failure, sizeof failure);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv special shapes", &st);
}

static void conv_backward_matches_finite_differences_on_random_shapes(void **state)
{
    th_fixture *f = th_fx(state);
    np_random r;
    np_random_seed(&r, 1002);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        named_shape c = draw_conv_case(&r);
        check_conv_case(f, &r, &c, i, &st, failure, sizeof failure);
    }
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print("conv random shapes", &st);
}

/* da_prev, dw and db computed alone or in any combination are bitwise those
 * computed all together (and the full call is deterministic). */
static void conv_backward_outputs_do_not_depend_on_which_others_are_requested(void **state)
{
    th_fixture *f = th_fx(state);
    np_random r;
    np_random_seed(&r, 1003);
    clcnn_context *ctx = th_host(f);
    const tc_op *op = tc_op_of(TC_CONV_BACKWARD);
    const size_t n_special = sizeof conv_special / sizeof conv_special[0];
    const int n_cases = (int)n_special + 12;
    static const char *const names[3] = {"da_prev", "dw", "db"};

    for (int ci = 0; ci < n_cases; ci++) {
        named_shape c = ci < (int)n_special ? conv_special[ci] : draw_conv_case(&r);
        char desc[320];
        conv_describe(&c, ci, desc, sizeof desc);
        int zd[4], ad[4], wd[4];
        conv_out_dims(&c, desc, zd);
        tc_dims(op, &c.s, 1, ad), tc_dims(op, &c.s, 2, wd);
        double *a = randn_array(&r, count4(ad)), *w = randn_array(&r, count4(wd)),
               *g = randn_array(&r, count4(zd));
        double *const in[TC_MAX_IN] = {g, a, w};

        /* All three together. */
        tc_tensors full;
        unsigned char *snap[3];
        size_t snap_n[3];
        th_case_make(f, ctx, op, &c.s, CLCNN_F64, in, &full);
        junk_outputs(&full);
        clcnn_status s = tc_run(&full);
        if (s != CLCNN_OK)
            fail_msg("%s: clcnn_conv2d_backward (all outputs): %s: %s", desc, clcnn_status_string(s),
                     clcnn_last_error(ctx));
        for (int o = 0; o < 3; o++)
            snap[o] = th_snapshot(full.out[o], &snap_n[o]);

        /* Every non-empty subset, the full one again included. */
        char failure[600] = "";
        for (int mask = 1; mask < 8 && !failure[0]; mask++) {
            tc_shape sub = c.s;
            sub.omit = 7 & ~mask;
            tc_tensors t;
            th_case_make(f, ctx, op, &sub, CLCNN_F64, in, &t);
            clcnn_tensor *const *out = t.out;
            for (int o = 0; o < 3; o++)
                if (out[o]) /* Different junk than the full call's, so stale data shows. */
                    th_fill(out[o], -7.25 * mask, 0.0);
            s = tc_run(&t);
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
            th_case_free(f, &t);
        }

        for (int o = 0; o < 3; o++)
            free(snap[o]);
        th_case_free(f, &full);
        free(a), free(w), free(g);
        if (failure[0])
            fail_msg("%s", failure);
    }
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                    */
/* ------------------------------------------------------------------------ */

/* Pooling has no padding and a square window, so "pad > f" and "fh != fw" do
 * not apply; the other special cases do. */
/* why, m, H, W, C, f, stride. */
#define POOL(why, m, h, w, c, f, stride)                                                                     \
    {                                                                                                        \
        why,                                                                                                 \
        {                                                                                                    \
            m, h, w, c, 0, f, f, stride, 0, 0, 0, CLCNN_POOL_MAX, CLCNN_CONV_AUTO                            \
        }                                                                                                    \
    }

static const named_shape pool_special[] = {
    POOL("stride > f", 1, 7, 6, 2, 2, 3),
    POOL("f = 1", 1, 3, 4, 2, 1, 1),
    POOL("f = 1, stride > f", 2, 5, 4, 1, 1, 2),
    POOL("non-square input", 1, 3, 7, 2, 2, 2),
    POOL("non-square input, overlapping windows", 2, 5, 3, 2, 3, 1),
    POOL("single channel", 1, 6, 6, 1, 2, 2),
    POOL("single channel, overlapping windows (stride < f)", 1, 5, 6, 1, 3, 1),
    POOL("window as large as the input (1x1 output)", 2, 3, 3, 3, 3, 1),
    POOL("1x1 input", 1, 1, 1, 3, 1, 1),
    POOL("stride leaves the last row and column unused", 1, 6, 4, 2, 3, 2),
};

static named_shape draw_pool_case(np_random *r)
{
    named_shape c = {NULL, tc_draw(tc_op_of(TC_POOL_FORWARD), &tc_small_limits, r, NULL)};
    return c;
}

static void pool_describe(const named_shape *c, clcnn_pool_mode mode, int index, char *buf, size_t len)
{
    snprintf(buf, len, "%s pool case %d (%s): a_prev [m=%d][H=%d][W=%d][C=%d], f %d, stride %d",
             mode == CLCNN_POOL_MAX ? "max" : "avg", index, c->why ? c->why : "random", c->s.n, c->s.h,
             c->s.w, c->s.c, c->s.fh, c->s.stride);
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
static int check_pool_case(th_fixture *f, np_random *r, const named_shape *nc, clcnn_pool_mode mode,
                           int index, gc_stats *st, char *failure, size_t failure_len)
{
    char desc[320];
    pool_describe(nc, mode, index, desc, sizeof desc);
    const tc_op *fwd = tc_op_of(TC_POOL_FORWARD), *bwd = tc_op_of(TC_POOL_BACKWARD);
    tc_shape c = nc->s;
    c.mode = mode;
    if (!tc_fits(fwd, &c))
        fail_msg("%s: the window does not fit the input (bad test case)", desc);
    const int ad[4] = {c.n, c.h, c.w, c.c};
    int zd[4];
    pool_problem P;
    P.ctx = th_host(f);
    P.p = (clcnn_pool_params){c.fh, c.stride, mode};
    P.desc = desc;
    clcnn_status s = clcnn_pool2d_output_shape(ad, P.p, zd);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_output_shape: %s: %s", desc, clcnn_status_string(s),
                 clcnn_last_error(NULL));
    const int want[4] = {c.n, (c.h - c.fh) / c.stride + 1, (c.w - c.fh) / c.stride + 1, c.c};
    if (memcmp(zd, want, sizeof want) != 0)
        fail_msg("%s: clcnn_pool2d_output_shape gives [%d][%d][%d][%d], want [%d][%d][%d][%d]", desc, zd[0],
                 zd[1], zd[2], zd[3], want[0], want[1], want[2], want[3]);
    int fz[4];
    tc_dims(fwd, &c, 1, fz);
    if (memcmp(zd, fz, sizeof fz) != 0)
        fail_msg("%s: the descriptor's output shape [%d][%d][%d][%d] is not the library's", desc, fz[0],
                 fz[1], fz[2], fz[3]);

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
    tc_tensors ft, bt;
    th_case_make(f, P.ctx, fwd, &c, CLCNN_F64, (double *const[TC_MAX_IN]){P.a, NULL, NULL}, &ft);
    P.ta = ft.in[0], P.tz = ft.out[0];

    th_case_make(f, P.ctx, bwd, &c, CLCNN_F64, (double *const[TC_MAX_IN]){P.g, P.a, NULL}, &bt);
    junk_outputs(&bt);
    s = tc_run(&bt);
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_pool2d_backward: %s: %s", desc, clcnn_status_string(s), clcnn_last_error(P.ctx));
    double *dp = th_read(bt.out[0]);

    /* The tolerance of the header comment: each output reads f*f inputs
     * (plus one division for the average), each |output| <= max|a|. */
    const double amax = max_abs(P.a, P.na) + eps, gsum = sum_abs(P.g, P.nz);
    const double k = (double)c.fh * c.fh + 1.0 + (double)P.nz + 1.0;
    const double tol = fd_tolerance(k, gsum * amax, eps, gsum * fmax(1.0, amax));

    int bad = fd_check(pool_loss, &P, P.a, ad, dp, eps, tol, desc, "da_prev", st, failure, failure_len);
    st->cases++;

    free(dp);
    th_case_free(f, &bt);
    th_case_free(f, &ft);
    free(P.a), free(P.g), free(P.z);
    return bad;
}

static void check_pool_special(th_fixture *f, clcnn_pool_mode mode, uint32_t seed)
{
    const size_t n = sizeof pool_special / sizeof pool_special[0];
    int stride_gt_f = 0, f1 = 0, nonsquare_in = 0, one_ch = 0, overlap = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_shape *c = &pool_special[i].s;
        stride_gt_f |= c->stride > c->fh;
        f1 |= c->fh == 1;
        nonsquare_in |= c->h != c->w;
        one_ch |= c->c == 1;
        overlap |= c->stride < c->fh;
    }
    assert_true(stride_gt_f && f1 && nonsquare_in && one_ch && overlap);

    np_random r;
    np_random_seed(&r, seed);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (size_t i = 0; i < n && !failure[0]; i++)
        check_pool_case(f, &r, &pool_special[i], mode, (int)i, &st, failure, sizeof failure);
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool special shapes" : "avg pool special shapes", &st);
}

static void check_pool_random(th_fixture *f, clcnn_pool_mode mode, uint32_t seed)
{
    np_random r;
    np_random_seed(&r, seed);
    gc_stats st = gc_stats_init();
    char failure[800] = "";
    for (int i = 0; i < N_RANDOM_SHAPES && !failure[0]; i++) {
        named_shape c = draw_pool_case(&r);
        check_pool_case(f, &r, &c, mode, i, &st, failure, sizeof failure);
    }
    if (failure[0])
        fail_msg("%s", failure);
    gc_stats_print(mode == CLCNN_POOL_MAX ? "max pool random shapes" : "avg pool random shapes", &st);
}

static void pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    check_pool_special(th_fx(state), CLCNN_POOL_AVG, 2001);
}

static void pool_avg_backward_matches_finite_differences_on_random_shapes(void **state)
{
    check_pool_random(th_fx(state), CLCNN_POOL_AVG, 2002);
}

static void
pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel(void **state)
{
    check_pool_special(th_fx(state), CLCNN_POOL_MAX, 3001);
}

static void pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs(void **state)
{
    check_pool_random(th_fx(state), CLCNN_POOL_MAX, 3002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(conv_backward_matches_finite_differences_on_random_shapes, th_setup,
                                        th_teardown),
        cmocka_unit_test_setup_teardown(conv_backward_outputs_do_not_depend_on_which_others_are_requested,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(pool_avg_backward_matches_finite_differences_on_random_shapes,
                                        th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(
            pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel, th_setup,
            th_teardown),
        cmocka_unit_test_setup_teardown(
            pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs, th_setup,
            th_teardown),
    };
    return cmocka_run_group_tests_name("gradcheck", tests, NULL, NULL);
}
