/* errors_fixture.h - what the files of test_errors share: the fixture that
 * owns every context, tensor and snapshot of a case, the checks of a failing
 * call, the registration that writes each case once, and the descriptors of
 * the entry points whose cases are table rows.
 *
 * Each case is its own cmocka test, run between setup and teardown, so that
 * nothing leaks even when a case fails part-way (the suite runs under
 * valgrind). A file defines ERRORS_FILE_RANK before including this header;
 * main runs the cases in the order of (rank, source line). */
#ifndef CLCNN_ERRORS_FIXTURE_H
#define CLCNN_ERRORS_FIXTURE_H

#include "helpers.h"

#include <stddef.h>

#define F32 CLCNN_F32
#define F64 CLCNN_F64

/* ------------------------------------------------------------------------ */
/* Fixture                                                                    */
/* ------------------------------------------------------------------------ */

#define MAX_TENSORS 32

typedef struct {
    clcnn_context *ctx;   /* the context every case uses */
    clcnn_context *other; /* a second context, for "tensor of another context" */
    clcnn_tensor *owned[MAX_TENSORS];
    int n_owned;
    /* Snapshots of every tensor made by mk(), compared after the failing call. */
    const clcnn_tensor *watched[MAX_TENSORS];
    const char *watched_name[MAX_TENSORS];
    unsigned char *snap[MAX_TENSORS];
    size_t snap_n[MAX_TENSORS];
    int n_watched;
    /* CLCNN_BACKEND as it was before a case changed it. */
    int env_saved;
    char *env_old;
    /* The table row a case runs (NULL for a CASE function). */
    const void *row;
    /* The name made up for a row's new tensor, which mk() keeps a pointer to. */
    char label[48];
} fx;

/* Keeps t and destroys it in teardown. */
void own(fx *f, clcnn_tensor *t);

/* A tensor of ctx filled with a recognisable non-zero pattern, distinct for
 * each tensor, and snapshotted so that EXPECT_FAIL can check it. */
clcnn_tensor *mk(fx *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c, const char *name);

/* The checks of every case: the status, the message (each needle of the
 * NULL-terminated list must occur in clcnn_last_error(msg_ctx)), every
 * tensor made by mk() unchanged, and the context still usable. */
void expect_fail_(fx *f, clcnn_status got, clcnn_status want, const clcnn_context *msg_ctx,
                  const char *const *needles);

#define EXPECT_FAIL(f, got, want, msg_ctx, ...)                                                              \
    expect_fail_((f), (got), (want), (msg_ctx), (const char *const[]){__VA_ARGS__, NULL})

/* Sets CLCNN_BACKEND (NULL: unsets it); teardown restores the old value. */
void set_backend_env(fx *f, const char *value);

/* An address that no library call returns, to see that *out is left alone. */
extern max_align_t errors_sentinel;
#define SENTINEL_CTX ((clcnn_context *)(void *)&errors_sentinel)
#define SENTINEL_TENSOR ((clcnn_tensor *)(void *)&errors_sentinel)

/* ------------------------------------------------------------------------ */
/* Registration                                                               */
/* ------------------------------------------------------------------------ */

/* One registered case, or a table of them: with rows, one cmocka test per
 * row, named by the row's first member (a const char *) and run by fn with
 * the row in f->row. */
typedef struct {
    int rank, line; /* the order main runs them in */
    const char *name;
    CMUnitTestFunction fn;
    const void *rows;
    size_t n_rows, row_size;
} errors_entry;

/* Pointers to the entries go into one linker section, which main walks
 * between the linker's __start_ and __stop_ symbols: pointers, not the
 * entries themselves, since the compiler may align each larger object in it
 * beyond its size and leave gaps (AddressSanitizer, which pads globals,
 * leaves those of named sections alone for the same reason). */
#define ERRORS_REGISTER_(id, name, fn, rows, n_rows, row_size)                                               \
    static const errors_entry id##_entry = {ERRORS_FILE_RANK, __LINE__, name, fn, rows, n_rows, row_size};   \
    static const errors_entry *const id##_ref __attribute__((section("clcnn_error_cases"), used)) =          \
        &id##_entry

/* CASE(name) { body }: a test function, registered as one case. */
#define CASE(name)                                                                                           \
    static void name(void **state);                                                                          \
    ERRORS_REGISTER_(name, #name, name, NULL, 1, 0);                                                         \
    static void name(void **state)

#define FX fx *f = *state

/* CASE_TABLE(run, rows): each row of the array rows a case, run by run. */
#define CASE_TABLE(run, rows)                                                                                \
    ERRORS_REGISTER_(rows, NULL, run, rows, sizeof(rows) / sizeof((rows)[0]), sizeof((rows)[0]))

/* ------------------------------------------------------------------------ */
/* Entry points with tensor arguments, and rows that change one argument    */
/* ------------------------------------------------------------------------ */

#define OP_MAX_TENSORS 6

/* The arguments of one call. */
typedef struct {
    clcnn_context *ctx;
    clcnn_tensor *t[OP_MAX_TENSORS]; /* the tensor arguments in the prototype's order */
    clcnn_conv_params cp;
    clcnn_pool_params pp;
    int pad;
} op_args;

/* An entry point and its standard, valid arguments (op_standard makes the
 * tensors, all F32, in the order of names); each row changes one thing. */
typedef struct {
    const char *fn; /* the function's name, which every message gives */
    int n_tensors;
    const char *names[OP_MAX_TENSORS];
    int dims[OP_MAX_TENSORS][4];
    clcnn_conv_params cp;
    clcnn_pool_params pp;
    int pad;
    clcnn_status (*call)(const op_args *a);
} op_desc;

extern const op_desc OP_ZERO_PAD, OP_CONV_FORWARD, OP_CONV_BACKWARD, OP_POOL_FORWARD, OP_POOL_BACKWARD;

/* The standard arguments of op on f->ctx. */
op_args op_standard(fx *f, const op_desc *op);

/* Index of op's tensor argument `name`; fails the case for an unknown name. */
int op_arg(const op_desc *op, const char *name);

/* A case of one entry point: the standard arguments with the changes below,
 * made in this order, and the status and needles (besides the function's
 * name) that the failing call must give. */
typedef struct {
    const char *name;
    clcnn_status want;
    const char *needles[4];
    int null_ctx; /* ctx NULL (the message is then clcnn_last_error(NULL)'s) */
    /* One tensor argument replaced by a new tensor: of the other context, of
     * dtype, and of dims unless all are 0 (then the standard shape); label
     * names it in failure messages (NULL: one made up from the change). */
    struct {
        const char *arg;
        int other_ctx;
        clcnn_dtype dtype;
        int dims[4];
        const char *label;
    } repl;
    const char *alias[2];              /* argument alias[0] given argument alias[1]'s tensor */
    const char *nulls[OP_MAX_TENSORS]; /* arguments given NULL */
    int params_set;                    /* the row's cp, pp or pad instead of the standard ones */
    clcnn_conv_params cp;
    clcnn_pool_params pp;
    int pad;
} op_row;

/* Runs f->row (an op_row) on op: CASE_TABLE's run function of each table. */
void op_row_run(fx *f, const op_desc *op);

/* What a row changes. */
#define NO_CTX .null_ctx = 1
#define OTHER_CTX(a) .repl = {(a), 1, F32, {0}, NULL}
#define AS_F64(a) .repl = {(a), 0, F64, {0}, NULL}
#define RESHAPED(a, n, h, w, c, label) .repl = {(a), 0, F32, {n, h, w, c}, label}
#define SAME_AS(a, b) .alias = {(a), (b)}
#define NULLS(...) .nulls = {__VA_ARGS__}
#define CONV_P(stride, pad_, algo) .params_set = 1, .cp = {stride, pad_, algo}
#define POOL_P(f_, stride, mode) .params_set = 1, .pp = {f_, stride, mode}
#define PAD(v) .params_set = 1, .pad = (v)

#define INVALID CLCNN_ERR_INVALID_ARGUMENT
#define SHAPE CLCNN_ERR_SHAPE

/* OP_TABLE(op, rows): registers the rows of an op_row array as cases of op. */
#define OP_TABLE(op, rows)                                                                                   \
    static void rows##_run(void **state)                                                                     \
    {                                                                                                        \
        op_row_run(*state, &(op));                                                                           \
    }                                                                                                        \
    CASE_TABLE(rows##_run, rows)

#endif
