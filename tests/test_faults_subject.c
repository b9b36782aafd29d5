/* test_faults_subject.c - what one faulted call of test_faults runs on: a
 * fresh context with an op's tensors, or the objects of the tensor and
 * context calls, and the call's results against the reference. */
#include "faults_subject.h"

#include <stdlib.h>
#include <string.h>

/* The descriptor case of c (t.op NULL for the tensor and context calls):
 * zero_pad of (2,3,4,3) by 2; convolutions of a (2,5,5,3) with 4 3x3
 * filters, stride 1, pad 1 (views: a (6,5,5,2), 8 filters, so that z and
 * dz pass 1024 elements); pooling of (2,6,6,3) with 2x2 windows, stride 2,
 * or (overlap) 4x4, stride 1: both 3x3 outputs. */
static const tc_op *op_shape(const op_case *c, tc_shape *s)
{
    memset(s, 0, sizeof *s);
    s->n = 2, s->h = 5, s->w = 5, s->c = 3, s->stride = 1;
    switch (c->op) {
    case OP_PAD: s->h = 3, s->w = 4, s->pad = 2; return tc_op_of(TC_ZERO_PAD);
    case OP_CONV_FWD:
    case OP_CONV_BWD:
        s->fh = s->fw = 3, s->cout = 4, s->pad = 1, s->bias = 1, s->algo = c->algo;
        s->omit = (c->da ? 0 : 1) | (c->dw ? 0 : 2) | (c->db ? 0 : 4);
        if (c->views)
            s->n = 6, s->c = 2, s->cout = 8;
        return tc_op_of(c->op == OP_CONV_FWD ? TC_CONV_FORWARD : TC_CONV_BACKWARD);
    case OP_POOL_FWD:
    case OP_POOL_BWD:
        s->h = s->w = 6, s->mode = c->mode;
        s->fh = s->fw = c->overlap ? 4 : 2, s->stride = c->overlap ? 1 : 2;
        return tc_op_of(c->op == OP_POOL_FWD ? TC_POOL_FORWARD : TC_POOL_BACKWARD);
    default: return NULL;
    }
}

int n_outputs(const subject *f)
{
    return f->t.op ? f->t.op->n_out : 1;
}

clcnn_tensor *output(const subject *f, int i)
{
    return f->t.op ? f->t.out[i] : i == 0 ? f->written : NULL;
}

/* An output tensor holding a sentinel pattern, so that a write shows. */
static clcnn_tensor *sentinel_tensor(clcnn_context *ctx, int n, int h, int w, int c)
{
    clcnn_tensor *t = th_tensor(ctx, CLCNN_F32, n, h, w, c, NULL);
    th_fill(t, 1000.0, 1.0);
    return t;
}

void reset_outputs(subject *f)
{
    for (int i = 0; i < n_outputs(f); i++)
        if (output(f, i))
            th_fill(output(f, i), 1000.0, 1.0);
    for (int j = 0; j < 60; j++)
        f->host_out[j] = -1.0;
}

void subject_make(subject *f, clcnn_backend be, const op_case *c)
{
    memset(f, 0, sizeof *f);
    if (c->tuning)
        forget_tuning(); /* before the context reads the tune file */
    char *saved = c->views ? th_env_swap("CLCNN_GEMM_INDEX_LIMIT", "1024") : NULL;
    char *saved_tiled = c->tiled ? th_env_swap("CLCNN_CONV_TILED", "1") : NULL;
    f->ctx = th_context(be);
    if (c->views)
        th_env_restore("CLCNN_GEMM_INDEX_LIMIT", saved); /* read at context creation */
    if (c->tiled)
        th_env_restore("CLCNN_CONV_TILED", saved_tiled);
    if (c->workspace_limit)
        assert_int_equal(clcnn_context_set_workspace_limit(f->ctx, c->workspace_limit), CLCNN_OK);
    if (c->tuning)
        assert_int_equal(clcnn_context_set_tuning(f->ctx, 1), CLCNN_OK);
    clcnn_context *x = f->ctx;
    tc_shape sh;
    const tc_op *op = op_shape(c, &sh);
    np_random r;
    np_random_seed(&r, 7 + (uint32_t)c->op); /* small integers: every path gives the same bytes */
    if (op) {
        double *in[TC_MAX_IN];
        assert_int_equal(tc_inputs(op, &sh, TC_INTEGERS, &r, in), 0);
        const clcnn_status st = tc_tensors_make(x, op, &sh, CLCNN_F32, in, &f->t);
        tc_inputs_free(in);
        if (st != CLCNN_OK)
            fail_msg("%s: making its tensors: %s", c->name, clcnn_status_string(st));
    } else if (c->op == OP_TENSOR_WRITE) {
        f->written = sentinel_tensor(x, 2, 3, 2, 5);
    } else if (c->op == OP_TENSOR_READ) {
        double *v = tc_values(&r, 60, TC_INTEGERS, 1.0);
        assert_non_null(v);
        f->read = th_tensor(x, CLCNN_F32, 2, 3, 2, 5, v);
        free(v);
    }
    reset_outputs(f);
}

void subject_free(subject *f)
{
    tc_tensors_free(&f->t);
    clcnn_tensor_destroy(f->written);
    clcnn_tensor_destroy(f->read);
    clcnn_tensor_destroy(f->created);
    clcnn_context_destroy(f->new_ctx);
    clcnn_context_destroy(f->ctx);
    memset(f, 0, sizeof *f);
}

clcnn_status run_op(subject *f, const op_case *c, clcnn_backend be)
{
    if (f->t.op)
        return tc_run(&f->t);
    switch (c->op) {
    case OP_TENSOR_CREATE: return clcnn_tensor_create(f->ctx, CLCNN_F32, 2, 3, 2, 5, &f->created);
    case OP_TENSOR_WRITE: {
        float src[60];
        for (int i = 0; i < 60; i++)
            src[i] = (float)(i % 7 - 3);
        return clcnn_tensor_write(f->written, src, sizeof src);
    }
    case OP_TENSOR_READ: {
        float dst[60];
        clcnn_status s = clcnn_tensor_read(f->read, dst, sizeof dst);
        if (s == CLCNN_OK)
            for (int i = 0; i < 60; i++)
                f->host_out[i] = dst[i];
        return s;
    }
    case OP_CONTEXT_CREATE: {
        clcnn_options o = {be, be == CLCNN_BACKEND_OPENCL ? getenv("CLCNN_DEVICE") : NULL};
        return clcnn_context_create(&o, &f->new_ctx);
    }
    default: break;
    }
    return CLCNN_ERR_INVALID_ARGUMENT;
}

double *results(subject *f, const op_case *c, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < n_outputs(f); i++)
        total += output(f, i) ? th_count(output(f, i)) : 0;
    if (c->op == OP_TENSOR_READ || c->op == OP_TENSOR_CREATE)
        total += 60;
    double *r = calloc(total + 1, sizeof *r);
    size_t k = 0;
    for (int i = 0; i < n_outputs(f); i++) {
        if (!output(f, i))
            continue;
        double *d = th_read(output(f, i));
        memcpy(r + k, d, th_count(output(f, i)) * sizeof *d);
        k += th_count(output(f, i));
        free(d);
    }
    if (c->op == OP_TENSOR_READ) {
        memcpy(r + k, f->host_out, 60 * sizeof *r);
        k += 60;
    }
    if (c->op == OP_TENSOR_CREATE) {
        assert_non_null(f->created);
        double *d = th_read(f->created);
        memcpy(r + k, d, 60 * sizeof *r);
        k += 60;
        free(d);
    }
    *n = k;
    return r;
}

void expect_results(subject *f, const op_case *c, const double *ref, size_t n_ref, const char *when)
{
    size_t n;
    double *got = results(f, c, &n);
    assert_int_equal(n, n_ref);
    for (size_t i = 0; i < n; i++)
        if (got[i] != ref[i])
            fail_msg("%s (%s): result %zu is %g, expected %g", c->name, when, i, got[i], ref[i]);
    free(got);
    clcnn_tensor_destroy(f->created);
    f->created = NULL;
    if (c->op == OP_CONTEXT_CREATE) {
        assert_non_null(f->new_ctx);
        clcnn_context_destroy(f->new_ctx);
        f->new_ctx = NULL;
    }
}
