/* ops.h - one descriptor per op, shared by every test that runs it: the
 * shape of a case, how to draw a random valid one, its tensors' shapes and
 * inputs, the clcnn_* call, the tolerance of its results against the host
 * reference, and its FLOPs and bytes, which clcnn-bench and clcnn-ab
 * report (bench/ links these descriptors, clcnn_ops in CMakeLists.txt).
 *
 * The ops and their tensors (slots: the inputs, then the outputs, each in
 * the order of the clcnn_* call):
 *   TC_ZERO_PAD       x                 -> x_pad
 *   TC_CONV_FORWARD   a_prev, w, b      -> z            (b absent unless bias)
 *   TC_CONV_BACKWARD  dz, a_prev, w     -> da_prev, dw, db  (bit i of omit: output i absent)
 *   TC_POOL_FORWARD   a_prev            -> a
 *   TC_POOL_BACKWARD  da, a_prev        -> da_prev
 * The reference of every op is the same call on a host context (the
 * library's plain-C path, th_case_reference), and the magnitudes behind
 * its tolerance the call on that context in F64 on |inputs|.
 * Nothing here calls cmocka, so that worker threads, the fuzzer and the
 * bench (built without cmocka) may use it; the fixture and the
 * cmocka-checked helpers are in helpers.h. */
#ifndef CLCNN_TEST_OPS_H
#define CLCNN_TEST_OPS_H

#include <stddef.h>

#include "clcnn.h"
#include "np_random.h"

typedef enum {
    TC_ZERO_PAD,
    TC_CONV_FORWARD,
    TC_CONV_BACKWARD,
    TC_POOL_FORWARD,
    TC_POOL_BACKWARD,
    TC_OP_COUNT
} tc_op_id;

/* The shape of one case, for every op. Pooling windows are fh x fw with
 * fh == fw (the window f); pad belongs to zero_pad and the convolutions. */
typedef struct {
    int n, h, w, c;       /* the input: x or a_prev */
    int cout;             /* convolution: the number of filters */
    int fh, fw;           /* the filter, or the pooling window */
    int stride, pad;      /* stride: convolution and pooling */
    int bias;             /* conv forward: b given */
    int omit;             /* conv backward: bit i set, output i (da_prev, dw, db) not asked for */
    clcnn_pool_mode mode; /* pooling */
    clcnn_conv_algo algo; /* convolution */
} tc_shape;

/* The fields an op reads, for tc_draw. */
enum { TC_USES_FILTER = 1, TC_USES_WINDOW = 2, TC_USES_STRIDE = 4, TC_USES_PAD = 8, TC_USES_BIAS = 16 };

enum { TC_MAX_IN = 3, TC_MAX_OUT = 3 };

/* The reduction length that marks an output computed without rounding. */
#define TC_EXACT (-1.0)

typedef struct tc_op {
    tc_op_id id;
    const char *name; /* the call: "clcnn_conv2d_forward" */
    unsigned uses;    /* TC_USES_* */
    int n_in, n_out;
    const char *in_names[TC_MAX_IN], *out_names[TC_MAX_OUT];
    /* The magnitude run (tc_mag_inputs) keeps these inputs signed: the max
     * pool's mask needs a_prev as it is. Bit i: input i. */
    unsigned signed_inputs;
    /* Output o's reduction length K (terms summed per element), or
     * TC_EXACT: the tolerance rule of tc_tolerance. */
    double (*terms)(const tc_shape *s, int o);
    clcnn_status (*run)(clcnn_context *ctx, const tc_shape *s, clcnn_tensor *const in[],
                        clcnn_tensor *const out[]);
} tc_op;

/* The descriptor of id. */
const tc_op *tc_op_of(tc_op_id id);

/* A convolution's output height and width. */
int tc_out_h(const tc_shape *s);
int tc_out_w(const tc_shape *s);

/* 1 when s is a valid case of op (the window fits the padded input). */
int tc_fits(const tc_op *op, const tc_shape *s);

/* Slot i's shape (i < n_in: input i; else output i - n_in), or 0 when the
 * slot is absent from this case (no bias, an omitted output). */
int tc_dims(const tc_op *op, const tc_shape *s, int slot, int d[4]);

size_t tc_count(const int d[4]);

/* One line naming op, dtype and shape, e.g. "clcnn_pool2d_forward (f32,
 * max, a_prev (2,5,5,3), f 3, stride 2)". */
void tc_describe(const tc_op *op, const tc_shape *s, clcnn_dtype dt, char *buf, size_t len);

/* ---- drawing random cases -------------------------------------------- */

typedef struct {
    int lo, hi;
} tc_span;

/* The ranges tc_draw draws from. */
typedef struct {
    tc_span n, h, w, c, cout;
    tc_span filter; /* convolution fh and fw, each */
    tc_span window; /* pooling f */
    tc_span stride, pad;
    int bias_always; /* 0: bias with odds 3 in 4; 1: always */
} tc_limits;

/* The device suite's ranges (up to 4 x 33 x 33 x 17, filters up to 7x7,
 * windows up to 5, strides up to 4, pads up to 4) and the finite-difference
 * suite's small ones (up to 2 x 7 x 7 x 3). */
extern const tc_limits tc_device_limits, tc_small_limits;

/* A uniform integer in [lo, hi]. */
int tc_pick(np_random *r, int lo, int hi);

/* A random valid case of op within lim: base's mode and algo, the fields
 * op uses drawn in the order n, h, w, c, filter (fh, fw, cout) or window,
 * stride, pad, bias, and drawn again until tc_fits. */
tc_shape tc_draw(const tc_op *op, const tc_limits *lim, np_random *r, const tc_shape *base);

/* ---- inputs ------------------------------------------------------------ */

typedef enum {
    TC_NORMAL,    /* np.random.randn */
    TC_INTEGERS,  /* integers in [-3, 3], times tc_integer_scale: every result exact */
    TC_QUANTIZED, /* np.random.randn rounded to multiples of 2^-30 (x +- 2^-k exact) */
} tc_data;

/* The factor of TC_INTEGERS data: f*f for average pooling, whose quotients
 * are then exact; 1 otherwise. */
double tc_integer_scale(const tc_op *op, const tc_shape *s);

/* n values of style (scale applies to TC_INTEGERS), in a new array (never
 * NULL unless out of memory). */
double *tc_values(np_random *r, size_t n, tc_data style, double scale);

/* Every present input of a case, in slot order, drawn from r into new
 * arrays in[i] (NULL for an absent slot); 0, or -1 when out of memory. */
int tc_inputs(const tc_op *op, const tc_shape *s, tc_data style, np_random *r, double *in[TC_MAX_IN]);

void tc_inputs_free(double *in[TC_MAX_IN]);

/* ---- one case's tensors on a context ---------------------------------- */

typedef struct {
    const tc_op *op;
    tc_shape s;
    clcnn_dtype dt;
    clcnn_context *ctx;
    clcnn_tensor *in[TC_MAX_IN], *out[TC_MAX_OUT];
} tc_tensors;

/* Creates the case's tensors on ctx, inputs from in[] (NULL entries: zeros)
 * and outputs zero; status of the first failure (what was made is freed). */
clcnn_status tc_tensors_make(clcnn_context *ctx, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                             double *const in[TC_MAX_IN], tc_tensors *t);

void tc_tensors_free(tc_tensors *t);

/* Writes n values converted to t's dtype. */
clcnn_status tc_write(clcnn_tensor *t, const double *v, size_t n);

/* The op's call on t's context and tensors. */
clcnn_status tc_run(tc_tensors *t);

/* ---- tolerance ---------------------------------------------------------- */

/* The device-against-reference bound of output o, for an element whose
 * terms' magnitudes sum to mag (tc_mag_inputs). A result sums K terms in
 * its own precision (u = 2^-24 for F32, 2^-53 for F64), possibly with fused
 * multiply-adds, the reference in double and rounded once, from the same
 * rounded inputs, so |device - reference| <= gamma_K sum|terms| + u |ref| <=
 * (K + 1) u M / (1 - K u). The bound is 2 (K + 3) u M: the factor 2 covers
 * 1/(1 - K u) and the reference's own error; the +2 a division (average
 * pooling), which OpenCL C lets a device round to 2.5 ulp. 0 (exact) when
 * the op's terms say TC_EXACT. */
double tc_tolerance(const tc_op *op, const tc_shape *s, clcnn_dtype dt, int o, double mag);

/* The inputs of the magnitude run from in[]: |in[i]| except the op's
 * signed_inputs, which are copied (new arrays, NULL where in[i] is). Every
 * op is linear in each input it takes |.| of, so the reference on these in
 * F64 gives sum|terms| for every output element. */
int tc_mag_inputs(const tc_op *op, const tc_shape *s, double *const in[TC_MAX_IN], double *mag_in[TC_MAX_IN]);

/* ---- cost: the figures clcnn-bench's rates divide by -------------------- */

/* Floating-point operations: 2 N Ho Wo Cout fh fw Cin for a convolution's
 * forward, and as much for each of backward data (da_prev) and backward
 * filter (dw with db); 0 for zero_pad and pooling, which count bytes. */
double tc_flops(const tc_op *op, const tc_shape *s);

/* Bytes read and written by zero_pad and pooling (max backward reads a_prev
 * besides da); 0 for the convolutions, which count FLOPs. */
double tc_bytes(const tc_op *op, const tc_shape *s, clcnn_dtype dt);

#endif
