/* faults_subject.h - what the files of test_faults share: the cases (an
 * op, or a tensor or context call, and the settings it runs under) and the
 * subject one faulted call runs on, with its results (test_faults_subject.c). */
#ifndef CLCNN_FAULTS_SUBJECT_H
#define CLCNN_FAULTS_SUBJECT_H

#include "helpers.h"

typedef enum {
    OP_PAD,
    OP_CONV_FWD,
    OP_CONV_BWD,
    OP_POOL_FWD,
    OP_POOL_BWD,
    OP_TENSOR_CREATE,
    OP_TENSOR_WRITE,
    OP_TENSOR_READ,
    OP_CONTEXT_CREATE
} op_kind;

typedef struct {
    const char *name;
    op_kind op;
    clcnn_conv_algo algo;
    int da, dw, db;         /* conv backward: which outputs */
    clcnn_pool_mode mode;   /* pooling */
    size_t workspace_limit; /* 0: the default; small: the GEMM path in chunks */
    int tuning;             /* tuning on: an AUTO call runs both algorithms first */
    int views;              /* conv: bigger tensors, CLCNN_GEMM_INDEX_LIMIT=1024 (GEMM sub-buffer views) */
    int tiled;              /* conv: CLCNN_CONV_TILED=1 (the tiled kernels of every direction) */
    int overlap;            /* pooling: 4x4 windows with stride 1 (else 2x2, stride 2): f*f a power of two
                             * keeps the average's quotients exact, and with them the expected bits */
} op_case;

/* What one faulted call runs on: a fresh context with an op's tensors (an
 * op of ops.h: t.op set) or the objects of the tensor and context calls. */
typedef struct {
    clcnn_context *ctx;
    tc_tensors t;           /* the op's inputs and outputs */
    clcnn_tensor *written;  /* OP_TENSOR_WRITE's output */
    clcnn_tensor *read;     /* OP_TENSOR_READ's input */
    double host_out[60];    /* OP_TENSOR_READ: the caller's buffer */
    clcnn_tensor *created;  /* OP_TENSOR_CREATE */
    clcnn_context *new_ctx; /* OP_CONTEXT_CREATE */
} subject;

/* The outputs whose bytes a failing call must leave alone: n_outputs of
 * them, output(f, i) NULL where absent. */
int n_outputs(const subject *f);
clcnn_tensor *output(const subject *f, int i);

/* Every output back to its sentinel pattern, the caller's buffer to -1. */
void reset_outputs(subject *f);

/* A fresh context of backend be with c's settings and objects; inputs are
 * small integers, so that every path gives the same bytes. */
void subject_make(subject *f, clcnn_backend be, const op_case *c);
void subject_free(subject *f);

/* One call of c on f. */
clcnn_status run_op(subject *f, const op_case *c, clcnn_backend be);

/* The op's results as doubles (n values in *n), in a new array; what the
 * host backend computes is the reference. */
double *results(subject *f, const op_case *c, size_t *n);

/* After a successful call: the op's results must equal ref; undo what the
 * call made (created objects) so that it can run again. */
void expect_results(subject *f, const op_case *c, const double *ref, size_t n_ref, const char *when);

/* Deletes the tune file of the tuning cases' cache folder, so that a new
 * context measures again (test_faults.c). */
void forget_tuning(void);

#endif
