/* gradcheck.h - what the files of test_gradcheck share: the steps and
 * data rules of the finite differences, the tolerance of test_gradcheck.c's
 * header comment, the finite-difference loop, and the tests the convolution
 * and pooling files define, which main (test_gradcheck.c) registers. */
#ifndef CLCNN_GRADCHECK_H
#define CLCNN_GRADCHECK_H

#include "helpers.h"

#include <stddef.h>

/* Step for the linear ops (conv, average pooling) and for max pooling. */
#define LINEAR_EPS 0x1p-10
#define MAX_POOL_EPS 0x1p-13
/* Data values are multiples of 2^-QUANTUM_BITS, so x +- eps is exact. */
#define QUANTUM_BITS 30
/* Junk written into backward outputs before the call. */
#define JUNK 1234.5

#define N_RANDOM_SHAPES 25

/* A case of the descriptors (ops.h) and the special case it covers (NULL
 * for a random shape). */
typedef struct {
    const char *why;
    tc_shape s;
} named_shape;

/* x rounded to a multiple of 2^-QUANTUM_BITS. */
double quantize(double x);

/* n doubles (at least one), failing the test when out of memory. */
double *xmalloc(size_t n);

/* n values of np.random.randn, each rounded to a multiple of 2^-30. */
double *randn_array(np_random *r, size_t n);

/* Every output of a case overwritten with JUNK. */
void junk_outputs(tc_tensors *t);

size_t count4(const int d[4]);
double max_abs(const double *x, size_t n);
double sum_abs(const double *x, size_t n);

/* clcnn_tensor_write / clcnn_tensor_read of n doubles, failing with desc. */
void write_f64(clcnn_tensor *t, const double *x, size_t n, const char *desc);
void read_f64(const clcnn_tensor *t, double *x, size_t n, const char *desc);

/* sum(g * z), left to right. */
double dot(const double *g, const double *z, size_t n);

/* The bound of the header comment: K roundings, S the sum of |terms| of one
 * evaluation of L, A the sum of |terms| of one backward entry. */
double fd_tolerance(double k, double s, double eps, double a);

typedef double (*loss_fn)(void *problem);

typedef struct {
    int cases;
    size_t entries;
    double worst;            /* max over entries of |fd - analytic| / tolerance */
    double tol_min, tol_max; /* the range of the tolerances used */
} gc_stats;

gc_stats gc_stats_init(void);
void gc_stats_print(const char *what, const gc_stats *st);

/* Compares grad[i] with the central difference of loss() over x[i], for
 * every element of x (shape dims). On the first mismatch writes a message
 * to failure and returns 1; the caller fails after freeing everything. */
int fd_check(loss_fn loss, void *problem, double *x, const int dims[4], const double *grad, double eps,
             double tol, const char *desc, const char *what, gc_stats *st, char *failure, size_t failure_len);

/* test_gradcheck_conv.c */
void conv_backward_special_shapes_stride_gt_f_pad_gt_f_1x1_one_channel(void **state);
void conv_backward_matches_finite_differences_on_random_shapes(void **state);
void conv_backward_outputs_do_not_depend_on_which_others_are_requested(void **state);

/* test_gradcheck_pool.c */
void pool_avg_backward_special_shapes_stride_gt_f_f1_nonsquare_one_channel(void **state);
void pool_avg_backward_matches_finite_differences_on_random_shapes(void **state);
void pool_max_backward_special_shapes_distinct_inputs_stride_gt_f_f1_nonsquare_one_channel(void **state);
void pool_max_backward_matches_finite_differences_on_random_shapes_distinct_inputs(void **state);

#endif
