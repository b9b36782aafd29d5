/* fuzz_decode.c - the fuzz target's decoder: the bytes of an input become
 * one complete case (an op, its scalars, its tensors' shapes and contents,
 * and at most one fault), as fuzz_ops.c's header describes. */
#include "fuzz_ops.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ decoding --- */

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

void fuzz_decode(reader *r, fcase *c)
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

void fuzz_free_case(fcase *c)
{
    for (int s = 0; s < MAX_SLOTS; s++)
        free(c->val[s]);
}
