/* threads_work.h - what the files of test_threads share: the fixed work
 * (every case's shapes and inputs), the serial reference of its outputs,
 * the thread-safe helpers the workers call (no cmocka), and the log they
 * record failures in (test_threads_work.c). */
#ifndef CLCNN_THREADS_WORK_H
#define CLCNN_THREADS_WORK_H

#include "helpers.h"

/* One shape: a_prev (n, h, w, cin) is the input of every op. */
typedef struct {
    int n, h, w, cin; /* a_prev */
    int fh, fw, cout; /* the filter */
    int stride, pad;  /* convolution */
    int pool_f, pool_stride;
    int zpad; /* zero_pad's pad */
} shape_case;

enum { N_SHAPES = 2, N_CASES = 2 * N_SHAPES /* x {F32, F64} */ };

/* The ops of a case, each through its descriptor (ops.h), and their names
 * in messages. */
enum { OP_PAD, OP_CONV_FWD, OP_CONV_BWD, OP_PMAX_FWD, OP_PMAX_BWD, OP_PAVG_FWD, OP_PAVG_BWD, N_OPS };
extern const char *const op_names[N_OPS];

/* The fixed work: every case's shapes and (double) inputs. */
typedef struct {
    clcnn_dtype dtype[N_CASES];
    const shape_case *s[N_CASES];
    tc_shape op_s[N_CASES][N_OPS];
    double *in[N_CASES][N_OPS][TC_MAX_IN];
    int skip[N_CASES]; /* F64 on a device without cl_khr_fp64 */
} workload;

/* A thread's failures: how many, and the message of the first. */
typedef struct {
    int failures;
    char first[768];
} failure_log;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void note(failure_log *log, const char *fmt, ...);

/* Every op's tensors of one case. */
typedef struct {
    tc_tensors op[N_OPS];
} case_tensors;

void case_free(case_tensors *t);

/* Case c's tensors on ctx: 1, or 0 with a note in log (nothing left). */
int case_make(clcnn_context *ctx, const workload *wl, int c, case_tensors *t, failure_log *log,
              const char *who);

/* Overwrites every output of op with a byte pattern no op produces here. */
clcnn_status poison(tc_tensors *t, unsigned char *scratch);

/* Every output's bytes from the serial run, per case. */
typedef struct {
    clcnn_backend backend;
    workload wl;
    unsigned char *bytes[N_CASES][N_OPS][TC_MAX_OUT];
    size_t nbytes[N_CASES][N_OPS][TC_MAX_OUT];
    size_t max_bytes; /* the largest output, for scratch buffers */
} reference;

/* The serial run on the fixture's context of the backend (cmocka checks:
 * the main thread only). */
reference *reference_compute(th_fixture *f, clcnn_backend backend);
void reference_free(reference *ref);

/* Reads every output of op of case c and notes where its bytes differ
 * from the serial run's. */
void check_outputs(const reference *ref, int c, int op, const tc_tensors *t, unsigned char *scratch,
                   failure_log *log, const char *who);

#endif
