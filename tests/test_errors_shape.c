/* test_errors_shape.c - the bad arguments of clcnn_conv2d_output_shape and
 * clcnn_pool2d_output_shape. */
#define ERRORS_FILE_RANK 3
#include "errors_fixture.h"

#include <limits.h>
#include <string.h>

static const int OUT_UNTOUCHED[4] = {-7, -7, -7, -7};

/* The standard arguments: a_prev (2, 5, 4, 3), w (3, 2, 3, 2), pad 1,
 * stride 1; pooling f 2, stride 2. */
static const int A_DIMS[4] = {2, 5, 4, 3}, W_DIMS[4] = {3, 2, 3, 2};
#define CP                                                                                                   \
    {                                                                                                        \
        1, 1, CLCNN_CONV_AUTO                                                                                \
    }
#define PP                                                                                                   \
    {                                                                                                        \
        2, 2, CLCNN_POOL_MAX                                                                                 \
    }

/* The function called with a, w (conv only), p and an out_dims array
 * (NULL without with_out) fails with want, naming the function and both
 * needles in clcnn_last_error(NULL), and leaves the array alone. */
typedef struct {
    const char *name;
    const int *a, *w;
    clcnn_conv_params p;
    int with_out;
    clcnn_status want;
    const char *needle1, *needle2;
} conv_shape_row;

typedef struct {
    const char *name;
    const int *a;
    clcnn_pool_params p;
    int with_out;
    clcnn_status want;
    const char *needle1, *needle2;
} pool_shape_row;

#define DIMS(n, h, w, c) ((const int[4]){n, h, w, c})

static const conv_shape_row conv_shape_rows[] = {
    {"conv_output_shape_rejects_null_a_prev_dims", NULL, W_DIMS, CP, 1, INVALID, "a_prev_dims is NULL",
     "NULL"},
    {"conv_output_shape_rejects_null_w_dims", A_DIMS, NULL, CP, 1, INVALID, "w_dims is NULL", "NULL"},
    {"conv_output_shape_rejects_null_out_dims", A_DIMS, W_DIMS, CP, 0, INVALID, "out_dims is NULL", "NULL"},
    {"conv_output_shape_rejects_a_prev_dim_0", DIMS(2, 0, 4, 3), W_DIMS, CP, 1, INVALID, "a_prev",
     "[1] is 0"},
    {"conv_output_shape_rejects_w_dim_negative", A_DIMS, DIMS(3, 2, 3, -1), CP, 1, INVALID, "w", "[3] is -1"},
    {"conv_output_shape_rejects_stride_0",
     A_DIMS,
     W_DIMS,
     {0, 1, CLCNN_CONV_AUTO},
     1,
     INVALID,
     "p.stride is 0",
     ">= 1"},
    {"conv_output_shape_rejects_pad_negative",
     A_DIMS,
     W_DIMS,
     {1, -1, CLCNN_CONV_AUTO},
     1,
     INVALID,
     "p.pad is -1",
     ">= 0"},
    {"conv_output_shape_rejects_unknown_algo",
     A_DIMS,
     W_DIMS,
     {1, 1, (clcnn_conv_algo)3},
     1,
     INVALID,
     "p.algo is 3",
     "clcnn_conv_algo"},
    {"conv_output_shape_rejects_w_channels_not_matching_a_prev", A_DIMS, DIMS(3, 2, 4, 2), CP, 1, SHAPE,
     "w has 4 input channels", "a_prev has 3"},
    {"conv_output_shape_rejects_filter_taller_than_padded_input", A_DIMS, DIMS(8, 2, 3, 2), CP, 1, SHAPE,
     "fh = 8", "padded input H 7"},
    {"conv_output_shape_rejects_filter_wider_than_padded_input", A_DIMS, DIMS(3, 7, 3, 2), CP, 1, SHAPE,
     "fw = 7", "padded input W 6"},
    {"conv_output_shape_rejects_padded_size_overflowing_int",
     A_DIMS,
     W_DIMS,
     {1, INT_MAX / 2 + 1, CLCNN_CONV_AUTO},
     1,
     INVALID,
     "2*pad 2147483648, pad 1073741824",
     "overflows int"},
    /* The padded input's 2^62 elements as doubles (the reference path's
     * copy) overflow size_t; the message must say which argument is too
     * large. */
    {"conv_output_shape_rejects_padded_bytes_overflowing_size_t",
     DIMS(65536, 65536, 65536, 16384),
     DIMS(1, 1, 16384, 1),
     {1, 0, CLCNN_CONV_AUTO},
     1,
     INVALID,
     "size_t",
     "a_prev"},
};

static const pool_shape_row pool_shape_rows[] = {
    {"pool_output_shape_rejects_null_a_prev_dims", NULL, PP, 1, INVALID, "a_prev_dims is NULL", "NULL"},
    {"pool_output_shape_rejects_null_out_dims", A_DIMS, PP, 0, INVALID, "out_dims is NULL", "NULL"},
    {"pool_output_shape_rejects_a_prev_dim_0", DIMS(2, 5, 0, 3), PP, 1, INVALID, "a_prev", "[2] is 0"},
    {"pool_output_shape_rejects_f_0", A_DIMS, {0, 2, CLCNN_POOL_MAX}, 1, INVALID, "p.f is 0", ">= 1"},
    {"pool_output_shape_rejects_stride_negative",
     A_DIMS,
     {2, -2, CLCNN_POOL_MAX},
     1,
     INVALID,
     "p.stride is -2",
     ">= 1"},
    {"pool_output_shape_rejects_unknown_mode",
     A_DIMS,
     {2, 2, (clcnn_pool_mode)9},
     1,
     INVALID,
     "p.mode is 9",
     "clcnn_pool_mode"},
    {"pool_output_shape_rejects_window_taller_than_input",
     A_DIMS,
     {6, 1, CLCNN_POOL_MAX},
     1,
     SHAPE,
     "f = 6",
     "input H 5"},
    {"pool_output_shape_rejects_window_wider_than_input",
     A_DIMS,
     {5, 1, CLCNN_POOL_AVG},
     1,
     SHAPE,
     "f = 5",
     "input W 4"},
};

static void conv_shape_run(void **state)
{
    FX;
    const conv_shape_row *r = f->row;
    int out[4];
    memcpy(out, OUT_UNTOUCHED, sizeof out);
    clcnn_status s = clcnn_conv2d_output_shape(r->a, r->w, r->p, r->with_out ? out : NULL);
    EXPECT_FAIL(f, s, r->want, NULL, "clcnn_conv2d_output_shape", r->needle1, r->needle2);
    assert_memory_equal(out, OUT_UNTOUCHED, sizeof out);
}
CASE_TABLE(conv_shape_run, conv_shape_rows);

static void pool_shape_run(void **state)
{
    FX;
    const pool_shape_row *r = f->row;
    int out[4];
    memcpy(out, OUT_UNTOUCHED, sizeof out);
    clcnn_status s = clcnn_pool2d_output_shape(r->a, r->p, r->with_out ? out : NULL);
    EXPECT_FAIL(f, s, r->want, NULL, "clcnn_pool2d_output_shape", r->needle1, r->needle2);
    assert_memory_equal(out, OUT_UNTOUCHED, sizeof out);
}
CASE_TABLE(pool_shape_run, pool_shape_rows);
