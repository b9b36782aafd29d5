/* test_threads_work.c - the fixed work of test_threads (every case's
 * shapes and inputs), its serial reference, and the thread-safe helpers
 * the workers call: tensors, poison, comparisons and the failure log. */
#include "threads_work.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the work --- */

/* The first has n*n_H*n_W = 336 output positions, enough for OpenCL's split
 * dw reduction (more than 256), and overlapping pool windows (f 3, stride 2);
 * the second a non-square filter, stride 2, and disjoint windows. */
static const shape_case shapes[N_SHAPES] = {
    {2, 14, 12, 3, 3, 3, 4, 1, 1, 3, 2, 2},
    {1, 9, 8, 5, 3, 2, 6, 2, 2, 2, 2, 1},
};

/* The ops of a case, each through its descriptor (ops.h). */
static const tc_op_id op_ids[N_OPS] = {TC_ZERO_PAD,      TC_CONV_FORWARD, TC_CONV_BACKWARD, TC_POOL_FORWARD,
                                       TC_POOL_BACKWARD, TC_POOL_FORWARD, TC_POOL_BACKWARD};
const char *const op_names[N_OPS] = {"clcnn_zero_pad",
                                     "clcnn_conv2d_forward",
                                     "clcnn_conv2d_backward",
                                     "clcnn_pool2d_forward (max)",
                                     "clcnn_pool2d_backward (max)",
                                     "clcnn_pool2d_forward (average)",
                                     "clcnn_pool2d_backward (average)"};

/* Op op's case on shape s: zero_pad by zpad, the convolution with bias,
 * the pools with the pool window. */
static tc_shape op_shape(const shape_case *s, int op)
{
    tc_shape k = {0};
    k.n = s->n, k.h = s->h, k.w = s->w, k.c = s->cin, k.stride = 1;
    if (op == OP_PAD) {
        k.pad = s->zpad;
    } else if (op == OP_CONV_FWD || op == OP_CONV_BWD) {
        k.fh = s->fh, k.fw = s->fw, k.cout = s->cout, k.stride = s->stride, k.pad = s->pad, k.bias = 1;
    } else {
        k.fh = k.fw = s->pool_f, k.stride = s->pool_stride;
        k.mode = op == OP_PMAX_FWD || op == OP_PMAX_BWD ? CLCNN_POOL_MAX : CLCNN_POOL_AVG;
    }
    return k;
}

static size_t elem(clcnn_dtype dt)
{
    return dt == CLCNN_F64 ? sizeof(double) : sizeof(float);
}

static void workload_init(workload *wl)
{
    memset(wl, 0, sizeof *wl);
    for (int c = 0; c < N_CASES; c++) {
        wl->dtype[c] = c < N_SHAPES ? CLCNN_F32 : CLCNN_F64;
        wl->s[c] = &shapes[c % N_SHAPES];
        np_random r;
        np_random_seed(&r, 4100u + (uint32_t)c);
        for (int op = 0; op < N_OPS; op++) {
            wl->op_s[c][op] = op_shape(wl->s[c], op);
            assert_int_equal(tc_inputs(tc_op_of(op_ids[op]), &wl->op_s[c][op], TC_NORMAL, &r, wl->in[c][op]),
                             0);
        }
    }
}

static void workload_free(workload *wl)
{
    for (int c = 0; c < N_CASES; c++)
        for (int op = 0; op < N_OPS; op++)
            tc_inputs_free(wl->in[c][op]);
}

/* ------------------------------------------- failure log (no cmocka) --- */

void note(failure_log *log, const char *fmt, ...)
{
    if (log->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(log->first, sizeof log->first, fmt, ap);
        va_end(ap);
    }
}

/* ----------------------------- tensors and ops (thread-safe, no cmocka) --- */

void case_free(case_tensors *t)
{
    for (int op = 0; op < N_OPS; op++)
        tc_tensors_free(&t->op[op]);
}

int case_make(clcnn_context *ctx, const workload *wl, int c, case_tensors *t, failure_log *log,
              const char *who)
{
    memset(t, 0, sizeof *t);
    for (int op = 0; op < N_OPS; op++) {
        clcnn_status s = tc_tensors_make(ctx, tc_op_of(op_ids[op]), &wl->op_s[c][op], wl->dtype[c],
                                         wl->in[c][op], &t->op[op]);
        if (s) {
            note(log, "%s: case %d: making the tensors of %s: %s: %s", who, c, op_names[op],
                 clcnn_status_string(s), clcnn_last_error(ctx));
            case_free(t);
            return 0;
        }
    }
    return 1;
}

/* Overwrites every output of op with a byte pattern no op produces here. */
clcnn_status poison(tc_tensors *t, unsigned char *scratch)
{
    for (int o = 0; o < t->op->n_out; o++) {
        const size_t nbytes = th_count(t->out[o]) * elem(t->dt);
        memset(scratch, 0xA5, nbytes);
        clcnn_status s = clcnn_tensor_write(t->out[o], scratch, nbytes);
        if (s)
            return s;
    }
    return CLCNN_OK;
}

/* ---------------------------------------------------- serial reference --- */

static void case_desc(const workload *wl, int c, char *buf, size_t n)
{
    const shape_case *s = wl->s[c];
    snprintf(buf, n,
             "case %d (%s, a_prev (%d,%d,%d,%d), w (%d,%d,%d,%d), stride %d, pad %d, pool f %d stride %d)", c,
             th_dtype_name(wl->dtype[c]), s->n, s->h, s->w, s->cin, s->fh, s->fw, s->cin, s->cout, s->stride,
             s->pad, s->pool_f, s->pool_stride);
}

/* Whether ctx runs F64 ops (a device may lack cl_khr_fp64). */
static int runs_f64(clcnn_context *ctx)
{
    clcnn_tensor *x = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL),
                 *y = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL);
    clcnn_status s = clcnn_zero_pad(ctx, x, 0, y);
    clcnn_tensor_destroy(x);
    clcnn_tensor_destroy(y);
    if (s != CLCNN_OK && s != CLCNN_ERR_UNSUPPORTED)
        fail_msg("probing F64: %s: %s", clcnn_status_string(s), clcnn_last_error(ctx));
    return s == CLCNN_OK;
}

/* The serial run on the fixture's context of the backend. */
reference *reference_compute(th_fixture *f, clcnn_backend backend)
{
    reference *ref = calloc(1, sizeof *ref);
    assert_non_null(ref);
    ref->backend = backend;
    workload_init(&ref->wl);
    clcnn_context *ctx = backend == CLCNN_BACKEND_OPENCL ? th_device(f) : th_host(f);
    if (backend == CLCNN_BACKEND_OPENCL)
        assert_string_not_equal(clcnn_context_device_name(ctx), "host reference");
    const int f64 = runs_f64(ctx);
    if (!f64)
        print_message("%s: the device lacks cl_khr_fp64; the F64 cases are skipped\n",
                      clcnn_context_device_name(ctx));
    for (int c = 0; c < N_CASES; c++) {
        if (ref->wl.dtype[c] == CLCNN_F64 && !f64) {
            ref->wl.skip[c] = 1;
            continue;
        }
        failure_log log = {0};
        case_tensors t;
        if (!case_make(ctx, &ref->wl, c, &t, &log, "serial"))
            fail_msg("%s", log.first);
        for (int op = 0; op < N_OPS; op++) {
            clcnn_status s = tc_run(&t.op[op]);
            if (s != CLCNN_OK) {
                case_free(&t);
                fail_msg("serial %s, case %d: %s: %s", op_names[op], c, clcnn_status_string(s),
                         clcnn_last_error(ctx));
            }
        }
        for (int op = 0; op < N_OPS; op++)
            for (int o = 0; o < t.op[op].op->n_out; o++) {
                ref->bytes[c][op][o] = th_snapshot(t.op[op].out[o], &ref->nbytes[c][op][o]);
                if (ref->nbytes[c][op][o] > ref->max_bytes)
                    ref->max_bytes = ref->nbytes[c][op][o];
            }
        case_free(&t);
    }
    return ref;
}

void reference_free(reference *ref)
{
    for (int c = 0; c < N_CASES; c++)
        for (int op = 0; op < N_OPS; op++)
            for (int o = 0; o < TC_MAX_OUT; o++)
                free(ref->bytes[c][op][o]);
    workload_free(&ref->wl);
    free(ref);
}

/* Reads every output of op of case c and compares its bytes with the
 * serial run's. */
void check_outputs(const reference *ref, int c, int op, const tc_tensors *t, unsigned char *scratch,
                   failure_log *log, const char *who)
{
    for (int o = 0; o < t->op->n_out; o++) {
        const size_t nbytes = ref->nbytes[c][op][o];
        const unsigned char *want_bytes = ref->bytes[c][op][o];
        clcnn_status s = clcnn_tensor_read(t->out[o], scratch, nbytes);
        char desc[256];
        if (s != CLCNN_OK) {
            case_desc(&ref->wl, c, desc, sizeof desc);
            note(log, "%s: reading %s %s of %s: %s", who, op_names[op], t->op->out_names[o], desc,
                 clcnn_status_string(s));
            continue;
        }
        if (memcmp(scratch, want_bytes, nbytes) != 0) {
            const size_t es = elem(ref->wl.dtype[c]);
            size_t i = 0;
            while (memcmp(scratch + i * es, want_bytes + i * es, es) == 0)
                i++;
            double got, want;
            if (es == sizeof(double)) {
                memcpy(&got, scratch + i * es, sizeof got);
                memcpy(&want, want_bytes + i * es, sizeof want);
            } else {
                float g, w;
                memcpy(&g, scratch + i * es, sizeof g);
                memcpy(&w, want_bytes + i * es, sizeof w);
                got = g, want = w;
            }
            case_desc(&ref->wl, c, desc, sizeof desc);
            note(log, "%s: %s %s of %s differs from the serial run at element %zu: %.17g, serial %.17g", who,
                 op_names[op], t->op->out_names[o], desc, i, got, want);
        }
    }
}
