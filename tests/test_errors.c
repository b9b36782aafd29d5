/* test_errors.c - every bad argument of every public entry point: the exact
 * status, a message in clcnn_last_error naming the function, the argument and
 * its value, outputs left byte-for-byte unchanged, and the context still
 * usable afterwards.
 *
 * This file holds the fixture (errors_fixture.h), the descriptors of the
 * entry points with tensor arguments with the cases that show their standard
 * arguments valid, and main, which runs every registered case as its own
 * cmocka test; test_errors_<family>.c hold the cases of each entry-point
 * family. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup */
#endif

#define ERRORS_FILE_RANK 0
#include "errors_fixture.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fixture                                                                    */
/* ------------------------------------------------------------------------ */

max_align_t errors_sentinel;

/* Leaves a distinctive message in this thread's last error, so that a case
 * whose call forgets to record one cannot pass on a stale message. */
static void mark_thread_error(void)
{
    const int d[4] = {1, 1, 1, 1};
    int o[4];
    (void)clcnn_conv2d_output_shape(d, d, (clcnn_conv_params){-12345, 0, CLCNN_CONV_AUTO}, o);
}

/* The backend every case's contexts use: the host path, or with
 * CLCNN_TEST_ERRORS_BACKEND=opencl an OpenCL device (CLCNN_DEVICE picks
 * which), so that the whole catalogue also runs against device tensors
 * (ctest: errors_opencl). */
static clcnn_options case_options(void)
{
    const char *b = getenv("CLCNN_TEST_ERRORS_BACKEND");
    if (b && strcmp(b, "opencl") == 0)
        return (clcnn_options){CLCNN_BACKEND_OPENCL, getenv("CLCNN_DEVICE")};
    return (clcnn_options){CLCNN_BACKEND_HOST, NULL};
}

/* *state is the case's table row (cmocka's initial state) or NULL. */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    clcnn_options o = case_options();
    if (clcnn_context_create(&o, &f->ctx) != CLCNN_OK || clcnn_context_create(&o, &f->other) != CLCNN_OK) {
        clcnn_context_destroy(f->ctx);
        free(f);
        return -1;
    }
    mark_thread_error();
    f->row = *state;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    for (int i = 0; i < f->n_watched; i++)
        free(f->snap[i]);
    for (int i = f->n_owned - 1; i >= 0; i--)
        clcnn_tensor_destroy(f->owned[i]);
    clcnn_context_destroy(f->other);
    clcnn_context_destroy(f->ctx);
    if (f->env_saved) {
        if (f->env_old)
            setenv("CLCNN_BACKEND", f->env_old, 1);
        else
            unsetenv("CLCNN_BACKEND");
        free(f->env_old);
    }
    free(f);
    return 0;
}

void own(fx *f, clcnn_tensor *t)
{
    assert_true(f->n_owned < MAX_TENSORS);
    f->owned[f->n_owned++] = t;
}

clcnn_tensor *mk(fx *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c, const char *name)
{
    static int serial;
    clcnn_tensor *t = NULL;
    clcnn_status s = clcnn_tensor_create(ctx, dtype, n, h, w, c, &t);
    if (s != CLCNN_OK)
        fail_msg("making %s (%d, %d, %d, %d): %s: %s", name, n, h, w, c, clcnn_status_string(s),
                 clcnn_last_error(ctx));
    own(f, t);

    serial = serial % 500 + 1;
    const double base = 1000.0 * serial;
    const size_t count = (size_t)n * (size_t)h * (size_t)w * (size_t)c;
    const size_t es = dtype == F64 ? sizeof(double) : sizeof(float);
    unsigned char *buf = malloc(count * es);
    assert_non_null(buf);
    for (size_t i = 0; i < count; i++) {
        double v = (i % 2 ? -1.0 : 1.0) * (base + 0.25 * (double)i + 0.125);
        if (dtype == F64)
            ((double *)buf)[i] = v;
        else
            ((float *)buf)[i] = (float)v;
    }
    s = clcnn_tensor_write(t, buf, count * es);
    free(buf);
    assert_int_equal(s, CLCNN_OK);

    assert_true(f->n_watched < MAX_TENSORS);
    const int k = f->n_watched++;
    f->watched[k] = t;
    f->watched_name[k] = name;
    f->snap[k] = th_snapshot(t, &f->snap_n[k]);
    return t;
}

/* Fails unless a valid call on f->ctx still works and gives the right result. */
static void expect_usable(fx *f)
{
    clcnn_tensor *x = NULL, *x_pad = NULL;
    assert_int_equal(clcnn_tensor_create(f->ctx, F64, 1, 2, 2, 1, &x), CLCNN_OK);
    own(f, x);
    assert_int_equal(clcnn_tensor_create(f->ctx, F64, 1, 4, 4, 1, &x_pad), CLCNN_OK);
    own(f, x_pad);
    const double in[4] = {1, 2, 3, 4};
    double out[16];
    memset(out, 0xA5, sizeof out);
    assert_int_equal(clcnn_tensor_write(x, in, sizeof in), CLCNN_OK);
    clcnn_status s = clcnn_zero_pad(f->ctx, x, 1, x_pad);
    if (s != CLCNN_OK)
        fail_msg("the context is not usable after the failing call: zero_pad gave %s: %s",
                 clcnn_status_string(s), clcnn_last_error(f->ctx));
    assert_int_equal(clcnn_finish(f->ctx), CLCNN_OK);
    assert_int_equal(clcnn_tensor_read(x_pad, out, sizeof out), CLCNN_OK);
    const double want[16] = {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0};
    for (int i = 0; i < 16; i++)
        if (out[i] != want[i])
            fail_msg("the context gives wrong results after the failing call: x_pad[%d] = %g, want %g", i,
                     out[i], want[i]);
}

void expect_fail_(fx *f, clcnn_status got, clcnn_status want, const clcnn_context *msg_ctx,
                  const char *const *needles)
{
    const char *msg = clcnn_last_error(msg_ctx);
    if (got != want)
        fail_msg("status %s, want %s (message: \"%s\")", clcnn_status_string(got), clcnn_status_string(want),
                 msg);
    for (int i = 0; needles[i]; i++)
        if (!strstr(msg, needles[i]))
            fail_msg("clcnn_last_error(%s) is \"%s\": it does not contain \"%s\"", msg_ctx ? "ctx" : "NULL",
                     msg, needles[i]);
    for (int i = 0; i < f->n_watched; i++)
        th_expect_unchanged(f->watched[i], f->snap[i], f->snap_n[i], f->watched_name[i]);
    expect_usable(f);
}

void set_backend_env(fx *f, const char *value)
{
    if (!f->env_saved) {
        const char *old = getenv("CLCNN_BACKEND");
        f->env_old = old ? strdup(old) : NULL;
        f->env_saved = 1;
    }
    if (value)
        setenv("CLCNN_BACKEND", value, 1);
    else
        unsetenv("CLCNN_BACKEND");
}

/* ------------------------------------------------------------------------ */
/* The entry points with tensor arguments and their standard arguments      */
/* ------------------------------------------------------------------------ */

static clcnn_status call_zero_pad(const op_args *a)
{
    return clcnn_zero_pad(a->ctx, a->t[0], a->pad, a->t[1]);
}

static clcnn_status call_conv_forward(const op_args *a)
{
    return clcnn_conv2d_forward(a->ctx, a->t[0], a->t[1], a->t[2], a->cp, a->t[3]);
}

static clcnn_status call_conv_backward(const op_args *a)
{
    return clcnn_conv2d_backward(a->ctx, a->t[0], a->t[1], a->t[2], a->cp, a->t[3], a->t[4], a->t[5]);
}

static clcnn_status call_pool_forward(const op_args *a)
{
    return clcnn_pool2d_forward(a->ctx, a->t[0], a->pp, a->t[1]);
}

static clcnn_status call_pool_backward(const op_args *a)
{
    return clcnn_pool2d_backward(a->ctx, a->t[0], a->t[1], a->pp, a->t[2]);
}

/* Zero padding: x (2, 3, 4, 3), pad 2 gives x_pad (2, 7, 8, 3). */
const op_desc OP_ZERO_PAD = {"clcnn_zero_pad",     2, {"x", "x_pad"}, {{2, 3, 4, 3}, {2, 7, 8, 3}}, .pad = 2,
                             .call = call_zero_pad};

/* Convolution: a_prev (2, 5, 4, 3), w (fh 3, fw 2, 3, 2), pad 1, stride 1
 * gives z (2, 5, 5, 2). H and W differ everywhere so that a swap shows. */
const op_desc OP_CONV_FORWARD = {
    "clcnn_conv2d_forward",        4,
    {"a_prev", "w", "b", "z"},     {{2, 5, 4, 3}, {3, 2, 3, 2}, {1, 1, 1, 2}, {2, 5, 5, 2}},
    .cp = {1, 1, CLCNN_CONV_AUTO}, .call = call_conv_forward};

const op_desc OP_CONV_BACKWARD = {
    "clcnn_conv2d_backward",
    6,
    {"dz", "a_prev", "w", "da_prev", "dw", "db"},
    {{2, 5, 5, 2}, {2, 5, 4, 3}, {3, 2, 3, 2}, {2, 5, 4, 3}, {3, 2, 3, 2}, {1, 1, 1, 2}},
    .cp = {1, 1, CLCNN_CONV_AUTO},
    .call = call_conv_backward};

/* Pooling: a_prev (2, 5, 4, 3), f 2, stride 2 gives a (2, 2, 2, 3). */
const op_desc OP_POOL_FORWARD = {
    "clcnn_pool2d_forward",   2, {"a_prev", "a"}, {{2, 5, 4, 3}, {2, 2, 2, 3}}, .pp = {2, 2, CLCNN_POOL_MAX},
    .call = call_pool_forward};

const op_desc OP_POOL_BACKWARD = {"clcnn_pool2d_backward",      3,
                                  {"da", "a_prev", "da_prev"},  {{2, 2, 2, 3}, {2, 5, 4, 3}, {2, 5, 4, 3}},
                                  .pp = {2, 2, CLCNN_POOL_MAX}, .call = call_pool_backward};

op_args op_standard(fx *f, const op_desc *op)
{
    op_args a = {f->ctx, {NULL}, op->cp, op->pp, op->pad};
    for (int i = 0; i < op->n_tensors; i++) {
        const int *d = op->dims[i];
        a.t[i] = mk(f, f->ctx, F32, d[0], d[1], d[2], d[3], op->names[i]);
    }
    return a;
}

int op_arg(const op_desc *op, const char *name)
{
    for (int i = 0; i < op->n_tensors; i++)
        if (strcmp(op->names[i], name) == 0)
            return i;
    fail_msg("%s has no tensor argument %s", op->fn, name);
    return -1;
}

void op_row_run(fx *f, const op_desc *op)
{
    const op_row *r = f->row;
    op_args a = op_standard(f, op);
    if (r->repl.arg) {
        const int i = op_arg(op, r->repl.arg);
        const int *d = r->repl.dims[0] ? r->repl.dims : op->dims[i];
        const char *label = r->repl.label;
        if (!label) {
            snprintf(f->label, sizeof f->label, "%s (%s)", r->repl.arg,
                     r->repl.other_ctx      ? "other context"
                     : r->repl.dtype == F64 ? "F64"
                                            : "F32");
            label = f->label;
        }
        a.t[i] = mk(f, r->repl.other_ctx ? f->other : f->ctx, r->repl.dtype, d[0], d[1], d[2], d[3], label);
    }
    if (r->alias[0])
        a.t[op_arg(op, r->alias[0])] = a.t[op_arg(op, r->alias[1])];
    for (int k = 0; k < OP_MAX_TENSORS && r->nulls[k]; k++)
        a.t[op_arg(op, r->nulls[k])] = NULL;
    if (r->params_set) {
        a.cp = r->cp;
        a.pp = r->pp;
        a.pad = r->pad;
    }
    if (r->null_ctx)
        a.ctx = NULL;

    const char *needles[2 + sizeof r->needles / sizeof r->needles[0]] = {op->fn};
    for (size_t k = 0; k < sizeof r->needles / sizeof r->needles[0] && r->needles[k]; k++)
        needles[k + 1] = r->needles[k];
    expect_fail_(f, op->call(&a), r->want, r->null_ctx ? NULL : f->ctx, needles);
}

/* ------------------------------------------------------------------------ */
/* The standard arguments really are valid (so each case fails for its one  */
/* change)                                                                  */
/* ------------------------------------------------------------------------ */

CASE(baseline_zero_pad_succeeds)
{
    FX;
    op_args a = op_standard(f, &OP_ZERO_PAD);
    assert_int_equal(OP_ZERO_PAD.call(&a), CLCNN_OK);
}

CASE(baseline_conv_forward_succeeds)
{
    FX;
    op_args a = op_standard(f, &OP_CONV_FORWARD);
    assert_int_equal(OP_CONV_FORWARD.call(&a), CLCNN_OK);
    a.t[op_arg(&OP_CONV_FORWARD, "b")] = NULL;
    assert_int_equal(OP_CONV_FORWARD.call(&a), CLCNN_OK);
}

CASE(baseline_conv_backward_succeeds)
{
    FX;
    op_args a = op_standard(f, &OP_CONV_BACKWARD);
    assert_int_equal(OP_CONV_BACKWARD.call(&a), CLCNN_OK);
    a.t[3] = a.t[4] = a.t[5] = NULL; /* da_prev, dw, db */
    assert_int_equal(OP_CONV_BACKWARD.call(&a), CLCNN_OK);
}

CASE(baseline_pool_forward_succeeds)
{
    FX;
    op_args a = op_standard(f, &OP_POOL_FORWARD);
    assert_int_equal(OP_POOL_FORWARD.call(&a), CLCNN_OK);
}

CASE(baseline_pool_backward_succeeds)
{
    FX;
    op_args a = op_standard(f, &OP_POOL_BACKWARD);
    assert_int_equal(OP_POOL_BACKWARD.call(&a), CLCNN_OK);
}

CASE(baseline_output_shapes_succeed)
{
    (void)state;
    const int a[4] = {2, 5, 4, 3}, w[4] = {3, 2, 3, 2};
    int o[4];
    assert_int_equal(clcnn_conv2d_output_shape(a, w, OP_CONV_FORWARD.cp, o), CLCNN_OK);
    assert_int_equal(o[0], 2);
    assert_int_equal(o[1], 5);
    assert_int_equal(o[2], 5);
    assert_int_equal(o[3], 2);
    assert_int_equal(clcnn_pool2d_output_shape(a, OP_POOL_FORWARD.pp, o), CLCNN_OK);
    assert_int_equal(o[0], 2);
    assert_int_equal(o[1], 2);
    assert_int_equal(o[2], 2);
    assert_int_equal(o[3], 3);
}

/* ------------------------------------------------------------------------ */
/* main                                                                       */
/* ------------------------------------------------------------------------ */

/* The bounds of the section that CASE and CASE_TABLE fill (the linker
 * defines them for a section named like a C identifier). */
extern const errors_entry *const __start_clcnn_error_cases[];
extern const errors_entry *const __stop_clcnn_error_cases[];

static int entry_order(const void *pa, const void *pb)
{
    const errors_entry *a = *(const errors_entry *const *)pa, *b = *(const errors_entry *const *)pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

int main(void)
{
    const size_t n_entries = (size_t)(__stop_clcnn_error_cases - __start_clcnn_error_cases);
    const errors_entry **entries = malloc(n_entries * sizeof *entries);
    if (!entries)
        return 1;
    memcpy(entries, __start_clcnn_error_cases, n_entries * sizeof *entries);
    /* The linker puts the files' entries in link order, and a compiler need
     * not keep a file's in source order. */
    qsort(entries, n_entries, sizeof *entries, entry_order);

    size_t n_tests = 0;
    for (size_t i = 0; i < n_entries; i++)
        n_tests += entries[i]->n_rows;
    struct CMUnitTest *tests = calloc(n_tests, sizeof *tests);
    if (!tests) {
        free(entries);
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_entries; i++) {
        const errors_entry *e = entries[i];
        for (size_t r = 0; r < e->n_rows; r++, k++) {
            /* A row's first member is its name. */
            const void *row = e->rows ? (const char *)e->rows + r * e->row_size : NULL;
            tests[k] = (struct CMUnitTest){row ? *(const char *const *)row : e->name, e->fn, setup, teardown,
                                           (void *)row};
        }
    }
    const int failed = _cmocka_run_group_tests("errors", tests, n_tests, NULL, NULL);
    free(tests);
    free(entries);
    return failed;
}
