/* test_errors_pool_desc.c - the bad arguments of the pooling entry points
 * that take a clcnn_pool_desc: clcnn_pool2d_output_shape_desc,
 * clcnn_pool2d_forward_desc and clcnn_pool2d_backward_desc. Tensor
 * arguments are rows of errors_fixture.h's op tables; each bad desc value
 * is a row run against all three functions. */
#define ERRORS_FILE_RANK 21
#include "errors_fixture.h"

#include <limits.h>
#include <string.h>

/* The standard arguments: a_prev (2, 7, 6, 3), a 3 x 2 max window, strides
 * 2 and 1, pads top 1, bottom 1, left 1, right 0, giving a (2, 4, 6, 3):
 * H (7 + 2 - 3) / 2 + 1 = 4, W (6 + 1 - 2) / 1 + 1 = 6. */
static const clcnn_pool_desc STD = {.fh = 3,
                                    .fw = 2,
                                    .stride_h = 2,
                                    .stride_w = 1,
                                    .pad_top = 1,
                                    .pad_bottom = 1,
                                    .pad_left = 1,
                                    .pad_right = 0,
                                    .dilation_h = 1,
                                    .dilation_w = 1,
                                    .ceil_mode = 0,
                                    .count_include_pad = 1,
                                    .mode = CLCNN_POOL_MAX,
                                    .max_rule = CLCNN_POOL_ALL_TIES};
static const int A_DIMS[4] = {2, 7, 6, 3}, OUT_DIMS[4] = {2, 4, 6, 3};

static clcnn_status call_forward_desc(const op_args *a)
{
    return clcnn_pool2d_forward_desc(a->ctx, a->t[0], &STD, a->t[1]);
}

static clcnn_status call_backward_desc(const op_args *a)
{
    return clcnn_pool2d_backward_desc(a->ctx, a->t[0], a->t[1], &STD, a->t[2]);
}

static const op_desc OP_POOL_FORWARD_DESC = {
    "clcnn_pool2d_forward_desc", 2, {"a_prev", "a"}, {{2, 7, 6, 3}, {2, 4, 6, 3}}, .call = call_forward_desc};

static const op_desc OP_POOL_BACKWARD_DESC = {"clcnn_pool2d_backward_desc",
                                              3,
                                              {"da", "a_prev", "da_prev"},
                                              {{2, 4, 6, 3}, {2, 7, 6, 3}, {2, 7, 6, 3}},
                                              .call = call_backward_desc};

/* ------------------------------------------------------------------------ */
/* The standard arguments are valid                                         */
/* ------------------------------------------------------------------------ */

/* On an OpenCL context (errors_opencl) the standard desc, beyond the
 * notebook's form, is refused after validation; the notebook's form runs. */
CASE(baseline_pool_desc_calls_succeed)
{
    FX;
    const int host = clcnn_context_backend(f->ctx) == CLCNN_BACKEND_HOST;
    int o[4];
    assert_int_equal(clcnn_pool2d_output_shape_desc(A_DIMS, &STD, o), CLCNN_OK);
    assert_memory_equal(o, OUT_DIMS, sizeof o);
    op_args a = op_standard(f, &OP_POOL_FORWARD_DESC);
    assert_int_equal(OP_POOL_FORWARD_DESC.call(&a), host ? CLCNN_OK : CLCNN_ERR_UNSUPPORTED);
    op_args b = op_standard(f, &OP_POOL_BACKWARD_DESC);
    assert_int_equal(OP_POOL_BACKWARD_DESC.call(&b), host ? CLCNN_OK : CLCNN_ERR_UNSUPPORTED);
    const clcnn_pool_desc nb = clcnn_pool_desc_from_params((clcnn_pool_params){2, 2, CLCNN_POOL_MAX});
    clcnn_tensor *x = mk(f, f->ctx, F32, 2, 6, 4, 3, "x"), *y = mk(f, f->ctx, F32, 2, 3, 2, 3, "y");
    clcnn_tensor *dx = mk(f, f->ctx, F32, 2, 6, 4, 3, "dx");
    assert_int_equal(clcnn_pool2d_forward_desc(f->ctx, x, &nb, y), CLCNN_OK);
    assert_int_equal(clcnn_pool2d_backward_desc(f->ctx, y, x, &nb, dx), CLCNN_OK);
}

/* ------------------------------------------------------------------------ */
/* Tensor arguments                                                         */
/* ------------------------------------------------------------------------ */

static const op_row forward_desc_rows[] = {
    {"pool_forward_desc_rejects_null_ctx", INVALID, {"ctx is NULL"}, NO_CTX},
    {"pool_forward_desc_rejects_null_a_prev", INVALID, {": a_prev is NULL"}, NULLS("a_prev")},
    {"pool_forward_desc_rejects_null_a", INVALID, {": a is NULL"}, NULLS("a")},
    {"pool_forward_desc_rejects_a_prev_of_another_context",
     INVALID,
     {": a_prev belongs to another context"},
     OTHER_CTX("a_prev")},
    {"pool_forward_desc_rejects_a_of_another_context",
     INVALID,
     {": a belongs to another context"},
     OTHER_CTX("a")},
    {"pool_forward_desc_rejects_a_dtype_not_matching_a_prev",
     INVALID,
     {": a is F64", "a_prev is F32"},
     AS_F64("a")},
    /* the aliasing is found before the shapes */
    {"pool_forward_desc_rejects_a_same_as_a_prev",
     INVALID,
     {"a is the same tensor as a_prev"},
     SAME_AS("a", "a_prev")},
    {"pool_forward_desc_rejects_a_of_wrong_shape",
     SHAPE,
     {": a has shape (2, 3, 6, 3)", "(2, 4, 6, 3)"},
     RESHAPED("a", 2, 3, 6, 3, "a (H 3)")},
    {"pool_forward_desc_rejects_a_of_wrong_channels",
     SHAPE,
     {": a has shape (2, 4, 6, 1)", "(2, 4, 6, 3)"},
     RESHAPED("a", 2, 4, 6, 1, "a (1 channel)")},
};
OP_TABLE(OP_POOL_FORWARD_DESC, forward_desc_rows);

static const op_row backward_desc_rows[] = {
    {"pool_backward_desc_rejects_null_ctx", INVALID, {"ctx is NULL"}, NO_CTX},
    {"pool_backward_desc_rejects_null_da", INVALID, {": da is NULL"}, NULLS("da")},
    {"pool_backward_desc_rejects_null_a_prev", INVALID, {": a_prev is NULL"}, NULLS("a_prev")},
    {"pool_backward_desc_rejects_null_da_prev", INVALID, {": da_prev is NULL"}, NULLS("da_prev")},
    {"pool_backward_desc_rejects_da_prev_of_another_context",
     INVALID,
     {": da_prev belongs to another context"},
     OTHER_CTX("da_prev")},
    {"pool_backward_desc_rejects_a_prev_dtype_not_matching_da",
     INVALID,
     {": a_prev is F64", "da is F32"},
     AS_F64("a_prev")},
    {"pool_backward_desc_rejects_da_prev_same_as_a_prev",
     INVALID,
     {"da_prev is the same tensor as a_prev"},
     SAME_AS("da_prev", "a_prev")},
    {"pool_backward_desc_rejects_da_prev_same_as_da",
     INVALID,
     {"da_prev is the same tensor as da"},
     SAME_AS("da_prev", "da")},
    {"pool_backward_desc_rejects_da_of_wrong_shape",
     SHAPE,
     {": da has shape (2, 4, 5, 3)", "(2, 4, 6, 3)"},
     RESHAPED("da", 2, 4, 5, 3, "da (W 5)")},
    {"pool_backward_desc_rejects_da_prev_of_wrong_shape",
     SHAPE,
     {": da_prev has shape (2, 6, 7, 3)", "(2, 7, 6, 3)"},
     RESHAPED("da_prev", 2, 6, 7, 3, "da_prev (H and W swapped)")},
};
OP_TABLE(OP_POOL_BACKWARD_DESC, backward_desc_rows);

/* A NULL desc, in each function. */
CASE(pool_output_shape_desc_rejects_null_d)
{
    FX;
    int o[4] = {-7, -7, -7, -7};
    EXPECT_FAIL(f, clcnn_pool2d_output_shape_desc(A_DIMS, NULL, o), INVALID, NULL,
                "clcnn_pool2d_output_shape_desc: d is NULL");
    assert_int_equal(o[0], -7);
}

CASE(pool_forward_desc_rejects_null_d)
{
    FX;
    op_args a = op_standard(f, &OP_POOL_FORWARD_DESC);
    EXPECT_FAIL(f, clcnn_pool2d_forward_desc(a.ctx, a.t[0], NULL, a.t[1]), INVALID, f->ctx,
                "clcnn_pool2d_forward_desc: d is NULL");
}

CASE(pool_backward_desc_rejects_null_d)
{
    FX;
    op_args a = op_standard(f, &OP_POOL_BACKWARD_DESC);
    EXPECT_FAIL(f, clcnn_pool2d_backward_desc(a.ctx, a.t[0], a.t[1], NULL, a.t[2]), INVALID, f->ctx,
                "clcnn_pool2d_backward_desc: d is NULL");
}

/* The dims arguments of the output-shape function. */
CASE(pool_output_shape_desc_rejects_null_a_prev_dims)
{
    FX;
    int o[4] = {-7, -7, -7, -7};
    EXPECT_FAIL(f, clcnn_pool2d_output_shape_desc(NULL, &STD, o), INVALID, NULL,
                "clcnn_pool2d_output_shape_desc: a_prev_dims is NULL");
    assert_int_equal(o[0], -7);
}

CASE(pool_output_shape_desc_rejects_null_out_dims)
{
    FX;
    EXPECT_FAIL(f, clcnn_pool2d_output_shape_desc(A_DIMS, &STD, NULL), INVALID, NULL,
                "clcnn_pool2d_output_shape_desc: out_dims is NULL");
}

CASE(pool_output_shape_desc_rejects_a_prev_dim_0)
{
    FX;
    int o[4] = {-7, -7, -7, -7};
    EXPECT_FAIL(f, clcnn_pool2d_output_shape_desc((const int[4]){2, 7, 0, 3}, &STD, o), INVALID, NULL,
                "clcnn_pool2d_output_shape_desc: a_prev_dims[2] is 0", ">= 1");
    assert_int_equal(o[0], -7);
}

/* n_H_prev + pads past INT_MAX. */
CASE(pool_output_shape_desc_rejects_padded_size_overflowing_int)
{
    FX;
    int o[4] = {-7, -7, -7, -7};
    EXPECT_FAIL(f, clcnn_pool2d_output_shape_desc((const int[4]){1, INT_MAX - 1, 6, 1}, &STD, o), INVALID,
                NULL, "clcnn_pool2d_output_shape_desc: the padded input H 2147483648", "overflows int");
    assert_int_equal(o[0], -7);
}

/* ------------------------------------------------------------------------ */
/* Bad desc values, each in all three functions                              */
/* ------------------------------------------------------------------------ */

typedef enum {
    P_NONE = 0,
    P_FH,
    P_FW,
    P_SH,
    P_SW,
    P_PT,
    P_PB,
    P_PL,
    P_PR,
    P_DH,
    P_DW,
    P_CEIL,
    P_CIP,
    P_MODE,
    P_RULE
} field;

/* The standard desc with up to three fields set; the status and needles
 * (besides the function's name) the call must give. */
typedef struct {
    const char *name;
    clcnn_status want;
    const char *needles[3];
    struct {
        field f;
        int v;
    } set[3];
} desc_row;

static clcnn_pool_desc row_desc(const desc_row *r)
{
    clcnn_pool_desc d = STD;
    for (int i = 0; i < 3; i++) {
        const int v = r->set[i].v;
        switch (r->set[i].f) {
        case P_NONE: break;
        case P_FH: d.fh = v; break;
        case P_FW: d.fw = v; break;
        case P_SH: d.stride_h = v; break;
        case P_SW: d.stride_w = v; break;
        case P_PT: d.pad_top = v; break;
        case P_PB: d.pad_bottom = v; break;
        case P_PL: d.pad_left = v; break;
        case P_PR: d.pad_right = v; break;
        case P_DH: d.dilation_h = v; break;
        case P_DW: d.dilation_w = v; break;
        case P_CEIL: d.ceil_mode = v; break;
        case P_CIP: d.count_include_pad = v; break;
        case P_MODE: d.mode = (clcnn_pool_mode)v; break;
        case P_RULE: d.max_rule = (clcnn_pool_max_rule)v; break;
        }
    }
    return d;
}

/* The rows, with the cases' names prefixed by P. */
#define DESC_ROWS(P)                                                                                         \
    {P "rejects_fh_0", INVALID, {"d->fh is 0", ">= 1"}, {{P_FH, 0}}},                                        \
        {P "rejects_fw_negative", INVALID, {"d->fw is -1", ">= 1"}, {{P_FW, -1}}},                           \
        {P "rejects_stride_h_0", INVALID, {"d->stride_h is 0", ">= 1"}, {{P_SH, 0}}},                        \
        {P "rejects_stride_w_negative", INVALID, {"d->stride_w is -2", ">= 1"}, {{P_SW, -2}}},               \
        {P "rejects_pad_top_negative", INVALID, {"d->pad_top is -1", ">= 0"}, {{P_PT, -1}}},                 \
        {P "rejects_pad_bottom_not_below_fh",                                                                \
         INVALID,                                                                                            \
         {"d->pad_bottom is 3", "below the window d->fh = 3"},                                               \
         {{P_PB, 3}}},                                                                                       \
        {P "rejects_pad_left_not_below_fw",                                                                  \
         INVALID,                                                                                            \
         {"d->pad_left is 2", "below the window d->fw = 2"},                                                 \
         {{P_PL, 2}}},                                                                                       \
        {P "rejects_pad_right_negative", INVALID, {"d->pad_right is -3", ">= 0"}, {{P_PR, -3}}},             \
        {P "rejects_dilation_h_0", INVALID, {"d->dilation_h is 0", ">= 1"}, {{P_DH, 0}}},                    \
        {P "rejects_dilation_w_negative", INVALID, {"d->dilation_w is -1", ">= 1"}, {{P_DW, -1}}},           \
        {P "rejects_ceil_mode_2", INVALID, {"d->ceil_mode is 2", "0 or 1"}, {{P_CEIL, 2}}},                  \
        {P "rejects_count_include_pad_negative",                                                             \
         INVALID,                                                                                            \
         {"d->count_include_pad is -1", "0 or 1"},                                                           \
         {{P_CIP, -1}}},                                                                                     \
        {P "rejects_unknown_mode", INVALID, {"d->mode is 2", "clcnn_pool_mode"}, {{P_MODE, 2}}},             \
        {P "rejects_unknown_max_rule", INVALID, {"d->max_rule is 7", "clcnn_pool_max_rule"}, {{P_RULE, 7}}}, \
        {P "rejects_dilation_h_with_average",                                                                \
         INVALID,                                                                                            \
         {"d->dilation_h is 2 with average pooling", "must be 1"},                                           \
         {{P_MODE, CLCNN_POOL_AVG}, {P_DH, 2}}},                                                             \
        {P "rejects_dilation_w_with_average",                                                                \
         INVALID,                                                                                            \
         {"d->dilation_w is 3 with average pooling", "must be 1"},                                           \
         {{P_MODE, CLCNN_POOL_AVG}, {P_DW, 3}}},                                                             \
        {P "rejects_window_taller_than_padded_input",                                                        \
         SHAPE,                                                                                              \
         {"the window d->fh = 10", "padded input H 9 (n_H_prev 7 + d->pad_top 1 + d->pad_bottom 1)"},        \
         {{P_FH, 10}}},                                                                                      \
        {P "rejects_window_wider_than_padded_input",                                                         \
         SHAPE,                                                                                              \
         {"the window d->fw = 8", "padded input W 7 (n_W_prev 6 + d->pad_left 1 + d->pad_right 0)"},         \
         {{P_FW, 8}}},                                                                                       \
        {P "rejects_dilated_window_taller_than_padded_input",                                                \
         SHAPE,                                                                                              \
         {"d->fh = 3 (extent 11 with d->dilation_h 5)", "padded input H 9"},                                 \
         {{P_DH, 5}}},                                                                                       \
        {P "rejects_dilated_window_with_no_tap_in_the_input",                                                \
         SHAPE,                                                                                              \
         {"output H 0 has no tap inside the input", "d->dilation_h = 8"},                                    \
         {{P_FH, 2}, {P_DH, 8}}},

static void desc_row_expect(fx *f, clcnn_status got, const char *fn, const clcnn_context *msg_ctx)
{
    const desc_row *r = f->row;
    const char *needles[5] = {fn, r->needles[0], r->needles[1], r->needles[2], NULL};
    expect_fail_(f, got, r->want, msg_ctx, needles);
}

static void shape_desc_run(void **state)
{
    FX;
    const clcnn_pool_desc d = row_desc(f->row);
    int o[4] = {-7, -7, -7, -7};
    desc_row_expect(f, clcnn_pool2d_output_shape_desc(A_DIMS, &d, o), "clcnn_pool2d_output_shape_desc", NULL);
    assert_int_equal(o[0], -7);
    assert_int_equal(o[3], -7);
}

static void forward_desc_run(void **state)
{
    FX;
    const clcnn_pool_desc d = row_desc(f->row);
    op_args a = op_standard(f, &OP_POOL_FORWARD_DESC);
    desc_row_expect(f, clcnn_pool2d_forward_desc(a.ctx, a.t[0], &d, a.t[1]), OP_POOL_FORWARD_DESC.fn, f->ctx);
}

static void backward_desc_run(void **state)
{
    FX;
    const clcnn_pool_desc d = row_desc(f->row);
    op_args a = op_standard(f, &OP_POOL_BACKWARD_DESC);
    desc_row_expect(f, clcnn_pool2d_backward_desc(a.ctx, a.t[0], a.t[1], &d, a.t[2]),
                    OP_POOL_BACKWARD_DESC.fn, f->ctx);
}

static const desc_row shape_desc_rows[] = {DESC_ROWS("pool_output_shape_desc_")};
CASE_TABLE(shape_desc_run, shape_desc_rows);
static const desc_row forward_desc_value_rows[] = {DESC_ROWS("pool_forward_desc_")};
CASE_TABLE(forward_desc_run, forward_desc_value_rows);
static const desc_row backward_desc_value_rows[] = {DESC_ROWS("pool_backward_desc_")};
CASE_TABLE(backward_desc_run, backward_desc_value_rows);
