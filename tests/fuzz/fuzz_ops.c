/* fuzz_ops.c - libFuzzer target: one public clcnn call per input, checked
 * against the API contract and an independent naive oracle.
 *
 * Contract checked on every input: a call either returns CLCNN_OK with
 * results equal to the oracle, or returns an error status, leaves a message
 * naming the function in clcnn_last_error, and leaves every output byte for
 * byte as it was; inputs are never modified; CLCNN_OK comes back exactly when
 * the oracle finds the call valid, and an invalid call returns
 * CLCNN_ERR_INVALID_ARGUMENT or CLCNN_ERR_SHAPE by the class of its faults
 * (either when it has both kinds). Host backend: results against the naive
 * loops of fuzz_oracle.c (exact for integer and 8.8 fixed-point data except average
 * pooling, else within tests/test_device.c's bound 2 (K + 3) u M). OpenCL
 * backend: the same case also runs on the host backend; the statuses must be
 * equal, the host results must match the oracle, and the OpenCL results must
 * match the host's within that bound (exactly for small integers). Any
 * violation prints the case and calls abort().
 *
 * Input encoding. Bytes are read in order; past the end of the input, bytes
 * come from a xorshift generator seeded by the input length, so every input
 * is a complete case. Decoders: dim(b) = b & 7, negated when b & 0x80 (so
 * -7..7, zero and negatives included); scalar(b) = (int8_t)b when it lies in
 * -16..63, else one of 16 extremes (1000, 65535, 1 << 30, INT_MAX, INT_MIN,
 * ...); enum(b, n) = b % n for b < 0xC0, else an unknown value (n, n + 1,
 * -1, -2, 255, 1000, INT_MAX, INT_MIN).
 *   byte 0  bit 0 backend (0 host, 1 OpenCL), bit 1 dtype (0 F32, 1 F64),
 *           (b >> 2) % 7 the op: 0 zero_pad, 1 conv2d_forward,
 *           2 conv2d_backward, 3 pool2d_forward, 4 pool2d_backward,
 *           5 conv2d_output_shape, 6 pool2d_output_shape.
 *   byte 1  bits 0-1 value encoding: 0 small integers (int8_t)b % 8;
 *           1 the same with 0x80 NaN, 0x81 +inf, 0x82 -inf, 0x83 -0.0;
 *           2 8.8 fixed point (two bytes, little endian);
 *           3 raw IEEE bits of the dtype (4 or 8 bytes, little endian).
 *           bits 2-4 fault: 0 none, 1 NULL tensor, 2 the tensor aliases the
 *           next present argument, 3 the other dtype, 4 made in another
 *           context, 5 NULL ctx, 6-7 none; bits 5-7 the faulty argument
 *           (modulo the op's argument count).
 *   ops 0-4: 4 bytes dim() a_prev / x dims (N, H, W, C), then
 *     zero_pad: scalar() pad;
 *     conv:     dim() fh, fw, n_C; scalar() stride, pad; enum(, 3) algo;
 *               one byte: forward bit 0 = bias present; backward bits 0-2 =
 *               da_prev, dw, db requested;
 *     pool:     dim() f; scalar() stride; enum(, 2) mode;
 *   then one override byte: for each argument i (in the order of the call,
 *   outputs included) with bit i set, 4 dim() bytes replace the shape that
 *   would fit (others get the fitting shape, clamped to >= 1, and made
 *   deliberately wrong when it would exceed 4096 elements or the padded input
 *   1 << 18), then the contents of every tensor in argument order, outputs
 *   too (their old contents), by the value encoding.
 *   ops 5-6: scalar() for every dim (a_prev's 4, conv: w's 4), stride, pad
 *   (conv), f (pool), then enum() algo or mode; fault 1 passes a NULL array.
 *
 * fuzz_decode.c turns the bytes into a case, fuzz_oracle.c says what the
 * call must return, and this file makes the calls and checks them.
 * Built by tests/fuzz/CMakeLists.txt (CLCNN_FUZZ=ON, clang), run by
 * .ci/fuzz.sh on tests/fuzz/corpus (regenerate with make_corpus.py). */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "clcnn.h"
#include "fuzz_ops.h"
#include "ops.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The descriptor of each tensor op (ops 0-4). */
static const tc_op_id tc_ids[OP_CONV_SHAPE] = {TC_ZERO_PAD, TC_CONV_FORWARD, TC_CONV_BACKWARD,
                                               TC_POOL_FORWARD, TC_POOL_BACKWARD};

static const char *const op_fn[N_OPS] = {
    "clcnn_zero_pad",        "clcnn_conv2d_forward",      "clcnn_conv2d_backward",     "clcnn_pool2d_forward",
    "clcnn_pool2d_backward", "clcnn_conv2d_output_shape", "clcnn_pool2d_output_shape",
};

/* Prints the case to stderr, for a contract violation. */
static void describe(const fcase *c)
{
    fprintf(stderr, "fuzz_ops: case: %s, backend %s, dtype %s, values %d, fault %d (arg %d)\n", op_fn[c->op],
            c->use_cl ? "OpenCL" : "host", c->dtype == CLCNN_F64 ? "F64" : "F32", c->vmode, c->fault,
            c->nslots ? c->fslot % c->nslots : c->fslot % 3);
    fprintf(stderr, "  pad %d stride %d f %d algo %d mode %d\n", c->pad, c->stride, c->f, c->algo, c->mode);
    if (c->op >= OP_CONV_SHAPE)
        fprintf(stderr, "  a_prev_dims (%d, %d, %d, %d) w_dims (%d, %d, %d, %d)\n", c->adims[0], c->adims[1],
                c->adims[2], c->adims[3], c->wdims[0], c->wdims[1], c->wdims[2], c->wdims[3]);
    for (int s = 0; s < c->nslots; s++) {
        const int *d = c->dims[s];
        fprintf(stderr, "  %-7s %s%s (%d, %d, %d, %d)%s%s%s%s\n", c->name[s], c->out[s] ? "out" : "in ",
                c->present[s] ? "" : " NULL", d[0], d[1], d[2], d[3], c->owner[s] != s ? " alias of " : "",
                c->owner[s] != s ? c->name[c->owner[s]] : "", c->foreign[s] ? " foreign" : "",
                c->dt[s] != c->dtype ? " other dtype" : "");
    }
}

/* libFuzzer's SIGABRT handler, saved before the first context is made:
 * PoCL's LLVM installs its own when an OpenCL context is created, and that
 * one ends the process without libFuzzer saving the input. */
static struct sigaction g_abrt;
static int g_abrt_saved;

static void die(void)
{
    if (g_abrt_saved)
        sigaction(SIGABRT, &g_abrt, NULL);
    abort();
}

#define FAIL(c, ...)                                                                                         \
    do {                                                                                                     \
        describe(c);                                                                                         \
        fprintf(stderr, "fuzz_ops: CONTRACT VIOLATION: " __VA_ARGS__);                                       \
        fprintf(stderr, "\n");                                                                               \
        die();                                                                                               \
    } while (0)

static void check_message(const fcase *c, const char *msg, const char *fn, clcnn_status s)
{
    if (!msg || !*msg)
        FAIL(c, "%s returned %s with an empty clcnn_last_error", fn, clcnn_status_string(s));
    if (!strstr(msg, fn))
        FAIL(c, "%s returned %s; clcnn_last_error does not name it: \"%s\"", fn, clcnn_status_string(s), msg);
}

/* ------------------------------------------------------ output shapes ---- */

static void run_shape_op(const fcase *c)
{
    const int conv = c->op == OP_CONV_SHAPE;
    const char *fn = op_fn[c->op];
    int inv = 0, shp = 0, want[4] = {0}, have = 0;
    const int null_arg = c->fault == F_NULL ? c->fslot % (conv ? 3 : 2) : -1;
    if (null_arg >= 0) {
        inv = 1;
    } else if (!valid_dims(c->adims) || (conv && !valid_dims(c->wdims)) || c->stride < 1) {
        inv = 1;
    } else if (conv) {
        if (c->pad < 0 || c->algo < 0 || c->algo > 2)
            inv = 1;
        else
            fuzz_conv_out(c->adims, c->wdims, c->stride, c->pad, &inv, &shp, want, &have);
    } else {
        if (c->f < 1 || c->mode < 0 || c->mode > 1)
            inv = 1;
        else
            fuzz_pool_out(c->adims, c->f, c->stride, &shp, want, &have);
    }
    int out[4] = {-77, -77, -77, -77};
    const int *ap = null_arg == 0 ? NULL : c->adims, *wp = null_arg == 1 ? NULL : c->wdims;
    int *op = null_arg == (conv ? 2 : 1) ? NULL : out;
    clcnn_status s;
    if (conv) {
        clcnn_conv_params p = {c->stride, c->pad, (clcnn_conv_algo)c->algo};
        s = clcnn_conv2d_output_shape(ap, wp, p, op);
    } else {
        clcnn_pool_params p = {c->f, c->stride, (clcnn_pool_mode)c->mode};
        s = clcnn_pool2d_output_shape(ap, p, op);
    }
    if (!fuzz_status_allowed(s, inv, shp))
        FAIL(c, "%s returned %s; expected %s", fn, clcnn_status_string(s),
             inv && shp ? "INVALID_ARGUMENT or SHAPE"
             : inv      ? "INVALID_ARGUMENT"
             : shp      ? "SHAPE"
                        : "OK");
    if (s == CLCNN_OK) {
        if (!have || !same4(out, want))
            FAIL(c, "%s gave (%d, %d, %d, %d); expected (%d, %d, %d, %d)", fn, out[0], out[1], out[2], out[3],
                 want[0], want[1], want[2], want[3]);
    } else {
        const int untouched[4] = {-77, -77, -77, -77};
        if (!same4(out, untouched))
            FAIL(c, "%s failed but changed out_dims", fn);
        check_message(c, clcnn_last_error(NULL), fn, s);
    }
}

/* --------------------------------------------------------------- runs ---- */

static clcnn_context *g_host, *g_other, *g_cl;
static int g_cl_tried, g_cl_fp64;

static clcnn_context *make_context(clcnn_backend backend)
{
    clcnn_options o = {backend, NULL};
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(&o, &ctx) != CLCNN_OK)
        return NULL;
    return ctx;
}

static void init_contexts(void)
{
    if (!g_host) {
        g_host = make_context(CLCNN_BACKEND_HOST);
        g_other = make_context(CLCNN_BACKEND_HOST);
        if (!g_host || !g_other) {
            fprintf(stderr, "fuzz_ops: cannot create a host context: %s\n", clcnn_last_error(NULL));
            abort();
        }
    }
    if (!g_cl_tried) {
        g_cl_tried = 1;
        g_cl = make_context(CLCNN_BACKEND_OPENCL);
        if (!g_cl) {
            fprintf(stderr, "fuzz_ops: no OpenCL context (%s); OpenCL cases run on the host only\n",
                    clcnn_last_error(NULL));
            return;
        }
        clcnn_tensor *x = NULL, *y = NULL;
        clcnn_tensor_create(g_cl, CLCNN_F64, 1, 1, 1, 1, &x);
        clcnn_tensor_create(g_cl, CLCNN_F64, 1, 1, 1, 1, &y);
        g_cl_fp64 = clcnn_zero_pad(g_cl, x, 0, y) == CLCNN_OK;
        clcnn_tensor_destroy(x);
        clcnn_tensor_destroy(y);
        if (!g_cl_fp64)
            fprintf(stderr, "fuzz_ops: the OpenCL device has no F64; F64 cases run on the host only\n");
    }
}

static size_t elem_size(clcnn_dtype dt)
{
    return dt == CLCNN_F64 ? 8 : 4;
}

/* The outcome of one call on one context. */
typedef struct {
    clcnn_status st;
    double *res[MAX_SLOTS]; /* outputs read back after CLCNN_OK, as doubles */
} outcome;

static void free_outcome(outcome *o)
{
    for (int s = 0; s < MAX_SLOTS; s++)
        free(o->res[s]);
}

static unsigned char *read_bytes(const fcase *c, const clcnn_tensor *t, size_t nbytes)
{
    unsigned char *p = malloc(nbytes);
    if (!p)
        abort();
    clcnn_status s = clcnn_tensor_read(t, p, nbytes);
    if (s != CLCNN_OK)
        FAIL(c, "clcnn_tensor_read returned %s", clcnn_status_string(s));
    return p;
}

/* Makes the tensors in ctx, calls the op, and checks the contract parts that
 * need no oracle. Returns 0 when a tensor could not be created (checked to
 * fail as it must; the op is then not called). */
static int run_on(clcnn_context *ctx, const fcase *c, int inv, int shp, outcome *o)
{
    clcnn_tensor *t[MAX_SLOTS] = {0};
    unsigned char *before[MAX_SLOTS] = {0};
    size_t nbytes[MAX_SLOTS] = {0};
    int ok = 1;
    memset(o, 0, sizeof *o);
    for (int s = 0; s < c->nslots && ok; s++) {
        if (!c->present[s] || c->owner[s] != s)
            continue;
        clcnn_context *in = c->foreign[s] ? g_other : ctx;
        const int *d = c->dims[s];
        clcnn_tensor *sentinel = (clcnn_tensor *)&sentinel, *made = sentinel;
        clcnn_status st = clcnn_tensor_create(in, c->dt[s], d[0], d[1], d[2], d[3], &made);
        if (valid_dims(d)) {
            if (st != CLCNN_OK || made == sentinel || !made)
                FAIL(c, "clcnn_tensor_create (%d, %d, %d, %d) returned %s", d[0], d[1], d[2], d[3],
                     clcnn_status_string(st));
            t[s] = made;
            continue;
        }
        if (st != CLCNN_ERR_INVALID_ARGUMENT || made != sentinel)
            FAIL(c, "clcnn_tensor_create (%d, %d, %d, %d) returned %s%s", d[0], d[1], d[2], d[3],
                 clcnn_status_string(st), made != sentinel ? " and changed *out" : "");
        check_message(c, clcnn_last_error(in), "clcnn_tensor_create", st);
        ok = 0;
    }
    if (ok) {
        for (int s = 0; s < c->nslots; s++) {
            if (!c->present[s] || c->owner[s] != s)
                continue;
            const size_t n = (size_t)count4(c->dims[s]), es = elem_size(c->dt[s]);
            unsigned char *buf = malloc(n * es);
            if (!buf)
                abort();
            for (size_t e = 0; e < n; e++) {
                if (es == 8) {
                    memcpy(buf + e * 8, &c->val[s][e], 8);
                } else {
                    float f = (float)c->val[s][e];
                    memcpy(buf + e * 4, &f, 4);
                }
            }
            clcnn_status st = clcnn_tensor_write(t[s], buf, n * es);
            free(buf);
            if (st != CLCNN_OK)
                FAIL(c, "clcnn_tensor_write returned %s", clcnn_status_string(st));
            nbytes[s] = n * es;
            before[s] = read_bytes(c, t[s], nbytes[s]);
        }
        clcnn_tensor *arg[MAX_SLOTS] = {0};
        for (int s = 0; s < c->nslots; s++)
            arg[s] = c->present[s] ? t[c->owner[s]] : NULL;
        clcnn_context *call_ctx = c->fault == F_NULL_CTX ? NULL : ctx;
        /* the call through the op's descriptor (tests/ops.h), whose slots
         * are the case's: inputs, then outputs, in the call's order */
        const tc_op *op = tc_op_of(tc_ids[c->op]);
        tc_shape sh = {0};
        sh.stride = c->stride, sh.pad = c->pad, sh.fh = sh.fw = c->f;
        sh.algo = (clcnn_conv_algo)c->algo, sh.mode = (clcnn_pool_mode)c->mode;
        o->st = op->run(call_ctx, &sh, arg, arg + op->n_in);
        const char *fn = op_fn[c->op];
        const int skip_status = o->st == CLCNN_ERR_UNSUPPORTED &&
                                clcnn_context_backend(ctx) == CLCNN_BACKEND_OPENCL && c->dtype == CLCNN_F64 &&
                                !g_cl_fp64;
        if (!skip_status && !fuzz_status_allowed(o->st, inv, shp))
            FAIL(c, "%s on %s returned %s (\"%s\"); expected %s", fn, clcnn_context_device_name(ctx),
                 clcnn_status_string(o->st), o->st ? clcnn_last_error(call_ctx) : "",
                 inv && shp ? "INVALID_ARGUMENT or SHAPE"
                 : inv      ? "INVALID_ARGUMENT"
                 : shp      ? "SHAPE"
                            : "OK");
        if (o->st != CLCNN_OK)
            check_message(c, clcnn_last_error(call_ctx), fn, o->st);
        for (int s = 0; s < c->nslots; s++) {
            if (!before[s])
                continue;
            unsigned char *after = read_bytes(c, t[s], nbytes[s]);
            const int changed = memcmp(after, before[s], nbytes[s]) != 0;
            if (changed && (!c->out[s] || o->st != CLCNN_OK)) {
                free(after);
                FAIL(c, "%s returned %s and changed %s %s", fn, clcnn_status_string(o->st),
                     c->out[s] ? "output" : "input", c->name[s]);
            }
            if (c->out[s] && o->st == CLCNN_OK) {
                const size_t n = (size_t)count4(c->dims[s]);
                o->res[s] = malloc(n * sizeof(double) + 1);
                if (!o->res[s])
                    abort();
                for (size_t e = 0; e < n; e++) {
                    if (c->dt[s] == CLCNN_F64) {
                        memcpy(&o->res[s][e], after + e * 8, 8);
                    } else {
                        float f;
                        memcpy(&f, after + e * 4, 4);
                        o->res[s][e] = f;
                    }
                }
            }
            free(after);
        }
    }
    for (int s = 0; s < c->nslots; s++) {
        clcnn_tensor_destroy(t[s]);
        free(before[s]);
    }
    return ok;
}

/* got (from_cl: OpenCL results, ref the host's; else the host's, ref the
 * oracle) against the oracle's terms. */
static void compare(const fcase *c, const outcome *got, const outcome *ref, acc *const want[MAX_SLOTS],
                    int from_cl)
{
    for (int s = 0; s < c->nslots; s++) {
        if (!c->out[s] || !c->present[s])
            continue;
        const size_t n = (size_t)count4(c->dims[s]);
        const int exact = fuzz_exact_results(c, s, from_cl);
        for (size_t e = 0; e < n; e++) {
            const acc *a = &want[s][e];
            double r = from_cl ? ref->res[s][e] : a->sum;
            if (!from_cl && c->dtype == CLCNN_F32)
                r = (double)(float)r;
            if (!fuzz_close_enough(got->res[s][e], r, a, exact, c->dtype))
                FAIL(c, "%s %s element %zu: %s %.17g, %s %.17g (terms %d, sum|terms| %.17g%s%s%s)",
                     op_fn[c->op], c->name[s], e, from_cl ? "OpenCL" : "host", got->res[s][e],
                     from_cl ? "host" : "oracle", r, a->k, a->fmag, a->nan ? ", NaN term" : "",
                     a->pinf ? ", +inf term" : "", a->ninf ? ", -inf term" : "");
        }
    }
}

static void run_tensor_op(const fcase *c)
{
    int inv, shp;
    fuzz_expect_tensor_op(c, &inv, &shp);
    if (!inv && !shp) {
        /* valid: only run sizes the fuzzer can afford (fuzz_decode() keeps the
         * fitting shapes small; overridden ones may still fit a big pad) */
        const int *a = sh(c, c->op == OP_PAD || c->op == OP_CONV_FWD || c->op == OP_POOL_FWD ? 0 : 1);
        double padded = (double)a[0] * a[3] * ((double)a[1] + 2.0 * c->pad) * ((double)a[2] + 2.0 * c->pad);
        if (c->pad > 0 && padded > (double)CAP_PADDED)
            return;
        for (int s = 0; s < c->nslots; s++)
            if (count4(c->dims[s]) > CAP_ELEMS)
                return;
    }
    const int use_cl = c->use_cl && g_cl && (c->dtype == CLCNN_F32 || g_cl_fp64);
    outcome host, cl;
    if (!run_on(g_host, c, inv, shp, &host))
        return;
    if (use_cl) {
        if (!run_on(g_cl, c, inv, shp, &cl))
            FAIL(c, "a tensor was created on the host backend but not on OpenCL");
        if (cl.st != host.st)
            FAIL(c, "%s returned %s on OpenCL but %s on the host", op_fn[c->op], clcnn_status_string(cl.st),
                 clcnn_status_string(host.st));
    }
    if (host.st == CLCNN_OK) {
        acc *want[MAX_SLOTS] = {0};
        fuzz_oracle(c, want);
        compare(c, &host, NULL, want, 0);
        if (use_cl)
            compare(c, &cl, &host, want, 1);
        for (int s = 0; s < MAX_SLOTS; s++)
            free(want[s]);
    }
    free_outcome(&host);
    if (use_cl)
        free_outcome(&cl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_abrt_saved)
        g_abrt_saved = sigaction(SIGABRT, NULL, &g_abrt) == 0;
    reader r = {data, size, 0, 0x9E3779B97F4A7C15ULL ^ (uint64_t)size};
    fcase c;
    fuzz_decode(&r, &c);
    if (c.op == OP_CONV_SHAPE || c.op == OP_POOL_SHAPE) {
        run_shape_op(&c);
    } else {
        init_contexts();
        run_tensor_op(&c);
    }
    fuzz_free_case(&c);
    return 0;
}
