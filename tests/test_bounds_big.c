/* test_bounds_big.c - the OpenCL kernels on tensors as large as the
 * device allows in one buffer, checked at sampled elements (the first, the
 * last, and those around byte offsets 2^31 and 2^32 and element index 2^31)
 * against values computed here from the formula that filled the inputs.
 *
 * Memory and time (PoCL, 4 GiB per buffer, 2 shared cores). By default one
 * big case runs: zero_pad of a (2, 8253, 32769, 1) F32 tensor into one of
 * 2^31 + 2^24 bytes, so byte offsets pass INT_MAX: 4.2 GiB, about 12 s. The
 * others (pooling forward and backward, convolution forward and backward
 * data on the direct and GEMM paths) and zero_pad at full size run only
 * with CLCNN_BIG_TESTS=1: tensors sized from CL_DEVICE_MAX_MEM_ALLOC_SIZE, at
 * most 4 GiB each and 8 GiB per case (on PoCL up to 2^30 F32 elements, byte
 * offsets up to 2^32 - 1, element indices below 2^31), 25-150 s per case
 * (the GEMM forward, 94 workspace chunks, is the slowest); about 6 minutes
 * in all. On a device allowing more than 8 GiB in one buffer they use
 * 2^31 + 2^20 elements instead (element indices past INT_MAX; 16-24 GiB of
 * device memory per case). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "bounds_big.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clcnn_cl.h"

#define BIG_BYTES (((size_t)4 << 30) - ((size_t)64 << 10))
#define BEYOND_INT_MAX (((size_t)1 << 31) + ((size_t)1 << 20))

static void check_cl(cl_int err, const char *what)
{
    if (err != CL_SUCCESS)
        fail_msg("%s failed with OpenCL error %d", what, (int)err);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The value at linear index e of every input here: small integers (so sums
 * of a few products are exact in F32), scaled by `scale`, varying with every
 * index bit that matters (a wrong offset reads a different value). */
static double value_at(size_t e, double scale)
{
    const uint64_t h = (uint64_t)e * 0x9E3779B97F4A7C15ull;
    return scale * ((double)((h >> 40) % 15) - 7.0);
}

/* Elements of one F32 tensor for a big case, or 0 after printing why the
 * case is skipped. With CLCNN_BIG_TESTS=1: those fitting share * BIG_BYTES,
 * or BEYOND_INT_MAX elements when the device allows more than 8 GiB in one
 * buffer. Without it, only the cases marked `always` run, on tensors of
 * 2^31 + 2^24 bytes (byte offsets past INT_MAX at a few seconds' cost). */
static size_t big_count(clcnn_context *ctx, double share, int always)
{
    cl_ulong max_alloc = 0;
    check_cl(clGetDeviceInfo(clcnn_context_cl_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                             &max_alloc, NULL),
             "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    print_message("  device: CL_DEVICE_MAX_MEM_ALLOC_SIZE %llu bytes\n", (unsigned long long)max_alloc);
    const char *env = getenv("CLCNN_BIG_TESTS");
    const int big = env && strcmp(env, "1") == 0;
    if (!big && !always) {
        print_message("skipped: set CLCNN_BIG_TESTS=1 to run it (up to 8 GiB of device memory, 30-180 s)\n");
        return 0;
    }
    size_t bytes =
        big ? (size_t)((double)BIG_BYTES * share) / 4096 * 4096 : ((size_t)1 << 31) + ((size_t)1 << 24);
    if (big && max_alloc > (((cl_ulong)8 << 30) + ((cl_ulong)1 << 24)))
        bytes = BEYOND_INT_MAX * sizeof(float);
    if (bytes > max_alloc - (64 << 10))
        bytes = (size_t)(max_alloc - (64 << 10));
    if (bytes <= ((size_t)1 << 31)) {
        print_message("skipped: the device allocates at most %llu bytes in one buffer\n",
                      (unsigned long long)max_alloc);
        return 0;
    }
    return bytes / sizeof(float);
}

/* (n, h, w, 1) with n*h*w <= count, w odd and n = 2 (the batch index
 * matters too), as close to count as an h step allows. */
static void big_shape(size_t count, int *n, int *h, int *w)
{
    *n = 2;
    *w = 32771;
    *h = (int)(count / 2 / 32771);
}

/* Fills t (F32) with value_at(e, scale) through its cl_mem, 16 Mi elements
 * at a time. */
static void fill(clcnn_context *ctx, clcnn_tensor *t, double scale)
{
    const double t0 = seconds();
    const size_t count = th_count(t), chunk = (size_t)16 << 20;
    float *buf = malloc(chunk * sizeof(float));
    assert_non_null(buf);
    for (size_t e0 = 0; e0 < count; e0 += chunk) {
        const size_t m = count - e0 < chunk ? count - e0 : chunk;
        for (size_t j = 0; j < m; j++)
            buf[j] = (float)value_at(e0 + j, scale);
        const cl_int err = clEnqueueWriteBuffer(clcnn_context_cl_queue(ctx), clcnn_tensor_cl_mem(t), CL_TRUE,
                                                e0 * sizeof(float), m * sizeof(float), buf, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            fail_msg("clEnqueueWriteBuffer (fill) of bytes [%zu, %zu) of %zu failed with OpenCL error %d",
                     e0 * sizeof(float), (e0 + m) * sizeof(float), count * sizeof(float), (int)err);
    }
    free(buf);
    print_message("  fill: %.1f s\n", seconds() - t0);
}

/* The elements of t to check: [0, 4096), the last 64 Ki, and 4096 on each
 * side of byte offsets 2^31 and 2^32 and of element index 2^31 (where they
 * lie inside t). Calls check(index, value, arg) for each. */
typedef void (*check_fn)(size_t e, double got, const void *arg);

static void sample(clcnn_context *ctx, const clcnn_tensor *t, check_fn check, const void *arg)
{
    const size_t count = th_count(t);
    const size_t starts[5] = {0, count > 65536 ? count - 65536 : 0, ((size_t)1 << 29) - 4096,
                              ((size_t)1 << 30) - 4096, ((size_t)1 << 31) - 4096};
    const size_t lens[5] = {4096, 65536, 8192, 8192, 8192};
    float *buf = malloc(65536 * sizeof(float));
    assert_non_null(buf);
    size_t checked = 0;
    for (int s = 0; s < 5; s++) {
        if (starts[s] >= count)
            continue;
        const size_t m = count - starts[s] < lens[s] ? count - starts[s] : lens[s];
        check_cl(clEnqueueReadBuffer(clcnn_context_cl_queue(ctx), clcnn_tensor_cl_mem(t), CL_TRUE,
                                     starts[s] * sizeof(float), m * sizeof(float), buf, 0, NULL, NULL),
                 "clEnqueueReadBuffer (sample)");
        for (size_t j = 0; j < m; j++)
            check(starts[s] + j, buf[j], arg);
        checked += m;
    }
    free(buf);
    print_message("  checked %zu of %zu elements, the last at index %zu (byte %zu)\n", checked, count,
                  count - 1, (count - 1) * sizeof(float));
}

/* A big F32 case of op on ctx, its tensors the fixture's and left as
 * created (fill writes the inputs). */
static tc_tensors big_case(th_fixture *f, clcnn_context *ctx, tc_op_id id, const tc_shape *s)
{
    tc_tensors t;
    th_case_make(f, ctx, tc_op_of(id), s, CLCNN_F32, NULL, &t);
    return t;
}

/* Runs t's op, waits for it and prints how long it took. */
static void run_big(tc_tensors *t, const char *what)
{
    const double t0 = seconds();
    const clcnn_status s = tc_run(t);
    if (s != CLCNN_OK)
        fail_msg("%s: %s: %s", what, clcnn_status_string(s), clcnn_last_error(t->ctx));
    assert_int_equal(clcnn_finish(t->ctx), CLCNN_OK);
    print_message("  %s: %.1f s\n", what, seconds() - t0);
}

/* Decodes a linear NHWC (c == 1) index. */
static void decode(size_t e, int h, int w, int *i, int *y, int *x)
{
    *x = (int)(e % (size_t)w);
    e /= (size_t)w;
    *y = (int)(e % (size_t)h);
    *i = (int)(e / (size_t)h);
}

static size_t at(int i, int y, int x, int h, int w)
{
    return ((size_t)i * (size_t)h + (size_t)y) * (size_t)w + (size_t)x;
}

/* -- zero_pad: x (2, h-2, w-2, 1) padded by 1 into x_pad (2, h, w, 1). -- */

typedef struct {
    int h, w; /* x_pad's */
} pad_arg;

static void pad_check(size_t e, double got, const void *arg)
{
    const pad_arg *p = arg;
    int i, y, x;
    decode(e, p->h, p->w, &i, &y, &x);
    const int inside = y >= 1 && y < p->h - 1 && x >= 1 && x < p->w - 1;
    const double want = inside ? value_at(at(i, y - 1, x - 1, p->h - 2, p->w - 2), 1.0) : 0.0;
    if (got != want)
        fail_msg("x_pad[%d][%d][%d][0] (element %zu): %.9g, expected %.9g", i, y, x, e, got, want);
}

void zero_pad_of_the_largest_tensors(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctx = th_device(f);
    const size_t count = big_count(ctx, 1.0, 1);
    if (!count)
        skip();
    int n, h, w;
    big_shape(count, &n, &h, &w);
    print_message("  x (%d, %d, %d, 1) -> x_pad (%d, %d, %d, 1) F32, %zu elements\n", n, h - 2, w - 2, n, h,
                  w, (size_t)n * h * w);
    const tc_shape s = {.n = n, .h = h - 2, .w = w - 2, .c = 1, .stride = 1, .pad = 1};
    tc_tensors t = big_case(f, ctx, TC_ZERO_PAD, &s);
    clcnn_tensor *x = t.in[0], *xp = t.out[0];
    fill(ctx, x, 1.0);
    /* NaN, so that an element not written shows: 32 at a time (NVIDIA's
     * fill fails past 2^31 pattern copies), the tail written. */
    float nans[32];
    for (int j = 0; j < 32; j++)
        nans[j] = (float)NAN;
    const size_t xp_bytes = th_count(xp) * sizeof(float), bulk = xp_bytes / sizeof nans * sizeof nans;
    check_cl(clEnqueueFillBuffer(clcnn_context_cl_queue(ctx), clcnn_tensor_cl_mem(xp), nans, sizeof nans, 0,
                                 bulk, 0, NULL, NULL),
             "clEnqueueFillBuffer");
    if (xp_bytes > bulk)
        check_cl(clEnqueueWriteBuffer(clcnn_context_cl_queue(ctx), clcnn_tensor_cl_mem(xp), CL_TRUE, bulk,
                                      xp_bytes - bulk, nans, 0, NULL, NULL),
                 "clEnqueueWriteBuffer (NaN tail)");
    run_big(&t, "zero_pad");
    const pad_arg p = {h, w};
    sample(ctx, xp, pad_check, &p);
    th_expect_guards((clcnn_tensor *const[]){x, xp}, 2, "after the big zero_pad");
}

/* -- pooling: f 2, stride 2 over a_prev (2, h, w, 1); backward into da_prev -- */

typedef struct {
    int h, w, ho, wo; /* a_prev's, a's */
    clcnn_pool_mode mode;
} pool_arg;

static double window_max(int i, int y0, int x0, int h, int w)
{
    double m = -1e300;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            const double v = value_at(at(i, y0 + dy, x0 + dx, h, w), 4.0);
            m = v > m ? v : m;
        }
    return m;
}

static void pool_forward_check(size_t e, double got, const void *arg)
{
    const pool_arg *p = arg;
    int i, y, x;
    decode(e, p->ho, p->wo, &i, &y, &x);
    double want = 0.0;
    if (p->mode == CLCNN_POOL_MAX) {
        want = window_max(i, 2 * y, 2 * x, p->h, p->w);
    } else {
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
                want += value_at(at(i, 2 * y + dy, 2 * x + dx, p->h, p->w), 4.0);
        want /= 4.0;
    }
    if (got != want)
        fail_msg("a[%d][%d][%d][0] (element %zu): %.9g, expected %.9g", i, y, x, e, got, want);
}

/* da is value_at(e, 4) over a's shape; da_prev gets da (max: where a_prev
 * equals its window's max; average: da / 4). w is odd, so the last column
 * of a_prev is in no window and must be 0. */
static void pool_backward_check(size_t e, double got, const void *arg)
{
    const pool_arg *p = arg;
    int i, y, x;
    decode(e, p->h, p->w, &i, &y, &x);
    double want = 0.0;
    const int oy = y / 2, ox = x / 2;
    if (oy < p->ho && ox < p->wo) {
        const double da = value_at(at(i, oy, ox, p->ho, p->wo), 4.0);
        if (p->mode == CLCNN_POOL_AVG)
            want = da / 4.0;
        else if (value_at(e, 4.0) == window_max(i, 2 * oy, 2 * ox, p->h, p->w))
            want = da;
    }
    if (got != want)
        fail_msg("da_prev[%d][%d][%d][0] (element %zu): %.9g, expected %.9g", i, y, x, e, got, want);
}

void pool_of_the_largest_tensors(void **state)
{
    th_fixture *f = th_fx(state);
    const clcnn_pool_mode mode = *(const clcnn_pool_mode *)th_param(state);
    clcnn_context *ctx = th_device(f);
    /* a_prev, da_prev and (max) the forward result as a workspace: 3/4 of
     * BIG_BYTES each for a_prev and da_prev, 3/16 for a and da. */
    const size_t count = big_count(ctx, 0.75, 0);
    if (!count)
        skip();
    int n, h, w;
    big_shape(count, &n, &h, &w);
    const tc_shape s = {.n = n, .h = h, .w = w, .c = 1, .fh = 2, .fw = 2, .stride = 2, .mode = mode};
    const int ho = (h - 2) / 2 + 1, wo = (w - 2) / 2 + 1;
    print_message("  %s pooling f 2 stride 2: a_prev (%d, %d, %d, 1) F32, %zu elements\n",
                  mode == CLCNN_POOL_MAX ? "max" : "average", n, h, w, (size_t)n * h * w);
    tc_tensors fwd = big_case(f, ctx, TC_POOL_FORWARD, &s);
    clcnn_tensor *a_prev = fwd.in[0], *a = fwd.out[0];
    fill(ctx, a_prev, 4.0);
    run_big(&fwd, "pool2d_forward");
    const pool_arg arg = {h, w, ho, wo, mode};
    sample(ctx, a, pool_forward_check, &arg);
    fill(ctx, a, 4.0); /* now da */
    /* the backward case on the forward's tensors (a as da), so that a_prev
     * is filled once and no more memory is held than the call needs */
    int dp[4];
    tc_dims(tc_op_of(TC_POOL_BACKWARD), &s, 2, dp);
    tc_tensors bwd = fwd;
    bwd.op = tc_op_of(TC_POOL_BACKWARD);
    bwd.in[0] = a, bwd.in[1] = a_prev;
    bwd.out[0] = th_fx_tensor(f, ctx, CLCNN_F32, dp[0], dp[1], dp[2], dp[3], NULL);
    run_big(&bwd, "pool2d_backward");
    sample(ctx, bwd.out[0], pool_backward_check, &arg);
    th_expect_guards((clcnn_tensor *const[]){a_prev, a, bwd.out[0]}, 3, "after the big pooling");
}

/* -- convolution: 3x3, 1 -> 1 channel, stride 1, pad 1 (z has a's shape) -- */

static const double conv_w[9] = {1, -2, 3, 0, 2, -1, -3, 1, 2};

typedef struct {
    int h, w;
    int transposed; /* backward data: the flipped filter */
} conv_arg;

static void conv_check(size_t e, double got, const void *arg)
{
    const conv_arg *c = arg;
    int i, y, x;
    decode(e, c->h, c->w, &i, &y, &x);
    double want = 0.0;
    for (int dy = 0; dy < 3; dy++)
        for (int dx = 0; dx < 3; dx++) {
            const int yy = y + dy - 1, xx = x + dx - 1;
            if (yy < 0 || yy >= c->h || xx < 0 || xx >= c->w)
                continue;
            const double wv = c->transposed ? conv_w[(2 - dy) * 3 + (2 - dx)] : conv_w[dy * 3 + dx];
            want += wv * value_at(at(i, yy, xx, c->h, c->w), 1.0);
        }
    if (got != want)
        fail_msg("%s[%d][%d][%d][0] (element %zu): %.9g, expected %.9g", c->transposed ? "da_prev" : "z", i,
                 y, x, e, got, want);
}

void conv_of_the_largest_tensors(void **state)
{
    th_fixture *f = th_fx(state);
    const clcnn_conv_algo algo = *(const clcnn_conv_algo *)th_param(state);
    clcnn_context *ctx = th_device(f);
    /* a_prev, z (then dz) and da_prev: 2/3 of BIG_BYTES each. */
    const size_t count = big_count(ctx, 2.0 / 3.0, 0);
    if (!count)
        skip();
    int n, h, w;
    big_shape(count, &n, &h, &w);
    print_message("  %s 3x3 convolution, pad 1: a_prev (%d, %d, %d, 1) F32, %zu elements\n",
                  algo == CLCNN_CONV_GEMM ? "GEMM" : "direct", n, h, w, (size_t)n * h * w);
    tc_shape s = {.n = n, .h = h, .w = w, .c = 1, .cout = 1, .fh = 3, .fw = 3, .stride = 1, .pad = 1};
    s.algo = algo;
    tc_tensors fwd = big_case(f, ctx, TC_CONV_FORWARD, &s);
    clcnn_tensor *a = fwd.in[0], *wt = fwd.in[1], *z = fwd.out[0];
    th_write(wt, conv_w);
    fill(ctx, a, 1.0);
    run_big(&fwd, "conv2d_forward");
    conv_arg arg = {h, w, 0};
    sample(ctx, z, conv_check, &arg);
    /* backward data, with z refilled as dz, on the forward's tensors */
    fill(ctx, z, 1.0);
    tc_tensors bwd = fwd;
    bwd.op = tc_op_of(TC_CONV_BACKWARD);
    bwd.s.omit = 2 | 4; /* da_prev alone */
    bwd.in[0] = z, bwd.in[1] = a, bwd.in[2] = wt;
    bwd.out[0] = th_fx_tensor(f, ctx, CLCNN_F32, n, h, w, 1, NULL), bwd.out[1] = bwd.out[2] = NULL;
    run_big(&bwd, "conv2d_backward");
    arg.transposed = 1;
    sample(ctx, bwd.out[0], conv_check, &arg);
    th_expect_guards((clcnn_tensor *const[]){a, z, wt, bwd.out[0]}, 4, "after the big convolution");
}
