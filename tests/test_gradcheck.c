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
 *
 * Here: the finite-difference loop and main; the convolution's cases in
 * test_gradcheck_conv.c, pooling's in test_gradcheck_pool.c (gradcheck.h).
 */
#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------ */

double quantize(double x)
{
    return ldexp(nearbyint(ldexp(x, QUANTUM_BITS)), -QUANTUM_BITS);
}

double *xmalloc(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* n values of np.random.randn, each rounded to a multiple of 2^-30 (the
 * descriptors' TC_QUANTIZED data). */
double *randn_array(np_random *r, size_t n)
{
    double *x = tc_values(r, n, TC_QUANTIZED, 1.0);
    assert_non_null(x);
    return x;
}

/* Every output of a case overwritten with JUNK. */
void junk_outputs(tc_tensors *t)
{
    for (int o = 0; o < TC_MAX_OUT; o++)
        if (t->out[o])
            th_fill(t->out[o], JUNK, 0.0);
}

size_t count4(const int d[4])
{
    return tc_count(d);
}

double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

double sum_abs(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs(x[i]);
    return s;
}

void write_f64(clcnn_tensor *t, const double *x, size_t n, const char *desc)
{
    clcnn_status s = clcnn_tensor_write(t, x, n * sizeof(double));
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_tensor_write: %s", desc, clcnn_status_string(s));
}

void read_f64(const clcnn_tensor *t, double *x, size_t n, const char *desc)
{
    clcnn_status s = clcnn_tensor_read(t, x, n * sizeof(double));
    if (s != CLCNN_OK)
        fail_msg("%s: clcnn_tensor_read: %s", desc, clcnn_status_string(s));
}

/* sum(g * z), left to right. */
double dot(const double *g, const double *z, size_t n)
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
double fd_tolerance(double k, double s, double eps, double a)
{
    return 2.0 * gamma_k(k) * (s / eps + a);
}

/* ------------------------------------------------------------------------ */
/* The finite-difference loop                                                 */
/* ------------------------------------------------------------------------ */

gc_stats gc_stats_init(void)
{
    gc_stats st = {0, 0, 0.0, INFINITY, 0.0};
    return st;
}

void gc_stats_print(const char *what, const gc_stats *st)
{
    print_message("%s: %d cases, %zu gradient entries, tolerance %.2g..%.2g, worst |fd - analytic| "
                  "/ tolerance %.3g\n",
                  what, st->cases, st->entries, st->tol_min, st->tol_max, st->worst);
}

/* Compares grad[i] with the central difference of loss() over x[i], for every
 * element of x (shape dims).  On the first mismatch writes a message to
 * failure and returns 1; the caller fails after freeing everything. */
int fd_check(loss_fn loss, void *problem, double *x, const int dims[4], const double *grad, double eps,
             double tol, const char *desc, const char *what, gc_stats *st, char *failure, size_t failure_len)
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
