/* conv_desc.h - what the files of test_conv_desc share: a case of the
 * clcnn_conv_desc entry points and its sizes, those entry points on double
 * arrays, the random cases and data, and the tests the other files define,
 * which main (test_conv_desc.c) registers.
 *
 *   test_conv_desc.c             the shared helpers and main
 *   test_conv_desc_formulation.c the independent formulation and the
 *                                comparisons with it
 *   test_conv_desc_grad.c        finite differences, the notebook's form's
 *                                bytes, backward outputs asked for
 *                                separately, and OpenCL's refusals */
#ifndef CLCNN_TEST_CONV_DESC_H
#define CLCNN_TEST_CONV_DESC_H

#include "helpers.h"

#include <stddef.h>

/* One convolution: a_prev [m][h][w][c], w [fh][fw][c / groups][nc], the
 * descriptor, and the output size it gives. */
typedef struct {
    int m, h, w, c;
    int fh, fw, nc;
    clcnn_conv_desc d;
    int zh, zw;
} cd_case;

/* Input and output channels per group, and the element counts of a_prev,
 * w and z. */
int cpg(const cd_case *k);
int opg(const cd_case *k);
size_t a_count(const cd_case *k);
size_t w_count(const cd_case *k);
size_t z_count(const cd_case *k);

/* The case as text, for failure messages. */
const char *describe(const cd_case *k);

/* n zeros (at least one), failing the test when out of memory. */
double *zeros(size_t n);

/* The entry points under test on ctx. z, da, dw, db: new arrays. */
double *forward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k, const double *a,
                     const double *w, const double *b);
void backward_desc(th_fixture *f, clcnn_context *ctx, clcnn_dtype dt, const cd_case *k, const double *dz,
                   const double *a, const double *w, double **da, double **dw, double **db);

enum { F_PADS = 1, F_STRIDES = 2, F_DILATION = 4, F_GROUPS = 8, F_ALL = 15 };

/* A random valid case in which the parameters of feat vary (the others keep
 * the notebook's form: equal pads and strides, dilation 1, groups 1). */
cd_case random_case(np_random *r, unsigned feat);

/* n values: small integers in [-3, 3], or normal values rounded to dt. */
double *random_data(np_random *r, size_t n, int integers, clcnn_dtype dt);

/* |x[i]| for each of the n values: a new array. */
double *magnitudes(const double *x, size_t n);

/* The parameter of desc_matches_independent_formulation. */
typedef struct {
    unsigned feat;
    clcnn_dtype dtype;
    int integers;
} feature_config;

/* test_conv_desc_formulation.c */
void desc_matches_independent_formulation(void **state);

/* test_conv_desc_grad.c */
void backward_desc_matches_finite_differences(void **state);
void notebook_form_gives_the_old_entry_points_bytes(void **state);
void backward_desc_outputs_do_not_depend_on_the_others_asked_for(void **state);
#ifdef CLCNN_TEST_OPENCL
void opencl_refuses_other_forms_and_keeps_outputs(void **state);
#endif

#endif
