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
#include "ops.h"

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

/* ---- the fixture: contexts and owned objects, freed in teardown -------- */

/* What a test holds: a host context (the reference), an OpenCL one made on
 * first use, every tensor and context handed to it, a temporary folder and
 * the environment variables it set, all destroyed, removed or restored by
 * th_teardown, also when the test fails midway. */
typedef struct th_fixture th_fixture;

/* cmocka setup and teardown: *state becomes the fixture; the state the test
 * was registered with stays readable through th_param. */
int th_setup(void **state);
int th_teardown(void **state);

/* The fixture of a test run with th_setup (its void **state). */
th_fixture *th_fx(void **state);

/* The state given to cmocka_unit_test_prestate_setup_teardown, or NULL. */
void *th_param(void **state);

/* The host context, and the OpenCL one (th_context(CLCNN_BACKEND_OPENCL),
 * made on first use). */
clcnn_context *th_host(th_fixture *f);
clcnn_context *th_device(th_fixture *f);

/* A new empty folder, removed with everything in it at teardown. */
const char *th_temp_dir(th_fixture *f);

/* Sets environment variable name (a string that outlives the test) to
 * value (NULL: unsets it) until teardown, which restores it; variables set
 * again are restored in reverse order, so to their first value. */
void th_set_env(th_fixture *f, const char *name, const char *value);

/* Hands ctx (or t) to the fixture, which destroys it at teardown; returns
 * it. */
clcnn_context *th_own_context(th_fixture *f, clcnn_context *ctx);
clcnn_tensor *th_own(th_fixture *f, clcnn_tensor *t);

/* Calls fn(arg) at teardown, after the tensors and contexts are destroyed
 * (newest first): for what the fixture knows nothing of, such as a
 * caller's own OpenCL objects. */
void th_at_teardown(th_fixture *f, void (*fn)(void *), void *arg);

/* Hands p (from malloc; NULL fails the test as out of memory) to the
 * fixture, which frees it at teardown; returns it. */
void *th_own_mem(th_fixture *f, void *p);

/* th_tensor, owned by f. */
clcnn_tensor *th_fx_tensor(th_fixture *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                           const double *data);

/* Destroys t (owned by f) now; NULL is ignored. */
void th_drop(th_fixture *f, clcnn_tensor *t);

/* Destroys ctx (one of f's, or its device context) now; its tensors must
 * be dropped first. */
void th_drop_context(th_fixture *f, clcnn_context *ctx);

/* ---- op cases (ops.h) with cmocka checks -------------------------------- */

/* A case's tensors on ctx, owned by f: inputs from in[] (NULL entries
 * zeros), outputs zero. */
void th_case_make(th_fixture *f, clcnn_context *ctx, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                  double *const in[TC_MAX_IN], tc_tensors *t);

/* Destroys a case's tensors now. */
void th_case_free(th_fixture *f, tc_tensors *t);

/* Runs the case's op, failing on any status but CLCNN_OK, and checks the
 * guards of every tensor of the case (canary builds). */
void th_case_run(tc_tensors *t);

/* The reference of a case: the op run on f's host context (the library's
 * plain-C path) in the case's dtype, from the same inputs. */
void th_case_reference(th_fixture *f, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                       double *const in[TC_MAX_IN], tc_tensors *ref);

/* sum|terms| of every element of every output: the op on the host in F64
 * on the magnitudes of in[] (tc_mag_inputs); mag[o] NULL for an absent
 * output, else a new array. */
void th_case_magnitudes(th_fixture *f, const tc_op *op, const tc_shape *s, double *const in[TC_MAX_IN],
                        double *mag[TC_MAX_OUT]);

/* Fails unless every output of got equals ref's (mag NULL) or lies within
 * tc_tolerance of it (mag[o]: the magnitudes of output o), naming desc. */
void th_case_compare(const tc_tensors *got, const tc_tensors *ref, double *const mag[TC_MAX_OUT],
                     const char *desc);

/* Writes base + step * i into element i of t. */
void th_fill(clcnn_tensor *t, double base, double step);

#ifdef CLCNN_CANARIES
/* What a canary build of the library exports for the tests (host/internal.h):
 * 1 when t's guards are intact, 0 with a sentence in report when not, -1
 * when they could not be read; and a host tensor's data pointer. */
int clcnn__tensor_guards_ok(const clcnn_tensor *t, char *report, size_t report_len);
void *clcnn__tensor_host_data(clcnn_tensor *t);
#endif

#endif
