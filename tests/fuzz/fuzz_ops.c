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
 * loops below (exact for integer and 8.8 fixed-point data except average
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
 * Built by tests/fuzz/CMakeLists.txt (CLCNN_FUZZ=ON, clang), run by
 * .ci/fuzz.sh on tests/fuzz/corpus (regenerate with make_corpus.py). */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "clcnn.h"
#include "ops.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS 6
#define CAP_ELEMS 4096        /* largest fitting output shape the decoder makes */
#define CAP_PADDED (1L << 18) /* largest padded input a valid conv may need */

enum { OP_PAD, OP_CONV_FWD, OP_CONV_BWD, OP_POOL_FWD, OP_POOL_BWD, OP_CONV_SHAPE, OP_POOL_SHAPE, N_OPS };
enum { F_NONE, F_NULL, F_ALIAS, F_DTYPE, F_CTX, F_NULL_CTX };
enum { V_INT, V_SPECIAL, V_FIXED, V_RAW };

/* The descriptor of each tensor op (ops 0-4). */
static const tc_op_id tc_ids[OP_CONV_SHAPE] = {TC_ZERO_PAD, TC_CONV_FORWARD, TC_CONV_BACKWARD,
                                               TC_POOL_FORWARD, TC_POOL_BACKWARD};

static const char *const op_fn[N_OPS] = {
    "clcnn_zero_pad",        "clcnn_conv2d_forward",      "clcnn_conv2d_backward",     "clcnn_pool2d_forward",
    "clcnn_pool2d_backward", "clcnn_conv2d_output_shape", "clcnn_pool2d_output_shape",
};

/* ------------------------------------------------------------ decoding --- */

typedef struct {
    const uint8_t *p;
    size_t n, i;
    uint64_t x;
} reader;

static uint8_t next(reader *r)
{
    if (r->i < r->n)
        return r->p[r->i++];
    r->x ^= r->x << 13;
    r->x ^= r->x >> 7;
    r->x ^= r->x << 17;
    return (uint8_t)(r->x >> 32);
}

static int dec_dim(uint8_t b)
{
    int d = b & 7;
    return (b & 0x80) ? -d : d;
}

static int dec_scalar(uint8_t b)
{
    static const int big[16] = {
        64,          100,     1000,    65535,       1 << 20, 1 << 30, INT_MAX / 2, INT_MAX / 2 + 1,
        INT_MAX - 1, INT_MAX, INT_MIN, INT_MIN + 1, -1000,   -65536,  -(1 << 30),  -17};
    int v = (int8_t)b;
    return (v >= -16 && v <= 63) ? v : big[b & 15];
}

static int dec_enum(uint8_t b, int n)
{
    const int unknown[8] = {n, n + 1, -1, -2, 255, 1000, INT_MAX, INT_MIN};
    return b < 0xC0 ? b % n : unknown[b & 7];
}

/* One value of encoding mode, rounded to dtype. */
static double dec_value(reader *r, int mode, clcnn_dtype dt)
{
    double v;
    uint8_t b = next(r);
    switch (mode) {
    case V_SPECIAL:
        if (b == 0x80)
            return NAN;
        if (b == 0x81 || b == 0x82)
            return b == 0x81 ? INFINITY : -INFINITY;
        if (b == 0x83)
            return -0.0;
        /* fall through */
    case V_INT: v = (double)((int8_t)b % 8); break;
    case V_FIXED: v = (double)(int16_t)(uint16_t)(b | (unsigned)next(r) << 8) / 256.0; break;
    default: {
        uint64_t bits = b;
        int nb = dt == CLCNN_F64 ? 8 : 4;
        for (int i = 1; i < nb; i++)
            bits |= (uint64_t)next(r) << (8 * i);
        if (dt == CLCNN_F64) {
            memcpy(&v, &bits, 8);
        } else {
            uint32_t u = (uint32_t)bits;
            float f;
            memcpy(&f, &u, 4);
            v = f;
        }
    }
    }
    return dt == CLCNN_F32 ? (double)(float)v : v;
}

/* ---------------------------------------------------------------- case --- */

typedef struct {
    int op, use_cl, vmode, fault, fslot;
    clcnn_dtype dtype;
    int pad, stride, f, algo, mode;
    /* ops 5-6 */
    int adims[4], wdims[4];
    /* ops 0-4: the call's tensor arguments ("slots") */
    int nslots;
    const char *name[MAX_SLOTS];
    int out[MAX_SLOTS], optional[MAX_SLOTS], present[MAX_SLOTS], owner[MAX_SLOTS], foreign[MAX_SLOTS];
    clcnn_dtype dt[MAX_SLOTS];
    int dims[MAX_SLOTS][4];
    double *val[MAX_SLOTS]; /* initial contents of the slots that own a tensor */
} fcase;

/* n*h*w*c; dims may be anything (negative, INT_MAX): saturates. */
static long long count4(const int d[4])
{
    __int128 n = (__int128)d[0] * d[1] * d[2] * d[3];
    return n > LLONG_MAX ? LLONG_MAX : n < LLONG_MIN ? LLONG_MIN : (long long)n;
}

/* floor((n + 2 pad - f) / stride) + 1, clamped to 1..INT_MAX (1 when the
 * parameters make no sense: the call is invalid then anyway). */
static int fit_len(long long n, long long f, long long pad, long long stride)
{
    if (stride < 1)
        return 1;
    long long num = n + 2 * pad - f;
    long long q = num >= 0 ? num / stride : -((-num + stride - 1) / stride);
    long long v = q + 1;
    return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
}

static void set4(int d[4], int a, int b, int c, int e)
{
    d[0] = a, d[1] = b, d[2] = c, d[3] = e;
}

static void slot(fcase *c, int s, const char *name, int out, int optional, int present)
{
    c->name[s] = name;
    c->out[s] = out;
    c->optional[s] = optional;
    c->present[s] = present;
    c->owner[s] = s;
    c->foreign[s] = 0;
    c->dt[s] = c->dtype;
}

/* A fitting shape that is too large for the fuzzer becomes a wrong one. */
static void cap_shape(int d[4], int too_big)
{
    if (too_big || count4(d) > CAP_ELEMS)
        d[1] = d[1] == 1 ? 2 : 1;
    if (count4(d) > CAP_ELEMS)
        set4(d, 1, 1, 1, 1);
}

static void decode(reader *r, fcase *c)
{
    memset(c, 0, sizeof *c);
    uint8_t cfg = next(r);
    c->use_cl = cfg & 1;
    c->dtype = (cfg >> 1) & 1 ? CLCNN_F64 : CLCNN_F32;
    c->op = (cfg >> 2) % N_OPS;
    uint8_t m = next(r);
    c->vmode = m & 3;
    c->fault = (m >> 2) & 7;
    c->fslot = m >> 5;

    if (c->op == OP_CONV_SHAPE || c->op == OP_POOL_SHAPE) {
        for (int i = 0; i < 4; i++)
            c->adims[i] = dec_scalar(next(r));
        if (c->op == OP_CONV_SHAPE) {
            for (int i = 0; i < 4; i++)
                c->wdims[i] = dec_scalar(next(r));
            c->stride = dec_scalar(next(r));
            c->pad = dec_scalar(next(r));
            c->algo = dec_enum(next(r), 3);
        } else {
            c->f = dec_scalar(next(r));
            c->stride = dec_scalar(next(r));
            c->mode = dec_enum(next(r), 2);
        }
        return;
    }

    int a[4];
    for (int i = 0; i < 4; i++)
        a[i] = dec_dim(next(r));
    int fh = 0, fw = 0, cout = 0, sel = 0;
    switch (c->op) {
    case OP_PAD: c->pad = dec_scalar(next(r)); break;
    case OP_CONV_FWD:
    case OP_CONV_BWD:
        fh = dec_dim(next(r)), fw = dec_dim(next(r)), cout = dec_dim(next(r));
        c->stride = dec_scalar(next(r));
        c->pad = dec_scalar(next(r));
        c->algo = dec_enum(next(r), 3);
        sel = next(r);
        break;
    default:
        c->f = dec_dim(next(r));
        c->stride = dec_scalar(next(r));
        c->mode = dec_enum(next(r), 2);
    }

    /* The fitting shapes. */
    const double pos[4] = {a[0] > 0 ? a[0] : 1, a[1] > 0 ? a[1] : 1, a[2] > 0 ? a[2] : 1,
                           a[3] > 0 ? a[3] : 1};
    const double p = c->pad > 0 ? c->pad : 0;
    const int too_big_pad = pos[0] * pos[3] * (pos[1] + 2 * p) * (pos[2] + 2 * p) > (double)CAP_PADDED;
    int o[4];
    switch (c->op) {
    case OP_PAD:
        c->nslots = 2;
        slot(c, 0, "x", 0, 0, 1);
        slot(c, 1, "x_pad", 1, 0, 1);
        memcpy(c->dims[0], a, sizeof a);
        set4(o, a[0], fit_len(a[1], 1, c->pad, 1), fit_len(a[2], 1, c->pad, 1), a[3]); /* n + 2 pad */
        memcpy(c->dims[1], o, sizeof o);
        cap_shape(c->dims[1], 0);
        break;
    case OP_CONV_FWD:
    case OP_CONV_BWD: {
        set4(o, a[0], fit_len(a[1], fh, c->pad, c->stride), fit_len(a[2], fw, c->pad, c->stride), cout);
        cap_shape(o, too_big_pad);
        int w[4] = {fh, fw, a[3], cout}, b[4] = {1, 1, 1, cout};
        if (c->op == OP_CONV_FWD) {
            c->nslots = 4;
            slot(c, 0, "a_prev", 0, 0, 1);
            slot(c, 1, "w", 0, 0, 1);
            slot(c, 2, "b", 0, 1, sel & 1);
            slot(c, 3, "z", 1, 0, 1);
            memcpy(c->dims[0], a, sizeof a);
            memcpy(c->dims[1], w, sizeof w);
            memcpy(c->dims[2], b, sizeof b);
            memcpy(c->dims[3], o, sizeof o);
        } else {
            c->nslots = 6;
            slot(c, 0, "dz", 0, 0, 1);
            slot(c, 1, "a_prev", 0, 0, 1);
            slot(c, 2, "w", 0, 0, 1);
            slot(c, 3, "da_prev", 1, 1, sel & 1);
            slot(c, 4, "dw", 1, 1, (sel >> 1) & 1);
            slot(c, 5, "db", 1, 1, (sel >> 2) & 1);
            memcpy(c->dims[0], o, sizeof o);
            memcpy(c->dims[1], a, sizeof a);
            memcpy(c->dims[2], w, sizeof w);
            memcpy(c->dims[3], a, sizeof a);
            memcpy(c->dims[4], w, sizeof w);
            memcpy(c->dims[5], b, sizeof b);
        }
        break;
    }
    default:
        set4(o, a[0], fit_len(a[1], c->f, 0, c->stride), fit_len(a[2], c->f, 0, c->stride), a[3]);
        cap_shape(o, 0);
        if (c->op == OP_POOL_FWD) {
            c->nslots = 2;
            slot(c, 0, "a_prev", 0, 0, 1);
            slot(c, 1, "a", 1, 0, 1);
            memcpy(c->dims[0], a, sizeof a);
            memcpy(c->dims[1], o, sizeof o);
        } else {
            c->nslots = 3;
            slot(c, 0, "da", 0, 0, 1);
            slot(c, 1, "a_prev", 0, 0, 1);
            slot(c, 2, "da_prev", 1, 0, 1);
            memcpy(c->dims[0], o, sizeof o);
            memcpy(c->dims[1], a, sizeof a);
            memcpy(c->dims[2], a, sizeof a);
        }
    }

    uint8_t ov = next(r);
    for (int s = 0; s < c->nslots; s++)
        if ((ov >> s) & 1)
            for (int i = 0; i < 4; i++)
                c->dims[s][i] = dec_dim(next(r));

    const int fs = c->fslot % c->nslots;
    switch (c->fault) {
    case F_NULL: c->present[fs] = 0; break;
    case F_ALIAS:
        for (int k = 1; k < c->nslots; k++) {
            int t = (fs + k) % c->nslots;
            if (c->present[t]) {
                c->owner[fs] = t;
                c->present[fs] = 1;
                break;
            }
        }
        break;
    case F_DTYPE: c->dt[fs] = c->dtype == CLCNN_F64 ? CLCNN_F32 : CLCNN_F64; break;
    case F_CTX: c->foreign[fs] = 1; break;
    default: break;
    }

    for (int s = 0; s < c->nslots; s++) {
        const int *d = c->dims[s];
        if (!c->present[s] || c->owner[s] != s || d[0] < 1 || d[1] < 1 || d[2] < 1 || d[3] < 1)
            continue;
        size_t n = (size_t)count4(d);
        c->val[s] = malloc(n * sizeof(double));
        if (!c->val[s])
            abort();
        for (size_t e = 0; e < n; e++)
            c->val[s][e] = dec_value(r, c->vmode, c->dt[s]);
    }
}

static void free_case(fcase *c)
{
    for (int s = 0; s < MAX_SLOTS; s++)
        free(c->val[s]);
}

static const int *sh(const fcase *c, int s)
{
    return c->dims[c->owner[s]];
}

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

/* -------------------------------------------------- expected status ------ */

/* Which kinds of fault the call has: *inv (CLCNN_ERR_INVALID_ARGUMENT) and
 * *shp (CLCNN_ERR_SHAPE). Argument faults (NULL, context, dtype, aliasing)
 * and bad scalars come before shapes, so they alone decide. */
static int valid_dims(const int d[4])
{
    return d[0] >= 1 && d[1] >= 1 && d[2] >= 1 && d[3] >= 1;
}

static int same4(const int a[4], const int b[4])
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* The conv output shape of a and w, or why not. */
static void conv_out(const int a[4], const int w[4], int stride, int pad, int *inv, int *shp, int z[4],
                     int *have_z)
{
    *have_z = 0;
    if (w[2] != a[3])
        *shp = 1;
    long long ph = (long long)a[1] + 2LL * pad, pw = (long long)a[2] + 2LL * pad;
    int ok = 1;
    if (w[0] > ph || w[1] > pw)
        *shp = 1, ok = 0;
    if (ph > INT_MAX || pw > INT_MAX)
        *inv = 1, ok = 0;
    if (ok) {
        /* the padded input's byte count must fit size_t */
        unsigned __int128 bytes = (unsigned __int128)a[0] * (unsigned long long)ph * (unsigned long long)pw *
                                  (unsigned long long)a[3] * sizeof(double);
        if (bytes > SIZE_MAX)
            *inv = 1, ok = 0;
    }
    if (ok && w[2] == a[3]) {
        set4(z, a[0], (int)((ph - w[0]) / stride + 1), (int)((pw - w[1]) / stride + 1), w[3]);
        *have_z = 1;
    }
}

static void pool_out(const int a[4], int f, int stride, int *shp, int o[4], int *have_o)
{
    *have_o = 0;
    if (f > a[1] || f > a[2]) {
        *shp = 1;
        return;
    }
    set4(o, a[0], (a[1] - f) / stride + 1, (a[2] - f) / stride + 1, a[3]);
    *have_o = 1;
}

static void expect_tensor_op(const fcase *c, int *inv, int *shp)
{
    *inv = *shp = 0;
    if (c->fault == F_NULL_CTX)
        *inv = 1;
    for (int s = 0; s < c->nslots; s++) {
        if (!c->present[s]) {
            if (!c->optional[s])
                *inv = 1;
            continue;
        }
        if (c->foreign[c->owner[s]])
            *inv = 1;
        if (c->present[0] && c->dt[c->owner[s]] != c->dt[c->owner[0]])
            *inv = 1;
        if (c->out[s])
            for (int i = 0; i < c->nslots; i++)
                if (i != s && c->present[i] && c->owner[i] == c->owner[s])
                    *inv = 1;
    }
    if (*inv)
        return;
    int o[4], have = 0;
    switch (c->op) {
    case OP_PAD: {
        if (c->pad < 0) {
            *inv = 1;
            return;
        }
        const int *x = sh(c, 0);
        long long ph = (long long)x[1] + 2LL * c->pad, pw = (long long)x[2] + 2LL * c->pad;
        if (ph > INT_MAX || pw > INT_MAX) {
            *inv = 1;
            return;
        }
        set4(o, x[0], (int)ph, (int)pw, x[3]);
        if (!same4(sh(c, 1), o))
            *shp = 1;
        return;
    }
    case OP_CONV_FWD:
    case OP_CONV_BWD: {
        if (c->stride < 1 || c->pad < 0 || c->algo < 0 || c->algo > 2) {
            *inv = 1;
            return;
        }
        const int fwd = c->op == OP_CONV_FWD;
        const int *a = sh(c, fwd ? 0 : 1), *w = sh(c, fwd ? 1 : 2);
        int b[4] = {1, 1, 1, w[3]};
        conv_out(a, w, c->stride, c->pad, inv, shp, o, &have);
        if (fwd) {
            if (c->present[2] && !same4(sh(c, 2), b))
                *shp = 1;
            if (have && !same4(sh(c, 3), o))
                *shp = 1;
        } else {
            if (have && !same4(sh(c, 0), o))
                *shp = 1;
            if ((c->present[3] && !same4(sh(c, 3), a)) || (c->present[4] && !same4(sh(c, 4), w)) ||
                (c->present[5] && !same4(sh(c, 5), b)))
                *shp = 1;
        }
        return;
    }
    default: {
        if (c->f < 1 || c->stride < 1 || c->mode < 0 || c->mode > 1) {
            *inv = 1;
            return;
        }
        const int fwd = c->op == OP_POOL_FWD;
        const int *a = sh(c, fwd ? 0 : 1);
        pool_out(a, c->f, c->stride, shp, o, &have);
        if (have && !same4(sh(c, fwd ? 1 : 0), o))
            *shp = 1;
        if (!fwd && !same4(sh(c, 2), a))
            *shp = 1;
    }
    }
}

static int status_allowed(clcnn_status s, int inv, int shp)
{
    if (!inv && !shp)
        return s == CLCNN_OK;
    if (inv && shp)
        return s == CLCNN_ERR_INVALID_ARGUMENT || s == CLCNN_ERR_SHAPE;
    return s == (inv ? CLCNN_ERR_INVALID_ARGUMENT : CLCNN_ERR_SHAPE);
}

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
            conv_out(c->adims, c->wdims, c->stride, c->pad, &inv, &shp, want, &have);
    } else {
        if (c->f < 1 || c->mode < 0 || c->mode > 1)
            inv = 1;
        else
            pool_out(c->adims, c->f, c->stride, &shp, want, &have);
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
    if (!status_allowed(s, inv, shp))
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

/* -------------------------------------------------------------- oracle --- */

/* One output element: the exact sum in double of its terms, and what is
 * known about them whatever the order they are added in. */
typedef struct {
    double sum;     /* the terms added in double, in the definition's order */
    double fmag;    /* sum of |finite terms| */
    int k;          /* number of terms */
    int nan;        /* a NaN term: the result is NaN in any order */
    int pinf, ninf; /* an infinite term (from an infinite input) */
    int ovf;        /* a product of finite values overflowed: with other orders or fused
                     * multiply-adds, anything may come out */
} acc;

static void add(acc *a, double t)
{
    a->k++;
    a->sum += t;
    if (isnan(t))
        a->nan = 1;
    else if (isinf(t))
        *(t > 0 ? &a->pinf : &a->ninf) = 1;
    else
        a->fmag += fabs(t);
}

/* The term x * y: an infinity from finite factors is an overflow, not an
 * infinite term. */
static void add_prod(acc *a, double x, double y)
{
    const double t = x * y;
    if (isinf(t) && isfinite(x) && isfinite(y)) {
        a->ovf = 1;
        a->k++;
        a->sum += t;
        return;
    }
    add(a, t);
}

static size_t at(const int d[4], int i, int y, int x, int k)
{
    return (((size_t)i * (size_t)d[1] + (size_t)y) * (size_t)d[2] + (size_t)x) * (size_t)d[3] + (size_t)k;
}

/* Naive definitions, straight from the header's formulas. want[s] gets one
 * acc per element of each output slot s. */
static void oracle(const fcase *c, acc *want[MAX_SLOTS])
{
    /* every output the call could have, in its proper shape, requested or not */
    for (int s = 0; s < c->nslots; s++)
        if (c->out[s]) {
            const int *d = c->dims[s];
            if (c->op == OP_CONV_BWD)
                d = s == 3 ? sh(c, 1) : s == 4 ? sh(c, 2) : (const int[4]){1, 1, 1, sh(c, 2)[3]};
            want[s] = calloc((size_t)count4(d) + 1, sizeof(acc));
            if (!want[s])
                abort();
        }
    const int P = c->pad, S = c->stride;
    switch (c->op) {
    case OP_PAD: {
        const int *xd = sh(c, 0), *pd = c->dims[1];
        const double *x = c->val[c->owner[0]];
        for (int i = 0; i < pd[0]; i++)
            for (int y = 0; y < pd[1]; y++)
                for (int xx = 0; xx < pd[2]; xx++)
                    for (int k = 0; k < pd[3]; k++) {
                        int sy = y - P, sx = xx - P;
                        int in = sy >= 0 && sy < xd[1] && sx >= 0 && sx < xd[2];
                        add(&want[1][at(pd, i, y, xx, k)], in ? x[at(xd, i, sy, sx, k)] : 0.0);
                    }
        break;
    }
    case OP_CONV_FWD:
    case OP_CONV_BWD: {
        const int fwd = c->op == OP_CONV_FWD;
        const int *ad = sh(c, fwd ? 0 : 1), *wd = sh(c, fwd ? 1 : 2);
        const double *a = c->val[c->owner[fwd ? 0 : 1]], *w = c->val[c->owner[fwd ? 1 : 2]];
        const double *b = fwd && c->present[2] ? c->val[c->owner[2]] : NULL;
        const double *dz = fwd ? NULL : c->val[c->owner[0]];
        int zd[4];
        set4(zd, ad[0], (ad[1] + 2 * P - wd[0]) / S + 1, (ad[2] + 2 * P - wd[1]) / S + 1, wd[3]);
        for (int i = 0; i < zd[0]; i++)
            for (int h = 0; h < zd[1]; h++)
                for (int x = 0; x < zd[2]; x++)
                    for (int co = 0; co < zd[3]; co++) {
                        acc *z = fwd ? &want[3][at(zd, i, h, x, co)] : NULL;
                        const double g = fwd ? 0.0 : dz[at(zd, i, h, x, co)];
                        for (int fy = 0; fy < wd[0]; fy++)
                            for (int fx = 0; fx < wd[1]; fx++)
                                for (int k = 0; k < wd[2]; k++) {
                                    const int y = h * S + fy - P, xx = x * S + fx - P;
                                    const int in = y >= 0 && y < ad[1] && xx >= 0 && xx < ad[2];
                                    const double av = in ? a[at(ad, i, y, xx, k)] : 0.0; /* zero padding */
                                    const double wv = w[at(wd, fy, fx, k, co)];
                                    if (fwd) {
                                        add_prod(z, av, wv);
                                        continue;
                                    }
                                    if (in)
                                        add_prod(&want[3][at(ad, i, y, xx, k)], wv, g);
                                    add_prod(&want[4][at(wd, fy, fx, k, co)], av, g);
                                }
                        if (fwd && b)
                            add(z, b[co]);
                        if (!fwd)
                            add(&want[5][co], g);
                    }
        break;
    }
    default: {
        const int fwd = c->op == OP_POOL_FWD, F = c->f;
        const int *ad = sh(c, fwd ? 0 : 1);
        const double *a = c->val[c->owner[fwd ? 0 : 1]];
        const double *da = fwd ? NULL : c->val[c->owner[0]];
        const double n = (double)F * F;
        int od[4];
        set4(od, ad[0], (ad[1] - F) / S + 1, (ad[2] - F) / S + 1, ad[3]);
        for (int i = 0; i < od[0]; i++)
            for (int h = 0; h < od[1]; h++)
                for (int x = 0; x < od[2]; x++)
                    for (int k = 0; k < od[3]; k++) {
                        /* max as numpy: NaN when the window holds NaN */
                        double m = -INFINITY, sum = 0.0;
                        int has_nan = 0;
                        for (int y = 0; y < F; y++)
                            for (int xx = 0; xx < F; xx++) {
                                double v = a[at(ad, i, h * S + y, x * S + xx, k)];
                                has_nan |= isnan(v);
                                if (v > m)
                                    m = v;
                                sum += v;
                            }
                        if (fwd) {
                            acc *o = &want[1][at(od, i, h, x, k)];
                            if (c->mode == CLCNN_POOL_MAX) {
                                o->sum = has_nan ? NAN : m;
                                o->nan = has_nan;
                            } else {
                                for (int y = 0; y < F; y++)
                                    for (int xx = 0; xx < F; xx++)
                                        add(o, a[at(ad, i, h * S + y, x * S + xx, k)]);
                                o->sum = sum / n;
                                o->fmag /= n;
                            }
                            continue;
                        }
                        const double g = da[at(od, i, h, x, k)];
                        for (int y = 0; y < F; y++)
                            for (int xx = 0; xx < F; xx++) {
                                const size_t e = at(ad, i, h * S + y, x * S + xx, k);
                                if (c->mode == CLCNN_POOL_AVG)
                                    add(&want[2][e], g / n);
                                else if (!has_nan && a[e] == m)
                                    add(&want[2][e], g);
                            }
                    }
    }
    }
}

/* Whether got is right for an element with terms a, compared with ref (the
 * oracle's value or the host's result). */
static int close_enough(double got, double ref, const acc *a, int exact, clcnn_dtype dt)
{
    const double limit = dt == CLCNN_F64 ? DBL_MAX : FLT_MAX;
    const double u = dt == CLCNN_F64 ? 0x1p-53 : 0x1p-24, tiny = dt == CLCNN_F64 ? 0x1p-1074 : 0x1p-149;
    if (a->nan || (a->pinf && a->ninf))
        return isnan(got) != 0;
    if (a->ovf || a->fmag > limit / 4) /* a product or partial sum may overflow: anything goes */
        return 1;
    if (a->pinf || a->ninf)
        return got == (a->pinf ? INFINITY : -INFINITY);
    if (got == ref)
        return 1;
    if (exact || isnan(got) || isnan(ref))
        return 0;
    return fabs(got - ref) <= 2.0 * (a->k + 3) * (u * a->fmag + tiny);
}

/* Whether slot s's results are exact for this case. against_host: an
 * OpenCL result compared with the host's. */
static int exact_results(const fcase *c, int s, int against_host)
{
    (void)s;
    if (c->op == OP_PAD || (c->op == OP_POOL_FWD && c->mode == CLCNN_POOL_MAX))
        return 1;
    if ((c->op == OP_POOL_FWD || c->op == OP_POOL_BWD) && c->mode == CLCNN_POOL_AVG)
        return 0;
    if (c->vmode == V_INT || c->vmode == V_SPECIAL)
        return 1;
    return c->vmode == V_FIXED && (!against_host || c->dtype == CLCNN_F64);
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
        if (!skip_status && !status_allowed(o->st, inv, shp))
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
        const int exact = exact_results(c, s, from_cl);
        for (size_t e = 0; e < n; e++) {
            const acc *a = &want[s][e];
            double r = from_cl ? ref->res[s][e] : a->sum;
            if (!from_cl && c->dtype == CLCNN_F32)
                r = (double)(float)r;
            if (!close_enough(got->res[s][e], r, a, exact, c->dtype))
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
    expect_tensor_op(c, &inv, &shp);
    if (!inv && !shp) {
        /* valid: only run sizes the fuzzer can afford (decode() keeps the
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
        oracle(c, want);
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
    decode(&r, &c);
    if (c.op == OP_CONV_SHAPE || c.op == OP_POOL_SHAPE) {
        run_shape_op(&c);
    } else {
        init_contexts();
        run_tensor_op(&c);
    }
    free_case(&c);
    return 0;
}
