/* helpers.h - what the tests share: contexts and tensors from double arrays,
 * reading tensors back as doubles, comparing with values printed in the
 * notebook, and byte snapshots for "outputs unchanged" checks.
 * Every helper fails the current cmocka test on an unexpected status. */
#ifndef CLCNN_TEST_HELPERS_H
#define CLCNN_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the above first */
#include <cmocka.h>

#include "clcnn.h"
#include "np_random.h"

/* One combination a test runs under, passed as the cmocka state. */
typedef struct {
    clcnn_backend backend;
    clcnn_dtype dtype;
} th_config;

const char *th_dtype_name(clcnn_dtype dtype);
const char *th_backend_name(clcnn_backend backend);

/* A context on backend (never AUTO), asserting that backend is in use, so a
 * device test fails rather than passing on the host path. OpenCL contexts
 * take their device from CLCNN_DEVICE (unset: the best device). */
clcnn_context *th_context(clcnn_backend backend);

/* A tensor of shape (n, h, w, c) filled from data (NULL: zeros), converted to
 * dtype. */
clcnn_tensor *th_tensor(clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                        const double *data);

/* Writes data (n*h*w*c doubles) into t, converted to t's dtype. */
void th_write(clcnn_tensor *t, const double *data);

/* n*h*w*c of t. */
size_t th_count(const clcnn_tensor *t);

/* t's contents widened to double, in a new array the caller frees. */
double *th_read(const clcnn_tensor *t);

/* t's raw bytes in a new array the caller frees; *nbytes gets their count. */
unsigned char *th_snapshot(const clcnn_tensor *t, size_t *nbytes);

/* Fails unless t's raw bytes equal snap. */
void th_expect_unchanged(const clcnn_tensor *t, const unsigned char *snap, size_t nbytes, const char *what);

/* Fails unless got agrees with `printed`, a number as the notebook printed
 * it (e.g. "-6.99908945068", "1.43310483e-01", "0."):
 *  F64: every printed digit; got rounded to the printed number of decimals
 *       (at least 8, numpy's array precision, which drops trailing zeros)
 *       must give the printed value, and a printed "0." means exactly 0.
 *  F32: within 1e-5 relative of the printed value (see helpers.c). */
void th_expect_printed(double got, const char *printed, clcnn_dtype dtype, const char *what);

/* The same for each of n values against a list printed by numpy, e.g.
 * "[[ 1.74481176  0.90159072] [ 0.  0.]]" (brackets and spaces ignored);
 * for F32 the 1e-5 is relative to the list's largest printed magnitude. */
void th_expect_printed_list(const double *got, size_t n, const char *printed, clcnn_dtype dtype,
                            const char *what);

/* The mean of n values, summed in double. */
double th_mean(const double *x, size_t n);

/* Sets environment variable `name` to value (NULL: unsets it) and returns
 * its former value as a new string (NULL when it was unset), to hand back
 * to th_env_restore. */
char *th_env_swap(const char *name, const char *value);

/* Gives `name` the value th_env_swap returned (NULL: unsets it) and frees
 * that string. */
void th_env_restore(const char *name, char *saved);

/* Canary builds (CLCNN_CANARIES): fails unless every guard byte before and
 * after each of the n tensors' data (NULL entries skipped) still holds its
 * pattern, naming `what` and the damage. A no-op in other builds. */
void th_expect_guards(clcnn_tensor *const *ts, size_t n, const char *what);

#ifdef CLCNN_CANARIES
/* What a canary build of the library exports for the tests (host/internal.h):
 * 1 when t's guards are intact, 0 with a sentence in report when not, -1
 * when they could not be read; and a host tensor's data pointer. */
int clcnn__tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len);
void *clcnn__tensor_host_data(clcnn_tensor *t);
#endif

#endif
