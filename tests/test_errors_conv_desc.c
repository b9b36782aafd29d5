/* test_errors_conv_desc.c - the bad arguments of clcnn_conv2d_output_shape_desc,
 * clcnn_conv2d_forward_desc and clcnn_conv2d_backward_desc: each row the
 * standard arguments below with one change. */
#define ERRORS_FILE_RANK 20
#include "errors_fixture.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

/* The standard, valid arguments: a_prev (2, 6, 5, 4), w (3, 2, 2, 6) in 2
 * groups, pads top 1 bottom 0 left 2 right 1, strides 2, 1, dilation 2, 1:
 *   n_H = (6 + 1 + 0 - 2*2 - 1) / 2 + 1 = 2, n_W = (5 + 2 + 1 - 1 - 1) / 1 + 1 = 7,
 * so z and dz (2, 2, 7, 6), b and db (1, 1, 1, 6). */
static const clcnn_conv_desc STD_D = {1, 0, 2, 1, 2, 1, 2, 1, 2, CLCNN_CONV_AUTO};

enum { ON_FORWARD, ON_BACKWARD, ON_SHAPE };
static const char *const FN[] = {"clcnn_conv2d_forward_desc", "clcnn_conv2d_backward_desc",
                                 "clcnn_conv2d_output_shape_desc"};

/* The tensors of each call, in the prototype's order, and their standard
 * shapes. */
static const char *const NAMES[2][6] = {{"a_prev", "w", "b", "z"},
                                        {"dz", "a_prev", "w", "da_prev", "dw", "db"}};
static const int N_TENSORS[2] = {4, 6};
static const int DIMS[2][6][4] = {
    {{2, 6, 5, 4}, {3, 2, 2, 6}, {1, 1, 1, 6}, {2, 2, 7, 6}},
    {{2, 2, 7, 6}, {2, 6, 5, 4}, {3, 2, 2, 6}, {2, 6, 5, 4}, {3, 2, 2, 6}, {1, 1, 1, 6}}};

typedef struct {
    size_t off; /* offsetof(clcnn_conv_desc, field) + 1; 0: none */
    int v;
} desc_set;

/* One case: the call, the changes, and the status and needles (besides the
 * function's name) of the failure. */
typedef struct {
    const char *name;
    int on;
    clcnn_status want;
    const char *needles[3];
    desc_set set[2];      /* fields of the descriptor changed */
    int null_d, null_ctx; /* d or ctx NULL */
    const char *arg;      /* a tensor replaced by one of shape dims (or NULL) */
    int dims[4];
    const char *nul;      /* a tensor given NULL */
    const char *alias[2]; /* tensor alias[0] given alias[1]'s tensor */
    const char *as_f64;   /* a tensor made F64 (the others are F32) */
    const char *other;    /* a tensor made in the other context */
} cd_row;

#define SET(field, value)                                                                                    \
    {                                                                                                        \
        offsetof(clcnn_conv_desc, field) + 1, value                                                          \
    }
#define SET1(field, value) .set = {SET(field, value)}
#define SET2(f1, v1, f2, v2) .set = {SET(f1, v1), SET(f2, v2)}
#define RESHAPE(a, n, h, w, c) .arg = (a), .dims = {n, h, w, c}

static int index_of(int on, const char *name)
{
    for (int i = 0; i < N_TENSORS[on]; i++)
        if (strcmp(NAMES[on][i], name) == 0)
            return i;
    fail_msg("no tensor argument %s", name);
    return -1;
}

static void cd_row_run(void **state)
{
    FX;
    const cd_row *r = f->row;
    clcnn_conv_desc d = STD_D;
    for (int i = 0; i < 2; i++)
        if (r->set[i].off)
            memcpy((char *)&d + r->set[i].off - 1, &r->set[i].v, sizeof(int));
    const clcnn_conv_desc *dp = r->null_d ? NULL : &d;
    const char *needles[2 + sizeof r->needles / sizeof r->needles[0]] = {FN[r->on]};
    for (size_t k = 0; k < sizeof r->needles / sizeof r->needles[0] && r->needles[k]; k++)
        needles[k + 1] = r->needles[k];

    if (r->on == ON_SHAPE) {
        int a[4], w[4], out[4] = {-7, -7, -7, -7};
        memcpy(a, DIMS[0][0], sizeof a);
        memcpy(w, DIMS[0][1], sizeof w);
        if (r->arg)
            memcpy(strcmp(r->arg, "a_prev") == 0 ? a : w, r->dims, sizeof a);
        const int *ap = r->nul && strcmp(r->nul, "a_prev") == 0 ? NULL : a;
        const int *wp = r->nul && strcmp(r->nul, "w") == 0 ? NULL : w;
        expect_fail_(f, clcnn_conv2d_output_shape_desc(ap, wp, dp, out), r->want, NULL, needles);
        for (int i = 0; i < 4; i++)
            assert_int_equal(out[i], -7);
        return;
    }
    clcnn_tensor *t[6];
    for (int i = 0; i < N_TENSORS[r->on]; i++) {
        const int *dm = r->arg && strcmp(r->arg, NAMES[r->on][i]) == 0 ? r->dims : DIMS[r->on][i];
        const int f64 = r->as_f64 && strcmp(r->as_f64, NAMES[r->on][i]) == 0;
        const int other = r->other && strcmp(r->other, NAMES[r->on][i]) == 0;
        t[i] = mk(f, other ? f->other : f->ctx, f64 ? F64 : F32, dm[0], dm[1], dm[2], dm[3], NAMES[r->on][i]);
    }
    if (r->nul)
        t[index_of(r->on, r->nul)] = NULL;
    if (r->alias[0])
        t[index_of(r->on, r->alias[0])] = t[index_of(r->on, r->alias[1])];
    clcnn_context *ctx = r->null_ctx ? NULL : f->ctx;
    const clcnn_status s = r->on == ON_FORWARD
                               ? clcnn_conv2d_forward_desc(ctx, t[0], t[1], t[2], dp, t[3])
                               : clcnn_conv2d_backward_desc(ctx, t[0], t[1], t[2], dp, t[3], t[4], t[5]);
    expect_fail_(f, s, r->want, r->null_ctx ? NULL : f->ctx, needles);
}

/* The standard arguments really are valid, so each row fails for its change. */
CASE(baseline_conv_desc_succeeds)
{
    FX;
    int out[4];
    assert_int_equal(clcnn_conv2d_output_shape_desc(DIMS[0][0], DIMS[0][1], &STD_D, out), CLCNN_OK);
    assert_memory_equal(out, DIMS[0][3], sizeof out);
    clcnn_tensor *t[6];
    for (int i = 0; i < 4; i++)
        t[i] = mk(f, f->ctx, F32, DIMS[0][i][0], DIMS[0][i][1], DIMS[0][i][2], DIMS[0][i][3], NAMES[0][i]);
    clcnn_status s = clcnn_conv2d_forward_desc(f->ctx, t[0], t[1], t[2], &STD_D, t[3]);
    /* An OpenCL context refuses this form (test_conv_desc checks how). */
    assert_int_equal(s,
                     clcnn_context_backend(f->ctx) == CLCNN_BACKEND_HOST ? CLCNN_OK : CLCNN_ERR_UNSUPPORTED);
    for (int i = 0; i < 6; i++)
        t[i] = mk(f, f->ctx, F32, DIMS[1][i][0], DIMS[1][i][1], DIMS[1][i][2], DIMS[1][i][3], NAMES[1][i]);
    s = clcnn_conv2d_backward_desc(f->ctx, t[0], t[1], t[2], &STD_D, t[3], t[4], t[5]);
    assert_int_equal(s,
                     clcnn_context_backend(f->ctx) == CLCNN_BACKEND_HOST ? CLCNN_OK : CLCNN_ERR_UNSUPPORTED);
}

#define INVALID CLCNN_ERR_INVALID_ARGUMENT
#define SHAPE CLCNN_ERR_SHAPE

/* The descriptor's values and its channel and window checks, through each
 * entry point (validation shares them). */
#define DESC_ROWS(prefix, on)                                                                                \
    {prefix "_rejects_null_d", on, INVALID, {": d is NULL"}, .null_d = 1},                                   \
        {prefix "_rejects_pad_top_negative", on, INVALID, {"d->pad_top is -1", ">= 0"}, SET1(pad_top, -1)},  \
        {prefix "_rejects_pad_bottom_negative",                                                              \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"d->pad_bottom is -2", ">= 0"},                                                                    \
         SET1(pad_bottom, -2)},                                                                              \
        {prefix "_rejects_pad_left_int_min",                                                                 \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"d->pad_left is -2147483648", ">= 0"},                                                             \
         SET1(pad_left, INT_MIN)},                                                                           \
        {prefix "_rejects_pad_right_negative",                                                               \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"d->pad_right is -1", ">= 0"},                                                                     \
         SET1(pad_right, -1)},                                                                               \
        {prefix "_rejects_stride_h_0", on, INVALID, {"d->stride_h is 0", ">= 1"}, SET1(stride_h, 0)},        \
        {prefix "_rejects_stride_w_negative",                                                                \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"d->stride_w is -3", ">= 1"},                                                                      \
         SET1(stride_w, -3)},                                                                                \
        {prefix "_rejects_dilation_h_0", on, INVALID, {"d->dilation_h is 0", ">= 1"}, SET1(dilation_h, 0)},  \
        {prefix "_rejects_dilation_w_negative",                                                              \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"d->dilation_w is -1", ">= 1"},                                                                    \
         SET1(dilation_w, -1)},                                                                              \
        {prefix "_rejects_groups_0", on, INVALID, {"d->groups is 0", ">= 1"}, SET1(groups, 0)},              \
        {prefix "_rejects_groups_negative", on, INVALID, {"d->groups is -2", ">= 1"}, SET1(groups, -2)},     \
        {prefix "_rejects_unknown_algo", on, INVALID, {"d->algo is 7", "clcnn_conv_algo"}, SET1(algo, 7)},   \
        {prefix "_rejects_groups_not_dividing_n_C_prev",                                                     \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"d->groups is 3", "n_C_prev 4 is not a multiple of it"},                                           \
         SET1(groups, 3)},                                                                                   \
        {prefix "_rejects_groups_not_dividing_n_C",                                                          \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"d->groups is 4", "n_C 6", "not a multiple of it"},                                                \
         SET1(groups, 4)},                                                                                   \
        {prefix "_rejects_w_channels_not_n_C_prev_per_group",                                                \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"w has 4 input channels per group", "a_prev has 4 channels in 2 groups (2 expected)"},             \
         RESHAPE("w", 3, 2, 4, 6)},                                                                          \
        {prefix "_rejects_w_channels_not_n_C_prev_ungrouped",                                                \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"w has 2 input channels but a_prev has 4"},                                                        \
         SET1(groups, 1)},                                                                                   \
        {prefix "_rejects_dilated_window_taller_than_padded_input",                                          \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"fh = 3 with d->dilation_h 4 spans 9", "padded input H 7", "pad_top 1 + d->pad_bottom 0"},         \
         SET1(dilation_h, 4)},                                                                               \
        {prefix "_rejects_dilated_window_wider_than_padded_input",                                           \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"fw = 2 with d->dilation_w 8 spans 9", "padded input W 8"},                                        \
         SET1(dilation_w, 8)},                                                                               \
        {prefix "_rejects_filter_taller_than_padded_input",                                                  \
         on,                                                                                                 \
         SHAPE,                                                                                              \
         {"fh = 8 with d->dilation_h 1 spans 8", "padded input H 7"},                                        \
         SET1(dilation_h, 1),                                                                                \
         RESHAPE("w", 8, 2, 2, 6)},                                                                          \
        {prefix "_rejects_padded_height_overflowing_int",                                                    \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"padded input H 2147483654", "d->pad_bottom 2147483647", "overflows int"},                         \
         SET1(pad_bottom, INT_MAX)},                                                                         \
        {prefix "_rejects_padded_width_overflowing_int",                                                     \
         on,                                                                                                 \
         INVALID,                                                                                            \
         {"padded input W", "d->pad_left 2147483647", "overflows int"},                                      \
         SET1(pad_left, INT_MAX)},                                                                           \
    {                                                                                                        \
        prefix "_rejects_padded_bytes_overflowing_size_t", on, INVALID,                                      \
            {"size_t", "(2, 2147483647, 2147483647, 4)"},                                                    \
            SET2(pad_bottom, INT_MAX - 7, pad_right, INT_MAX - 7)                                            \
    }

static const cd_row shape_rows[] = {
    {"conv_shape_desc_rejects_null_a_prev_dims", ON_SHAPE, INVALID, {"a_prev_dims is NULL"}, .nul = "a_prev"},
    {"conv_shape_desc_rejects_null_w_dims", ON_SHAPE, INVALID, {"w_dims is NULL"}, .nul = "w"},
    DESC_ROWS("conv_shape_desc", ON_SHAPE),
    {"conv_shape_desc_rejects_a_dimension_0",
     ON_SHAPE,
     INVALID,
     {"a_prev_dims[2] is 0", ">= 1"},
     RESHAPE("a_prev", 2, 6, 0, 4)},
    {"conv_shape_desc_rejects_a_w_dimension_negative",
     ON_SHAPE,
     INVALID,
     {"w_dims[0] is -1", ">= 1"},
     RESHAPE("w", -1, 2, 2, 6)},
};

static const cd_row forward_rows[] = {
    DESC_ROWS("conv_forward_desc", ON_FORWARD),
    {"conv_forward_desc_rejects_null_ctx", ON_FORWARD, INVALID, {"ctx is NULL"}, .null_ctx = 1},
    {"conv_forward_desc_rejects_null_a_prev", ON_FORWARD, INVALID, {": a_prev is NULL"}, .nul = "a_prev"},
    {"conv_forward_desc_rejects_null_z", ON_FORWARD, INVALID, {": z is NULL"}, .nul = "z"},
    {"conv_forward_desc_rejects_w_dtype_not_matching_a_prev",
     ON_FORWARD,
     INVALID,
     {": w is F64", "a_prev is F32"},
     .as_f64 = "w"},
    {"conv_forward_desc_rejects_b_of_another_context",
     ON_FORWARD,
     INVALID,
     {": b belongs to another context"},
     .other = "b"},
    {"conv_forward_desc_rejects_z_same_as_w",
     ON_FORWARD,
     INVALID,
     {"z is the same tensor as w"},
     .alias = {"z", "w"}},
    {"conv_forward_desc_rejects_z_of_wrong_shape",
     ON_FORWARD,
     SHAPE,
     {"z has shape (2, 3, 7, 6)", "must be (2, 2, 7, 6)"},
     RESHAPE("z", 2, 3, 7, 6)},
    {"conv_forward_desc_rejects_b_of_wrong_length",
     ON_FORWARD,
     SHAPE,
     {"b has shape (1, 1, 1, 3)", "(1, 1, 1, 6)"},
     RESHAPE("b", 1, 1, 1, 3)},
};

static const cd_row backward_rows[] = {
    DESC_ROWS("conv_backward_desc", ON_BACKWARD),
    {"conv_backward_desc_rejects_null_ctx", ON_BACKWARD, INVALID, {"ctx is NULL"}, .null_ctx = 1},
    {"conv_backward_desc_rejects_null_dz", ON_BACKWARD, INVALID, {": dz is NULL"}, .nul = "dz"},
    {"conv_backward_desc_rejects_db_dtype_not_matching_dz",
     ON_BACKWARD,
     INVALID,
     {": db is F64", "dz is F32"},
     .as_f64 = "db"},
    {"conv_backward_desc_rejects_da_prev_of_another_context",
     ON_BACKWARD,
     INVALID,
     {": da_prev belongs to another context"},
     .other = "da_prev"},
    {"conv_backward_desc_rejects_dw_same_as_da_prev",
     ON_BACKWARD,
     INVALID,
     {"da_prev is the same tensor as dw"},
     .alias = {"dw", "da_prev"}},
    {"conv_backward_desc_rejects_dz_of_wrong_shape",
     ON_BACKWARD,
     SHAPE,
     {"dz has shape (2, 2, 6, 6)", "must be (2, 2, 7, 6)"},
     RESHAPE("dz", 2, 2, 6, 6)},
    {"conv_backward_desc_rejects_da_prev_of_wrong_shape",
     ON_BACKWARD,
     SHAPE,
     {"da_prev has shape (2, 6, 5, 2)", "(2, 6, 5, 4)"},
     RESHAPE("da_prev", 2, 6, 5, 2)},
    {"conv_backward_desc_rejects_dw_of_wrong_shape",
     ON_BACKWARD,
     SHAPE,
     {"dw has shape (3, 2, 4, 6)", "(3, 2, 2, 6)"},
     RESHAPE("dw", 3, 2, 4, 6)},
    {"conv_backward_desc_rejects_db_of_wrong_shape",
     ON_BACKWARD,
     SHAPE,
     {"db has shape (1, 1, 1, 2)", "(1, 1, 1, 6)"},
     RESHAPE("db", 1, 1, 1, 2)},
};

CASE_TABLE(cd_row_run, shape_rows);
CASE_TABLE(cd_row_run, forward_rows);
CASE_TABLE(cd_row_run, backward_rows);
