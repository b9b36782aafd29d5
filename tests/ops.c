/* ops.c - the op descriptors of the tests and the bench (see ops.h). */
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shapes ---------------------------------------------------------- */

int tc_out_h(const tc_shape *s)
{
    return (s->h + 2 * s->pad - s->fh) / s->stride + 1;
}

int tc_out_w(const tc_shape *s)
{
    return (s->w + 2 * s->pad - s->fw) / s->stride + 1;
}

size_t tc_count(const int d[4])
{
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

static void set4(int d[4], int a, int b, int c, int e)
{
    d[0] = a, d[1] = b, d[2] = c, d[3] = e;
}

int tc_fits(const tc_op *op, const tc_shape *s)
{
    if (op->id == TC_ZERO_PAD)
        return 1;
    const int pad = op->uses & TC_USES_PAD ? s->pad : 0;
    if (op->id >= TC_POOL_FORWARD && s->fh != s->fw)
        return 0;
    return s->fh <= s->h + 2 * pad && s->fw <= s->w + 2 * pad;
}

int tc_dims(const tc_op *op, const tc_shape *s, int slot, int d[4])
{
    const int conv = op->id == TC_CONV_FORWARD || op->id == TC_CONV_BACKWARD;
    const int pool = op->id == TC_POOL_FORWARD || op->id == TC_POOL_BACKWARD;
    int ho = 0, wo = 0;
    if (conv)
        ho = tc_out_h(s), wo = tc_out_w(s);
    else if (pool) /* pooling pads nothing */
        ho = (s->h - s->fh) / s->stride + 1, wo = (s->w - s->fw) / s->stride + 1;
    switch (op->id) {
    case TC_ZERO_PAD:
        if (slot == 0)
            set4(d, s->n, s->h, s->w, s->c);
        else
            set4(d, s->n, s->h + 2 * s->pad, s->w + 2 * s->pad, s->c);
        return 1;
    case TC_CONV_FORWARD:
        if (slot == 0)
            set4(d, s->n, s->h, s->w, s->c);
        else if (slot == 1)
            set4(d, s->fh, s->fw, s->c, s->cout);
        else if (slot == 2)
            set4(d, 1, 1, 1, s->cout);
        else
            set4(d, s->n, ho, wo, s->cout);
        return slot != 2 || s->bias;
    case TC_CONV_BACKWARD:
        if (slot == 0)
            set4(d, s->n, ho, wo, s->cout);
        else if (slot == 1 || slot == 3)
            set4(d, s->n, s->h, s->w, s->c);
        else if (slot == 2 || slot == 4)
            set4(d, s->fh, s->fw, s->c, s->cout);
        else
            set4(d, 1, 1, 1, s->cout);
        return slot < 3 || !(s->omit & (1 << (slot - 3)));
    case TC_POOL_FORWARD:
        if (slot == 0)
            set4(d, s->n, s->h, s->w, s->c);
        else
            set4(d, s->n, ho, wo, s->c);
        return 1;
    case TC_POOL_BACKWARD:
        if (slot == 0)
            set4(d, s->n, ho, wo, s->c);
        else
            set4(d, s->n, s->h, s->w, s->c);
        return 1;
    default: return 0;
    }
}

void tc_describe(const tc_op *op, const tc_shape *s, clcnn_dtype dt, char *buf, size_t len)
{
    const char *dts = dt == CLCNN_F64 ? "f64" : "f32";
    switch (op->id) {
    case TC_ZERO_PAD:
        snprintf(buf, len, "%s (%s x (%d,%d,%d,%d), pad %d)", op->name, dts, s->n, s->h, s->w, s->c, s->pad);
        break;
    case TC_CONV_FORWARD:
    case TC_CONV_BACKWARD:
        snprintf(buf, len, "%s (%s, a (%d,%d,%d,%d), w (%d,%d,%d,%d), stride %d, pad %d, %s, algo %d)",
                 op->name, dts, s->n, s->h, s->w, s->c, s->fh, s->fw, s->c, s->cout, s->stride, s->pad,
                 op->id == TC_CONV_BACKWARD ? "backward"
                 : s->bias                  ? "bias"
                                            : "no bias",
                 (int)s->algo);
        break;
    default:
        snprintf(buf, len, "%s (%s, %s, a (%d,%d,%d,%d), f %d, stride %d)", op->name, dts,
                 s->mode == CLCNN_POOL_MAX ? "max" : "average", s->n, s->h, s->w, s->c, s->fh, s->stride);
        break;
    }
}

/* ---- the calls ---------------------------------------------------------- */

static clcnn_conv_params conv_params(const tc_shape *s)
{
    return (clcnn_conv_params){s->stride, s->pad, s->algo};
}

static clcnn_pool_params pool_params(const tc_shape *s)
{
    return (clcnn_pool_params){s->fh, s->stride, s->mode};
}

static clcnn_status run_pad(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                            clcnn_tensor *const out[])
{
    return clcnn_zero_pad(ctx, in[0], s->pad, out[0]);
}

static clcnn_status run_conv_forward(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                                     clcnn_tensor *const out[])
{
    return clcnn_conv2d_forward(ctx, in[0], in[1], in[2], conv_params(s), out[0]);
}

static clcnn_status run_conv_backward(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                                      clcnn_tensor *const out[])
{
    return clcnn_conv2d_backward(ctx, in[0], in[1], in[2], conv_params(s), out[0], out[1], out[2]);
}

static clcnn_status run_pool_forward(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                                     clcnn_tensor *const out[])
{
    return clcnn_pool2d_forward(ctx, in[0], pool_params(s), out[0]);
}

static clcnn_status run_pool_backward(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                                      clcnn_tensor *const out[])
{
    return clcnn_pool2d_backward(ctx, in[0], in[1], pool_params(s), out[0]);
}

/* ---- reduction lengths (the tolerance rule's K) ------------------------ */

static double terms_exact(const tc_shape *s, int o)
{
    (void)s, (void)o;
    return TC_EXACT;
}

/* z: fh fw Cin products and the bias. */
static double terms_conv_forward(const tc_shape *s, int o)
{
    (void)o;
    return (double)s->fh * s->fw * s->c + 1;
}

/* da_prev: the filter taps of one input pixel's outputs, ceil(fh / stride)
 * ceil(fw / stride) Cout; dw and db: every output position. */
static double terms_conv_backward(const tc_shape *s, int o)
{
    if (o == 0)
        return (double)((s->fh + s->stride - 1) / s->stride) * ((s->fw + s->stride - 1) / s->stride) *
               s->cout;
    return (double)s->n * tc_out_h(s) * tc_out_w(s);
}

/* The max moves values without arithmetic; the average sums f*f. */
static double terms_pool_forward(const tc_shape *s, int o)
{
    (void)o;
    return s->mode == CLCNN_POOL_MAX ? TC_EXACT : (double)s->fh * s->fw;
}

/* Each input element gathers the windows it lies in, ceil(f / stride)^2. */
static double terms_pool_backward(const tc_shape *s, int o)
{
    (void)o;
    return (double)((s->fh + s->stride - 1) / s->stride) * ((s->fw + s->stride - 1) / s->stride);
}

/* ---- the table ----------------------------------------------------------- */

static const tc_op ops[TC_OP_COUNT] = {
    {TC_ZERO_PAD, "clcnn_zero_pad", TC_USES_PAD, 1, 1, {"x"}, {"x_pad"}, 0, terms_exact, run_pad},
    {TC_CONV_FORWARD,
     "clcnn_conv2d_forward",
     TC_USES_FILTER | TC_USES_STRIDE | TC_USES_PAD | TC_USES_BIAS,
     3,
     1,
     {"a_prev", "w", "b"},
     {"z"},
     0,
     terms_conv_forward,
     run_conv_forward},
    {TC_CONV_BACKWARD,
     "clcnn_conv2d_backward",
     TC_USES_FILTER | TC_USES_STRIDE | TC_USES_PAD,
     3,
     3,
     {"dz", "a_prev", "w"},
     {"da_prev", "dw", "db"},
     0,
     terms_conv_backward,
     run_conv_backward},
    {TC_POOL_FORWARD,
     "clcnn_pool2d_forward",
     TC_USES_WINDOW | TC_USES_STRIDE,
     1,
     1,
     {"a_prev"},
     {"a"},
     0,
     terms_pool_forward,
     run_pool_forward},
    {TC_POOL_BACKWARD,
     "clcnn_pool2d_backward",
     TC_USES_WINDOW | TC_USES_STRIDE,
     2,
     1,
     {"da", "a_prev"},
     {"da_prev"},
     1u << 1,
     terms_pool_backward,
     run_pool_backward},
};

const tc_op *tc_op_of(tc_op_id id)
{
    return id >= 0 && id < TC_OP_COUNT ? &ops[id] : NULL;
}

/* ---- drawing --------------------------------------------------------------- */

const tc_limits tc_device_limits = {{1, 4}, {1, 33}, {1, 33}, {1, 17}, {1, 17},
                                    {1, 7}, {1, 5},  {1, 4},  {0, 4},  0};
const tc_limits tc_small_limits = {{1, 2}, {1, 7}, {1, 7}, {1, 3}, {1, 4}, {1, 4}, {1, 3}, {1, 3}, {0, 3}, 1};

int tc_pick(np_random *r, int lo, int hi)
{
    return lo + (int)(np_random_u32(r) % (uint32_t)(hi - lo + 1));
}

static int pick_in(np_random *r, tc_span s)
{
    return tc_pick(r, s.lo, s.hi);
}

tc_shape tc_draw(const tc_op *op, const tc_limits *lim, np_random *r, const tc_shape *base)
{
    tc_shape s;
    do {
        memset(&s, 0, sizeof s);
        if (base)
            s.mode = base->mode, s.algo = base->algo, s.omit = base->omit;
        s.stride = 1;
        s.n = pick_in(r, lim->n), s.h = pick_in(r, lim->h), s.w = pick_in(r, lim->w),
        s.c = pick_in(r, lim->c);
        if (op->uses & TC_USES_FILTER) {
            s.fh = pick_in(r, lim->filter), s.fw = pick_in(r, lim->filter);
            s.cout = pick_in(r, lim->cout);
        } else if (op->uses & TC_USES_WINDOW) {
            s.fh = s.fw = pick_in(r, lim->window);
        }
        if (op->uses & TC_USES_STRIDE)
            s.stride = pick_in(r, lim->stride);
        if (op->uses & TC_USES_PAD)
            s.pad = pick_in(r, lim->pad);
        if (op->uses & TC_USES_BIAS)
            s.bias = lim->bias_always || tc_pick(r, 0, 3) != 0;
    } while (!tc_fits(op, &s));
    return s;
}

/* ---- inputs ---------------------------------------------------------------- */

double tc_integer_scale(const tc_op *op, const tc_shape *s)
{
    const int pool = op->id == TC_POOL_FORWARD || op->id == TC_POOL_BACKWARD;
    return pool && s->mode == CLCNN_POOL_AVG ? (double)s->fh * s->fw : 1.0;
}

double *tc_values(np_random *r, size_t n, tc_data style, double scale)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (style == TC_INTEGERS)
            v[i] = (double)tc_pick(r, -3, 3) * scale;
        else if (style == TC_QUANTIZED)
            v[i] = ldexp(nearbyint(ldexp(np_random_gauss(r), 30)), -30);
        else
            v[i] = np_random_gauss(r);
    }
    return v;
}

int tc_inputs(const tc_op *op, const tc_shape *s, tc_data style, np_random *r, double *in[TC_MAX_IN])
{
    int d[4];
    for (int i = 0; i < TC_MAX_IN; i++)
        in[i] = NULL;
    const double scale = tc_integer_scale(op, s);
    for (int i = 0; i < op->n_in; i++)
        if (tc_dims(op, s, i, d) && !(in[i] = tc_values(r, tc_count(d), style, scale))) {
            tc_inputs_free(in);
            return -1;
        }
    return 0;
}

void tc_inputs_free(double *in[TC_MAX_IN])
{
    for (int i = 0; i < TC_MAX_IN; i++) {
        free(in[i]);
        in[i] = NULL;
    }
}

int tc_mag_inputs(const tc_op *op, const tc_shape *s, double *const in[TC_MAX_IN], double *mag_in[TC_MAX_IN])
{
    int d[4];
    for (int i = 0; i < TC_MAX_IN; i++)
        mag_in[i] = NULL;
    for (int i = 0; i < op->n_in; i++) {
        if (!in[i] || !tc_dims(op, s, i, d))
            continue;
        const size_t n = tc_count(d);
        if (!(mag_in[i] = malloc((n ? n : 1) * sizeof(double)))) {
            tc_inputs_free(mag_in);
            return -1;
        }
        for (size_t j = 0; j < n; j++)
            mag_in[i][j] = op->signed_inputs & (1u << i) ? in[i][j] : fabs(in[i][j]);
    }
    return 0;
}

/* ---- tensors ------------------------------------------------------------- */

clcnn_status tc_write(clcnn_tensor *t, const double *v, size_t n)
{
    const clcnn_dtype dt = clcnn_tensor_dtype(t);
    const size_t es = dt == CLCNN_F64 ? sizeof(double) : sizeof(float);
    void *buf = malloc((n ? n : 1) * es);
    if (!buf)
        return CLCNN_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) {
        if (dt == CLCNN_F64)
            ((double *)buf)[i] = v[i];
        else
            ((float *)buf)[i] = (float)v[i];
    }
    clcnn_status s = clcnn_tensor_write(t, buf, n * es);
    free(buf);
    return s;
}

void tc_tensors_free(tc_tensors *t)
{
    for (int i = 0; i < TC_MAX_IN; i++)
        clcnn_tensor_destroy(t->in[i]);
    for (int i = 0; i < TC_MAX_OUT; i++)
        clcnn_tensor_destroy(t->out[i]);
    memset(t->in, 0, sizeof t->in);
    memset(t->out, 0, sizeof t->out);
}

clcnn_status tc_tensors_make(clcnn_context *ctx, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                             double *const in[TC_MAX_IN], tc_tensors *t)
{
    memset(t, 0, sizeof *t);
    t->op = op, t->s = *s, t->dt = dt, t->ctx = ctx;
    for (int slot = 0; slot < op->n_in + op->n_out; slot++) {
        int d[4];
        if (!tc_dims(op, s, slot, d))
            continue;
        clcnn_tensor **p = slot < op->n_in ? &t->in[slot] : &t->out[slot - op->n_in];
        clcnn_status st = clcnn_tensor_create(ctx, dt, d[0], d[1], d[2], d[3], p);
        if (st == CLCNN_OK && slot < op->n_in && in && in[slot])
            st = tc_write(*p, in[slot], tc_count(d));
        if (st != CLCNN_OK) {
            tc_tensors_free(t);
            return st;
        }
    }
    return CLCNN_OK;
}

clcnn_status tc_run(tc_tensors *t)
{
    return t->op->run(t->ctx, &t->s, t->in, t->out);
}

/* ---- tolerance ------------------------------------------------------------ */

double tc_tolerance(const tc_op *op, const tc_shape *s, clcnn_dtype dt, int o, double mag)
{
    const double k = op->terms(s, o);
    if (k == TC_EXACT)
        return 0.0;
    const double u = dt == CLCNN_F64 ? 0x1p-53 : 0x1p-24;
    return 2.0 * (k + 3.0) * u * mag;
}

/* ---- cost ------------------------------------------------------------------ */

double tc_flops(const tc_op *op, const tc_shape *s)
{
    if (op->id != TC_CONV_FORWARD && op->id != TC_CONV_BACKWARD)
        return 0.0;
    const double one = 2.0 * s->n * tc_out_h(s) * tc_out_w(s) * s->cout * s->fh * s->fw * s->c;
    if (op->id == TC_CONV_FORWARD)
        return one;
    return one * (double)(!(s->omit & 1) + !((s->omit & 6) == 6));
}

double tc_bytes(const tc_op *op, const tc_shape *s, clcnn_dtype dt)
{
    const double es = dt == CLCNN_F64 ? 8.0 : 4.0, in = (double)s->n * s->h * s->w * s->c;
    if (op->id == TC_ZERO_PAD)
        return (in + (double)s->n * (s->h + 2 * s->pad) * (s->w + 2 * s->pad) * s->c) * es;
    if (op->id != TC_POOL_FORWARD && op->id != TC_POOL_BACKWARD)
        return 0.0;
    int d[4];
    tc_dims(op, s, op->id == TC_POOL_FORWARD ? 1 : 0, d);
    const double out = (double)tc_count(d);
    if (op->id == TC_POOL_FORWARD)
        return (in + out) * es;
    return (out + (s->mode == CLCNN_POOL_MAX ? 2 : 1) * in) * es; /* max also reads a_prev */
}
