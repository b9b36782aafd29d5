/* pool_desc.h - what the files of test_pool_desc share: the case type
 * and the windows of the formulation in test_pool_desc.c, the check of one
 * case against it, a desc built field by field, and the tests the other
 * files define, which main (test_pool_desc.c) registers. */
#ifndef CLCNN_POOL_DESC_H
#define CLCNN_POOL_DESC_H

#include "helpers.h"

#include <stddef.h>

/* An input shape and a desc. */
typedef struct {
    int n, h, w, c;
    clcnn_pool_desc d;
} pcase;

#define MAX_TAPS 64

/* One output's window: the input positions of its taps that fall inside
 * the input, in row-major tap order, and its taps inside the padded input
 * (the count_include_pad divisor). */
typedef struct {
    int count;
    int y[MAX_TAPS], x[MAX_TAPS];
    int in_padded;
} window;

/* The output shape of pc by the formulation (an axis 0 when no window fits). */
void out_dims_of(const pcase *pc, int out[4]);

/* The window of output (oy, ox) of pc. */
void window_of(const pcase *pc, int oy, int ox, window *win);

/* Whether the library must accept pc. */
int valid_case(const pcase *pc);

/* The offset of (i, y, x, k) in an NHWC tensor of dims d. */
size_t at4(const int d[4], int i, int y, int x, int k);

/* pc in words, for failure messages. */
void describe(const pcase *pc, char *buf, size_t len);

/* pc forward and backward on ctx in dt from x and da against the
 * formulation, the output shape included. */
void check_case(th_fixture *fx, clcnn_context *ctx, const pcase *pc, clcnn_dtype dt, const double *x,
                const double *da);

/* A desc from the notebook's defaults with the window, strides and pads set. */
clcnn_pool_desc desc_of(int fh, int fw, int sh, int sw, int pt, int pb, int pl, int pr, clcnn_pool_mode mode);

/* test_pool_desc_formulation.c */
void random_descs_case(void **state);
void resnet_max_pool_case(void **state);
void global_pool_case(void **state);

/* test_pool_desc_cases.c */
void gradcheck_case(void **state);
void tied_windows_case(void **state);
void padding_never_wins_case(void **state);
void notebook_form_case(void **state);
#ifdef CLCNN_TEST_OPENCL
void beyond_notebook_case(void **state);
#endif

#endif
