/* test_interop.c - clcnn on OpenCL objects the caller owns (clcnn_cl.h):
 * contexts made with clcnn_context_create_cl, tensors' cl_mem used by the
 * caller's own kernels on the same in-order queue, the errors of
 * clcnn_context_create_cl, and kernel sources read from $CLCNN_KERNEL_DIR.
 *
 * Every case runs with a fixture (setup/teardown) that owns all it makes:
 * clcnn contexts and tensors, the caller's cl_context / queues / buffers /
 * programs, host buffers, temporary folders and the saved CLCNN_KERNEL_DIR,
 * so that nothing leaks even when a case fails part-way (valgrind). */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup, mkdtemp */
#endif

#include "helpers.h"

#include "clcnn_cl.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CLCNN_SOURCE_KERNELS
#error "CLCNN_SOURCE_KERNELS (the kernels/ folder of the source tree) must be defined"
#endif

#define F32 CLCNN_F32
#define F64 CLCNN_F64

/* ------------------------------------------------------------------------ */
/* Fixture                                                                    */
/* ------------------------------------------------------------------------ */

enum { MAX_OWNED = 32 };

typedef struct {
    /* The caller's OpenCL objects: first device of the first platform. */
    cl_platform_id platform;
    cl_device_id device;
    cl_context clctx;
    cl_command_queue queue;  /* in-order, on clctx */
    cl_context clctx2;       /* a second cl_context, for "queue of another context" */
    cl_command_queue queue2; /* in-order, on clctx2 */
    cl_command_queue ooo;    /* out-of-order, on clctx (when the device allows it) */
    cl_mem mems[MAX_OWNED];
    int n_mems;
    cl_program program;
    cl_kernel kernel;

    clcnn_context *ctxs[MAX_OWNED];
    int n_ctxs;
    clcnn_tensor *tensors[MAX_OWNED];
    int n_tensors;
    void *bufs[MAX_OWNED];
    int n_bufs;

    /* Temporary kernel folders, removed with the files the cases put there. */
    char tmpdirs[4][64];
    int n_tmpdirs;

    /* A buffer for the kernel files the case copies (one at a time). */
    char *kernel_text;

    /* CLCNN_KERNEL_DIR as it was before the case. */
    char *env_old;
    int env_had;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *old = getenv("CLCNN_KERNEL_DIR");
    f->env_had = old != NULL;
    f->env_old = old ? strdup(old) : NULL;
    if (old && !f->env_old) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    for (int i = f->n_tensors - 1; i >= 0; i--)
        clcnn_tensor_destroy(f->tensors[i]);
    for (int i = f->n_ctxs - 1; i >= 0; i--)
        clcnn_context_destroy(f->ctxs[i]);
    if (f->kernel)
        clReleaseKernel(f->kernel);
    if (f->program)
        clReleaseProgram(f->program);
    for (int i = 0; i < f->n_mems; i++)
        clReleaseMemObject(f->mems[i]);
    if (f->ooo)
        clReleaseCommandQueue(f->ooo);
    if (f->queue2)
        clReleaseCommandQueue(f->queue2);
    if (f->clctx2)
        clReleaseContext(f->clctx2);
    if (f->queue)
        clReleaseCommandQueue(f->queue);
    if (f->clctx)
        clReleaseContext(f->clctx);
    for (int i = 0; i < f->n_bufs; i++)
        free(f->bufs[i]);
    for (int i = 0; i < f->n_tmpdirs; i++) {
        /* the kernel files the case put there, whatever their names */
        DIR *d = opendir(f->tmpdirs[i]);
        for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", f->tmpdirs[i], e->d_name);
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                (void)unlink(path);
        }
        if (d)
            closedir(d);
        if (rmdir(f->tmpdirs[i]) != 0)
            fprintf(stderr, "test_interop: could not remove the temporary folder %s\n", f->tmpdirs[i]);
    }
    if (f->env_had)
        setenv("CLCNN_KERNEL_DIR", f->env_old, 1);
    else
        unsetenv("CLCNN_KERNEL_DIR");
    free(f->env_old);
    free(f);
    return 0;
}

static void *own_buf(fx *f, void *p)
{
    assert_non_null(p);
    assert_true(f->n_bufs < MAX_OWNED);
    f->bufs[f->n_bufs++] = p;
    return p;
}

static clcnn_context *own_ctx(fx *f, clcnn_context *ctx)
{
    assert_true(f->n_ctxs < MAX_OWNED);
    f->ctxs[f->n_ctxs++] = ctx;
    return ctx;
}

/* Destroys a context the fixture owns before teardown (drop its tensors first). */
static void drop_ctx(fx *f, clcnn_context *ctx)
{
    for (int i = 0; i < f->n_ctxs; i++)
        if (f->ctxs[i] == ctx) {
            clcnn_context_destroy(ctx);
            f->ctxs[i] = f->ctxs[--f->n_ctxs];
            return;
        }
    fail_msg("drop_ctx: the context is not owned by the fixture");
}

/* Destroys a tensor the fixture owns before teardown. */
static void drop_tensor(fx *f, clcnn_tensor *t)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (f->tensors[i] == t) {
            clcnn_tensor_destroy(t);
            for (int j = i + 1; j < f->n_tensors; j++)
                f->tensors[j - 1] = f->tensors[j];
            f->n_tensors--;
            return;
        }
    fail_msg("drop_tensor: the tensor is not owned by the fixture");
}

/* A tensor of ctx filled from data (NULL: zeros), owned by the fixture. */
static clcnn_tensor *tensor(fx *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                            const double *data)
{
    assert_true(f->n_tensors < MAX_OWNED);
    clcnn_tensor *t = th_tensor(ctx, dtype, n, h, w, c, data);
    f->tensors[f->n_tensors++] = t;
    return t;
}

static double *read_all(fx *f, const clcnn_tensor *t)
{
    return own_buf(f, th_read(t));
}

static void check_cl(cl_int err, const char *what)
{
    if (err != CL_SUCCESS)
        fail_msg("%s failed with OpenCL error %d", what, (int)err);
}

/* The caller's objects: the first device of the first platform, its own
 * cl_context and an in-order queue, made with the plain OpenCL API. */
static void open_caller_cl(fx *f)
{
    cl_uint n = 0;
    check_cl(clGetPlatformIDs(1, &f->platform, &n), "clGetPlatformIDs");
    assert_true(n >= 1);
    check_cl(clGetDeviceIDs(f->platform, CL_DEVICE_TYPE_ALL, 1, &f->device, &n), "clGetDeviceIDs");
    assert_true(n >= 1);
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)f->platform, 0};
    cl_int err;
    f->clctx = clCreateContext(props, 1, &f->device, NULL, NULL, &err);
    check_cl(err, "clCreateContext");
    f->queue = clCreateCommandQueue(f->clctx, f->device, 0, &err);
    check_cl(err, "clCreateCommandQueue (in-order)");
}

static cl_uint context_refs(cl_context c)
{
    cl_uint r = 0;
    check_cl(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL),
             "CL_CONTEXT_REFERENCE_COUNT");
    return r;
}

static cl_uint queue_refs(cl_command_queue q)
{
    cl_uint r = 0;
    check_cl(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL),
             "CL_QUEUE_REFERENCE_COUNT");
    return r;
}

/* Waits (at most about 2 s) for the reference counts of the caller's context
 * and queue to come down to ctx_refs and queue_refs.  The OpenCL spec calls
 * these counts "immediately stale": PoCL's worker threads drop their own
 * references to the queue of a finished command a moment after clFinish (or
 * a blocking read) has returned, so a count read at once can still be one
 * high.  A reference clcnn kept would never come back, and fails the test. */
static void settle_refs(fx *f, cl_uint ctx_refs, cl_uint queue_refs_want)
{
    for (int i = 0; i < 2000; i++) {
        check_cl(clFinish(f->queue), "clFinish");
        if (context_refs(f->clctx) <= ctx_refs && queue_refs(f->queue) <= queue_refs_want)
            return;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

static clcnn_context *create_cl_ok(fx *f)
{
    clcnn_context *ctx = NULL;
    clcnn_status s = clcnn_context_create_cl(f->clctx, f->device, f->queue, &ctx);
    if (s != CLCNN_OK)
        fail_msg("clcnn_context_create_cl: %s: %s", clcnn_status_string(s), clcnn_last_error(NULL));
    assert_non_null(ctx);
    return own_ctx(f, ctx);
}

/* Leaves a distinctive message in this thread's last error, so that a case
 * whose call forgets to record one cannot pass on a stale message. */
static void mark_thread_error(void)
{
    const int d[4] = {1, 1, 1, 1};
    int o[4];
    (void)clcnn_conv2d_output_shape(d, d, (clcnn_conv_params){-12345, 0, CLCNN_CONV_AUTO}, o);
    assert_non_null(strstr(clcnn_last_error(NULL), "-12345"));
}

static void expect_contains(const char *hay, const char *needle, const char *what)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("%s: expected the message to contain \"%s\", got \"%s\"", what, needle,
                 hay ? hay : "(null)");
}

/* Seeded standard normal values rounded to float, so that F32 and F64
 * tensors made from them hold the same numbers. */
static double *randn_f32(fx *f, np_random *r, size_t count)
{
    double *x = own_buf(f, malloc(count * sizeof *x));
    np_random_randn(r, x, count);
    for (size_t i = 0; i < count; i++)
        x[i] = (double)(float)x[i];
    return x;
}

static double *absolute(fx *f, const double *x, size_t count)
{
    double *y = own_buf(f, malloc(count * sizeof *y));
    for (size_t i = 0; i < count; i++)
        y[i] = fabs(x[i]);
    return y;
}

/* ------------------------------------------------------------------------ */
/* 1. A context on the caller's objects                                        */
/* ------------------------------------------------------------------------ */

static void context_on_caller_objects_matches_host_and_leaves_them_usable(void **state)
{
    fx *f = *state;
    open_caller_cl(f);
    const cl_uint ctx_refs0 = context_refs(f->clctx), queue_refs0 = queue_refs(f->queue);

    clcnn_context *ctx = create_cl_ok(f);
    assert_int_equal(clcnn_context_backend(ctx), CLCNN_BACKEND_OPENCL);
    char name[256] = "";
    check_cl(clGetDeviceInfo(f->device, CL_DEVICE_NAME, sizeof name, name, NULL), "CL_DEVICE_NAME");
    name[sizeof name - 1] = '\0';
    assert_string_equal(clcnn_context_device_name(ctx), name);
    /* The contract retains the caller's objects while the context lives. */
    assert_true(context_refs(f->clctx) > ctx_refs0);
    assert_true(queue_refs(f->queue) > queue_refs0);

    /* conv2d_forward with fh != fw, stride 2 and pad 1 on seeded data. */
    enum { M = 2, H = 6, W = 7, CIN = 4, FH = 3, FW = 2, COUT = 5 };
    const clcnn_conv_params p = {2, 1, CLCNN_CONV_AUTO};
    const int ad[4] = {M, H, W, CIN}, wd[4] = {FH, FW, CIN, COUT};
    int zd[4];
    assert_int_equal(clcnn_conv2d_output_shape(ad, wd, p, zd), CLCNN_OK);
    np_random r;
    np_random_seed(&r, 1);
    const size_t na = (size_t)M * H * W * CIN, nw = (size_t)FH * FW * CIN * COUT, nb = COUT;
    const double *a = randn_f32(f, &r, na), *w = randn_f32(f, &r, nw), *b = randn_f32(f, &r, nb);

    clcnn_tensor *ta = tensor(f, ctx, F32, M, H, W, CIN, a), *tw = tensor(f, ctx, F32, FH, FW, CIN, COUT, w),
                 *tb = tensor(f, ctx, F32, 1, 1, 1, COUT, b),
                 *tz = tensor(f, ctx, F32, zd[0], zd[1], zd[2], zd[3], NULL);
    clcnn_status s = clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz);
    if (s != CLCNN_OK)
        fail_msg("conv2d_forward on the interop context: %s: %s", clcnn_status_string(s),
                 clcnn_last_error(ctx));
    const double *got = read_all(f, tz);

    /* The host reference in F32 (same inputs, same dtype) ... */
    clcnn_context *h = own_ctx(f, th_context(CLCNN_BACKEND_HOST));
    clcnn_tensor *ha = tensor(f, h, F32, M, H, W, CIN, a), *hw = tensor(f, h, F32, FH, FW, CIN, COUT, w),
                 *hb = tensor(f, h, F32, 1, 1, 1, COUT, b),
                 *hz = tensor(f, h, F32, zd[0], zd[1], zd[2], zd[3], NULL);
    assert_int_equal(clcnn_conv2d_forward(h, ha, hw, hb, p, hz), CLCNN_OK);
    const double *want = read_all(f, hz);
    /* ... and S = the sum of |terms| of each output, the host convolution of
     * |a|, |w| and |b| in F64 (exact for these float-valued inputs up to a
     * relative 2^-53 per term, negligible here). */
    clcnn_tensor *sa = tensor(f, h, F64, M, H, W, CIN, absolute(f, a, na)),
                 *sw = tensor(f, h, F64, FH, FW, CIN, COUT, absolute(f, w, nw)),
                 *sb = tensor(f, h, F64, 1, 1, 1, COUT, absolute(f, b, nb)),
                 *sz = tensor(f, h, F64, zd[0], zd[1], zd[2], zd[3], NULL);
    assert_int_equal(clcnn_conv2d_forward(h, sa, sw, sb, p, sz), CLCNN_OK);
    const double *sum_abs = read_all(f, sz);

    /* Tolerance.  Each output sums K = fh*fw*cin + 1 terms (the products and
     * the bias).  The device does it in float: each term goes through at most
     * K roundings (its product and up to K-1 additions), so its error is at
     * most gamma_K * S with gamma_K = K*u/(1 - K*u), u = 2^-24 (Higham,
     * Accuracy and Stability, 3.1).  The host F32 reference sums in double
     * and rounds once to float: at most u*|z| <= u*S more.  (K + 2)*u*S covers
     * both, the extra u*S absorbing gamma_K's second-order part and the
     * double-precision sums' own error (about K*2^-53*S). */
    const double K = FH * FW * CIN + 1, u = ldexp(1.0, -24);
    const size_t nz = th_count(tz);
    double worst = 0.0;
    for (size_t i = 0; i < nz; i++) {
        assert_true(sum_abs[i] > 0.0);
        const double tol = (K + 2.0) * u * sum_abs[i], err = fabs(got[i] - want[i]);
        if (!(err <= tol))
            fail_msg("z[%zu]: OpenCL %.9g, host %.9g, |difference| %.3g > tolerance %.3g", i, got[i], want[i],
                     err, tol);
        worst = fmax(worst, err / tol);
    }
    printf("conv2d_forward on the caller's queue: %zu outputs, largest error %.3f of the tolerance\n", nz,
           worst);

    /* clcnn_context_destroy gives back exactly the references it took, and
     * the caller's context and queue go on working. */
    for (int i = f->n_tensors - 1; i >= 0; i--)
        if (f->tensors[i] == ta || f->tensors[i] == tw || f->tensors[i] == tb || f->tensors[i] == tz)
            drop_tensor(f, f->tensors[i]);
    drop_ctx(f, ctx);
    settle_refs(f, ctx_refs0, queue_refs0);
    assert_int_equal(context_refs(f->clctx), ctx_refs0);
    assert_int_equal(queue_refs(f->queue), queue_refs0);

    enum { NFILL = 256 };
    cl_int err;
    cl_mem m = clCreateBuffer(f->clctx, CL_MEM_READ_WRITE, NFILL * sizeof(cl_float), NULL, &err);
    check_cl(err, "clCreateBuffer after clcnn_context_destroy");
    assert_true(f->n_mems < MAX_OWNED);
    f->mems[f->n_mems++] = m;
    const cl_float pattern = 3.25f;
    check_cl(clEnqueueFillBuffer(f->queue, m, &pattern, sizeof pattern, 0, NFILL * sizeof(cl_float), 0, NULL,
                                 NULL),
             "clEnqueueFillBuffer after clcnn_context_destroy");
    check_cl(clFinish(f->queue), "clFinish after clcnn_context_destroy");
    cl_float back[NFILL];
    check_cl(clEnqueueReadBuffer(f->queue, m, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL),
             "clEnqueueReadBuffer");
    for (int i = 0; i < NFILL; i++)
        assert_true(back[i] == 3.25f);
}

/* ------------------------------------------------------------------------ */
/* 2. A tensor's cl_mem in the caller's kernel                                 */
/* ------------------------------------------------------------------------ */

static const char *const twice_plus_one_src = "__kernel void twice_plus_one(__global float *x, uint n)\n"
                                              "{\n"
                                              "    const size_t i = get_global_id(0);\n"
                                              "    if (i < n)\n"
                                              "        x[i] = 2.0f * x[i] + 1.0f;\n"
                                              "}\n";

static void tensor_cl_mem_feeds_a_caller_kernel_on_the_same_queue(void **state)
{
    fx *f = *state;
    open_caller_cl(f);
    clcnn_context *ctx = create_cl_ok(f);

    enum { N = 1, H = 3, W = 4, C = 5, COUNT = N * H * W * C, PAD = 1 };
    double x[COUNT];
    for (int i = 0; i < COUNT; i++)
        x[i] = 0.25 * (i - 30); /* exact in float, and so are 2x + 1 */
    clcnn_tensor *t = tensor(f, ctx, F32, N, H, W, C, x);
    clcnn_tensor *tp = tensor(f, ctx, F32, N, H + 2 * PAD, W + 2 * PAD, C, NULL);

    cl_mem m = clcnn_tensor_cl_mem(t);
    assert_non_null(m);
    cl_context mctx = NULL;
    size_t msize = 0;
    check_cl(clGetMemObjectInfo(m, CL_MEM_CONTEXT, sizeof mctx, &mctx, NULL), "CL_MEM_CONTEXT");
    check_cl(clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof msize, &msize, NULL), "CL_MEM_SIZE");
    assert_ptr_equal(mctx, f->clctx);
    assert_true(msize >= COUNT * sizeof(cl_float));

    cl_int err;
    const char *src = twice_plus_one_src;
    f->program = clCreateProgramWithSource(f->clctx, 1, &src, NULL, &err);
    check_cl(err, "clCreateProgramWithSource");
    err = clBuildProgram(f->program, 1, &f->device, "-cl-std=CL1.2", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[4096] = "";
        clGetProgramBuildInfo(f->program, f->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fail_msg("clBuildProgram of the caller kernel failed (%d): %s", (int)err, log);
    }
    f->kernel = clCreateKernel(f->program, "twice_plus_one", &err);
    check_cl(err, "clCreateKernel");
    const cl_uint n = COUNT;
    check_cl(clSetKernelArg(f->kernel, 0, sizeof m, &m), "clSetKernelArg 0");
    check_cl(clSetKernelArg(f->kernel, 1, sizeof n, &n), "clSetKernelArg 1");
    const size_t global = COUNT;
    check_cl(clEnqueueNDRangeKernel(f->queue, f->kernel, 1, NULL, &global, NULL, 0, NULL, NULL),
             "clEnqueueNDRangeKernel");
    /* No clFinish: clcnn's work is ordered after the caller's on the same
     * in-order queue, both the op that reads t and the read-back. */
    assert_int_equal(clcnn_zero_pad(ctx, t, PAD, tp), CLCNN_OK);
    const double *got = read_all(f, t);
    for (int i = 0; i < COUNT; i++)
        if (got[i] != 2.0 * x[i] + 1.0)
            fail_msg("x[%d] = %.9g after the caller kernel, expected %.9g", i, got[i], 2.0 * x[i] + 1.0);
    const double *padded = read_all(f, tp);
    for (int y = 0; y < H + 2 * PAD; y++)
        for (int xx = 0; xx < W + 2 * PAD; xx++)
            for (int k = 0; k < C; k++) {
                const int iy = y - PAD, ix = xx - PAD;
                const double want =
                    iy >= 0 && iy < H && ix >= 0 && ix < W ? 2.0 * x[(iy * W + ix) * C + k] + 1.0 : 0.0;
                const double have = padded[((size_t)y * (W + 2 * PAD) + (size_t)xx) * C + (size_t)k];
                if (have != want)
                    fail_msg("x_pad[0][%d][%d][%d] = %.9g, expected %.9g", y, xx, k, have, want);
            }

    /* No buffer for a host tensor or for NULL. */
    clcnn_context *h = own_ctx(f, th_context(CLCNN_BACKEND_HOST));
    clcnn_tensor *ht = tensor(f, h, F32, N, H, W, C, x);
    assert_null(clcnn_tensor_cl_mem(ht));
    assert_null(clcnn_tensor_cl_mem(NULL));
}

/* ------------------------------------------------------------------------ */
/* 3. clcnn_context_create_cl's errors                                          */
/* ------------------------------------------------------------------------ */

static char sentinel_storage;
#define SENTINEL ((clcnn_context *)&sentinel_storage)

/* Fails unless create_cl(c, d, q, out) returns INVALID_ARGUMENT with a
 * message naming the function and containing `needle`, leaves *out alone and
 * takes no reference on the caller's objects. */
static void expect_create_cl_rejects(fx *f, cl_context c, cl_device_id d, cl_command_queue q, int pass_out,
                                     const char *needle)
{
    const cl_uint cr = context_refs(f->clctx), qr = queue_refs(f->queue);
    mark_thread_error();
    clcnn_context *out = SENTINEL;
    clcnn_status s = clcnn_context_create_cl(c, d, q, pass_out ? &out : NULL);
    if (s != CLCNN_ERR_INVALID_ARGUMENT)
        fail_msg(
            "clcnn_context_create_cl (expecting \"%s\") returned %s, expected CLCNN_ERR_INVALID_ARGUMENT",
            needle, clcnn_status_string(s));
    assert_ptr_equal(out, SENTINEL);
    expect_contains(clcnn_last_error(NULL), "clcnn_context_create_cl", needle);
    expect_contains(clcnn_last_error(NULL), needle, needle);
    assert_int_equal(context_refs(f->clctx), cr);
    assert_int_equal(queue_refs(f->queue), qr);
}

static void create_cl_rejects_each_null_argument(void **state)
{
    fx *f = *state;
    open_caller_cl(f);
    expect_create_cl_rejects(f, f->clctx, f->device, f->queue, 0, "out is NULL");
    expect_create_cl_rejects(f, NULL, f->device, f->queue, 1, "context is NULL");
    expect_create_cl_rejects(f, f->clctx, NULL, f->queue, 1, "device is NULL");
    expect_create_cl_rejects(f, f->clctx, f->device, NULL, 1, "queue is NULL");
}

static void create_cl_rejects_queue_of_another_cl_context(void **state)
{
    fx *f = *state;
    open_caller_cl(f);
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)f->platform, 0};
    cl_int err;
    f->clctx2 = clCreateContext(props, 1, &f->device, NULL, NULL, &err);
    check_cl(err, "clCreateContext (second)");
    f->queue2 = clCreateCommandQueue(f->clctx2, f->device, 0, &err);
    check_cl(err, "clCreateCommandQueue (second)");
    const cl_uint c2 = context_refs(f->clctx2), q2 = queue_refs(f->queue2);
    expect_create_cl_rejects(f, f->clctx, f->device, f->queue2, 1, "another cl_context");
    expect_create_cl_rejects(f, f->clctx2, f->device, f->queue, 1, "another cl_context");
    assert_int_equal(context_refs(f->clctx2), c2);
    assert_int_equal(queue_refs(f->queue2), q2);
}

static void create_cl_rejects_out_of_order_queue(void **state)
{
    fx *f = *state;
    open_caller_cl(f);
    cl_int err;
    f->ooo = clCreateCommandQueue(f->clctx, f->device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_SUCCESS) {
        f->ooo = NULL;
        cl_command_queue_properties supported = 0;
        check_cl(clGetDeviceInfo(f->device, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported, &supported, NULL),
                 "CL_DEVICE_QUEUE_PROPERTIES");
        printf(
            "NOTE: the device refuses out-of-order queues (OpenCL error %d); the out-of-order rejection of "
            "clcnn_context_create_cl is NOT checked here\n",
            (int)err);
        /* What can still be checked: the refusal is the documented one, and
         * consistent with what the device says it supports. */
        assert_int_equal(err, CL_INVALID_QUEUE_PROPERTIES);
        assert_false(supported & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
        return;
    }
    cl_command_queue_properties qp = 0;
    check_cl(clGetCommandQueueInfo(f->ooo, CL_QUEUE_PROPERTIES, sizeof qp, &qp, NULL), "CL_QUEUE_PROPERTIES");
    assert_true(qp & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
    const cl_uint r = queue_refs(f->ooo);
    expect_create_cl_rejects(f, f->clctx, f->device, f->ooo, 1, "in-order");
    assert_int_equal(queue_refs(f->ooo), r);
}

/* ------------------------------------------------------------------------ */
/* 4. Kernel sources from $CLCNN_KERNEL_DIR                                     */
/* ------------------------------------------------------------------------ */

static const char *make_tmpdir(fx *f)
{
    assert_true(f->n_tmpdirs < 4);
    char *d = f->tmpdirs[f->n_tmpdirs];
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) > 30)
        base = "/tmp";
    snprintf(d, sizeof f->tmpdirs[0], "%s/clcnn_interop_XXXXXX", base);
    if (!mkdtemp(d))
        fail_msg("mkdtemp(%s) failed", d);
    f->n_tmpdirs++;
    return d;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        fail_msg("cannot create %s", path);
    const size_t put = fwrite(text, 1, len, fp);
    const int closed = fclose(fp);
    if (put != len || closed != 0)
        fail_msg("cannot write %s", path);
}

/* Copies kernels/<name> of the source tree into dir, after `prefix`. */
static void copy_source_kernel_after(fx *f, const char *dir, const char *name, const char *prefix)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CLCNN_SOURCE_KERNELS, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    const size_t cap = (size_t)1 << 20, skip = strlen(prefix);
    assert_true(skip < cap / 2);
    if (!f->kernel_text)
        f->kernel_text = own_buf(f, malloc(cap));
    char *text = f->kernel_text;
    memcpy(text, prefix, skip);
    const size_t len = fread(text + skip, 1, cap - skip - 1, fp);
    fclose(fp);
    assert_true(len > 0);
    write_file(dir, name, text, skip + len);
}

/* Copies kernels/<name> of the source tree into dir. */
static void copy_source_kernel(fx *f, const char *dir, const char *name)
{
    copy_source_kernel_after(f, dir, name, "");
}

/* Copies every .cl file of the source tree's kernels/ (prelude.cl too) into dir,
 * so that dir serves every program as the source tree does. */
static void copy_source_kernels(fx *f, const char *dir)
{
    DIR *d = opendir(CLCNN_SOURCE_KERNELS);
    if (!d)
        fail_msg("cannot list %s", CLCNN_SOURCE_KERNELS);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".cl") == 0) {
            copy_source_kernel(f, dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    assert_true(n > 1); /* the prelude and at least one program */
}

enum { PN = 2, PH = 3, PW = 4, PC = 3, PPAD = 2 };

/* zero_pad of a seeded (2, 3, 4, 3) F32 tensor by 2 on a new OpenCL context
 * (so its pad program is built now, from the current CLCNN_KERNEL_DIR); the
 * raw bytes of the result, owned by the fixture. */
static unsigned char *zero_pad_bytes(fx *f, size_t *nbytes)
{
    np_random r;
    np_random_seed(&r, 3);
    const double *x = randn_f32(f, &r, (size_t)PN * PH * PW * PC);
    clcnn_context *ctx = own_ctx(f, th_context(CLCNN_BACKEND_OPENCL));
    clcnn_tensor *t = tensor(f, ctx, F32, PN, PH, PW, PC, x);
    clcnn_tensor *tp = tensor(f, ctx, F32, PN, PH + 2 * PPAD, PW + 2 * PPAD, PC, NULL);
    clcnn_status s = clcnn_zero_pad(ctx, t, PPAD, tp);
    if (s != CLCNN_OK)
        fail_msg("clcnn_zero_pad: %s: %s", clcnn_status_string(s), clcnn_last_error(ctx));
    unsigned char *bytes = own_buf(f, th_snapshot(tp, nbytes));
    /* Sanity: the result really is x padded with zeros. */
    const float *v = (const float *)bytes;
    for (int i = 0; i < PN; i++)
        for (int y = 0; y < PH + 2 * PPAD; y++)
            for (int xx = 0; xx < PW + 2 * PPAD; xx++)
                for (int k = 0; k < PC; k++) {
                    const int iy = y - PPAD, ix = xx - PPAD;
                    const float want = iy >= 0 && iy < PH && ix >= 0 && ix < PW
                                           ? (float)x[((i * PH + iy) * PW + ix) * PC + k]
                                           : 0.0f;
                    assert_true(v[((i * (PH + 2 * PPAD) + y) * (PW + 2 * PPAD) + xx) * PC + k] == want);
                }
    return bytes;
}

static void kernel_dir_of_the_source_tree_gives_the_embedded_result(void **state)
{
    fx *f = *state;
    size_t n_embedded = 0, n_files = 0;
    unsetenv("CLCNN_KERNEL_DIR");
    const unsigned char *embedded = zero_pad_bytes(f, &n_embedded);
    assert_int_equal(setenv("CLCNN_KERNEL_DIR", CLCNN_SOURCE_KERNELS, 1), 0);
    const unsigned char *files = zero_pad_bytes(f, &n_files);
    assert_int_equal(n_embedded, n_files);
    assert_memory_equal(embedded, files, n_files);
}

/* A pad.cl that does not compile: it uses an undeclared identifier. */
static const char broken_pad_src[] = "__kernel void zero_pad(__global const float *x, int n, int h, int w, "
                                     "int c, int pad, __global float *x_pad)\n"
                                     "{\n"
                                     "    x_pad[get_global_id(0)] = clcnn_undeclared_ident_q7;\n"
                                     "}\n";

/* A convolution of small integers with stride 1 and `pad`, input (1, h, 4,
 * 2) and filter 2 x 3, on ctx with `algo` and on the host: every product
 * and sum is exact in float, so on CLCNN_OK the OpenCL result must equal
 * the host one exactly; on an error z must be untouched. Returns the
 * OpenCL call's status. The tensors are dropped before it returns. */
static clcnn_status conv_on_both(fx *f, clcnn_context *ctx, int h_in, int pad, clcnn_conv_algo algo)
{
    enum { M = 1, H = 4, W = 4, CIN = 2, FH = 2, FW = 3, COUT = 3 };
    assert_true(h_in >= FH && h_in <= H);
    const clcnn_conv_params p = {1, pad, algo};
    const int ad[4] = {M, h_in, W, CIN}, wd[4] = {FH, FW, CIN, COUT};
    int zd[4];
    assert_int_equal(clcnn_conv2d_output_shape(ad, wd, p, zd), CLCNN_OK);
    double a[M * H * W * CIN], w[FH * FW * CIN * COUT], b[COUT], z0[M * (H + 2) * (W + 2) * COUT];
    for (int i = 0; i < M * H * W * CIN; i++)
        a[i] = (i * 7) % 11 - 5;
    for (int i = 0; i < FH * FW * CIN * COUT; i++)
        w[i] = (i * 5) % 7 - 3;
    for (int i = 0; i < COUT; i++)
        b[i] = i - 1;
    for (int i = 0; i < M * (H + 2) * (W + 2) * COUT; i++)
        z0[i] = 1000.5 + i; /* a pattern no convolution here gives */
    clcnn_tensor *ta = tensor(f, ctx, F32, M, h_in, W, CIN, a),
                 *tw = tensor(f, ctx, F32, FH, FW, CIN, COUT, w), *tb = tensor(f, ctx, F32, 1, 1, 1, COUT, b),
                 *tz = tensor(f, ctx, F32, zd[0], zd[1], zd[2], zd[3], z0);
    size_t nsnap = 0;
    const unsigned char *snap = own_buf(f, th_snapshot(tz, &nsnap));
    const clcnn_status s = clcnn_conv2d_forward(ctx, ta, tw, tb, p, tz);
    if (s == CLCNN_OK) {
        clcnn_context *h = own_ctx(f, th_context(CLCNN_BACKEND_HOST));
        clcnn_tensor *ha = tensor(f, h, F32, M, h_in, W, CIN, a),
                     *hw = tensor(f, h, F32, FH, FW, CIN, COUT, w), *hb = tensor(f, h, F32, 1, 1, 1, COUT, b),
                     *hz = tensor(f, h, F32, zd[0], zd[1], zd[2], zd[3], NULL);
        assert_int_equal(clcnn_conv2d_forward(h, ha, hw, hb, p, hz), CLCNN_OK);
        const double *got = read_all(f, tz), *want = read_all(f, hz);
        assert_memory_equal(got, want, th_count(tz) * sizeof(double));
        clcnn_tensor *const host_tensors[] = {hz, hb, hw, ha};
        for (int i = 0; i < 4; i++)
            drop_tensor(f, host_tensors[i]);
        drop_ctx(f, h);
    } else {
        th_expect_unchanged(tz, snap, nsnap, "z");
    }
    clcnn_tensor *const tensors[] = {tz, tb, tw, ta};
    for (int i = 0; i < 4; i++)
        drop_tensor(f, tensors[i]);
    return s;
}

/* The padded convolution of conv_on_both works on ctx. */
static void expect_conv_works(fx *f, clcnn_context *ctx)
{
    const clcnn_status s = conv_on_both(f, ctx, 4, 1, CLCNN_CONV_AUTO);
    if (s != CLCNN_OK)
        fail_msg("conv2d_forward: %s: %s", clcnn_status_string(s), clcnn_last_error(ctx));
}

/* Whether ctx's device is a CPU: there the direct forward convolution reads
 * a zero-padded copy of a padded input (cl_conv.c), made by pad.cl's
 * zero_pad. */
static int device_is_cpu(clcnn_context *ctx)
{
    cl_device_type type = 0;
    check_cl(clGetDeviceInfo(clcnn_context_cl_device(ctx), CL_DEVICE_TYPE, sizeof type, &type, NULL),
             "clGetDeviceInfo(CL_DEVICE_TYPE)");
    return (type & CL_DEVICE_TYPE_CPU) != 0;
}

/* An output tensor of ctx for zero_pad, filled with a non-zero pattern. */
static clcnn_tensor *patterned_pad_output(fx *f, clcnn_context *ctx)
{
    enum { COUNT = PN * (PH + 2 * PPAD) * (PW + 2 * PPAD) * PC };
    double v[COUNT];
    for (int i = 0; i < COUNT; i++)
        v[i] = (i % 2 ? -1.0 : 1.0) * (1000.0 + 0.25 * i + 0.125);
    return tensor(f, ctx, F32, PN, PH + 2 * PPAD, PW + 2 * PPAD, PC, v);
}

static void kernel_dir_with_broken_pad_gives_build_error_with_log(void **state)
{
    fx *f = *state;
    const char *dir = make_tmpdir(f);
    copy_source_kernels(f, dir);
    write_file(dir, "pad.cl", broken_pad_src, sizeof broken_pad_src - 1);
    assert_int_equal(setenv("CLCNN_KERNEL_DIR", dir, 1), 0);

    clcnn_context *ctx = own_ctx(f, th_context(CLCNN_BACKEND_OPENCL));
    double x[PN * PH * PW * PC];
    for (int i = 0; i < PN * PH * PW * PC; i++)
        x[i] = i + 1;
    clcnn_tensor *t = tensor(f, ctx, F32, PN, PH, PW, PC, x);
    clcnn_tensor *tp = patterned_pad_output(f, ctx);
    size_t nsnap = 0;
    const unsigned char *snap = own_buf(f, th_snapshot(tp, &nsnap));

    clcnn_status s = clcnn_zero_pad(ctx, t, PPAD, tp);
    if (s != CLCNN_ERR_BUILD)
        fail_msg("clcnn_zero_pad with a broken pad.cl returned %s (%s), expected CLCNN_ERR_BUILD",
                 clcnn_status_string(s), clcnn_last_error(ctx));
    const char *msg = clcnn_last_error(ctx);
    expect_contains(msg, "clcnn_zero_pad", "build failure");
    expect_contains(msg, "pad.cl", "build failure");
    expect_contains(msg, "clcnn_undeclared_ident_q7", "build failure (the compiler's build log)");
    th_expect_unchanged(tp, snap, nsnap, "x_pad");
    /* Trying again reads the folder again and fails the same way. */
    assert_int_equal(clcnn_zero_pad(ctx, t, PPAD, tp), CLCNN_ERR_BUILD);
    th_expect_unchanged(tp, snap, nsnap, "x_pad");

    /* The convolution depends on pad.cl too: on a CPU the direct forward of
     * a padded input pads a copy of it with zero_pad, and fails the same way
     * (z untouched); a GPU reads the padding through tests, needing no copy. */
    const int cpu = device_is_cpu(ctx);
    s = conv_on_both(f, ctx, 4, 1, CLCNN_CONV_DIRECT);
    if (s != (cpu ? CLCNN_ERR_BUILD : CLCNN_OK))
        fail_msg("a padded direct forward with a broken pad.cl on a %s returned %s (%s), expected %s",
                 cpu ? "CPU" : "GPU", clcnn_status_string(s), clcnn_last_error(ctx),
                 cpu ? "CLCNN_ERR_BUILD" : "CLCNN_OK");
    if (cpu) {
        expect_contains(clcnn_last_error(ctx), "clcnn_conv2d_forward", "padded copy's build failure");
        expect_contains(clcnn_last_error(ctx), "pad.cl", "padded copy's build failure");
    }

    /* The context stays usable: an unpadded forward with one row of output,
     * which needs no copy, builds from the same folder and runs. */
    s = conv_on_both(f, ctx, 2, 0, CLCNN_CONV_DIRECT);
    if (s != CLCNN_OK)
        fail_msg("an unpadded direct forward with a broken pad.cl: %s: %s", clcnn_status_string(s),
                 clcnn_last_error(ctx));

    /* A failed build is not remembered: once pad.cl is repaired, zero_pad
     * and the padded forward build and work in the same context. */
    copy_source_kernel(f, dir, "pad.cl");
    s = conv_on_both(f, ctx, 4, 1, CLCNN_CONV_DIRECT);
    if (s != CLCNN_OK)
        fail_msg("a padded direct forward after repairing pad.cl: %s: %s", clcnn_status_string(s),
                 clcnn_last_error(ctx));
    s = clcnn_zero_pad(ctx, t, PPAD, tp);
    if (s != CLCNN_OK)
        fail_msg("clcnn_zero_pad after repairing pad.cl: %s: %s", clcnn_status_string(s),
                 clcnn_last_error(ctx));
    const double *got = read_all(f, tp);
    for (int i = 0; i < PN; i++)
        for (int y = 0; y < PH + 2 * PPAD; y++)
            for (int xx = 0; xx < PW + 2 * PPAD; xx++)
                for (int k = 0; k < PC; k++) {
                    const int iy = y - PPAD, ix = xx - PPAD;
                    const double want = iy >= 0 && iy < PH && ix >= 0 && ix < PW
                                            ? x[((i * PH + iy) * PW + ix) * PC + k]
                                            : 0.0;
                    assert_true(got[((i * (PH + 2 * PPAD) + y) * (PW + 2 * PPAD) + xx) * PC + k] == want);
                }
}

static void kernel_dir_without_pad_gives_build_error_cannot_read(void **state)
{
    fx *f = *state;
    const char *dir = make_tmpdir(f);
    assert_int_equal(setenv("CLCNN_KERNEL_DIR", dir, 1), 0);

    clcnn_context *ctx = own_ctx(f, th_context(CLCNN_BACKEND_OPENCL));
    double x[PN * PH * PW * PC];
    for (int i = 0; i < PN * PH * PW * PC; i++)
        x[i] = i + 1;
    clcnn_tensor *t = tensor(f, ctx, F32, PN, PH, PW, PC, x);
    clcnn_tensor *tp = patterned_pad_output(f, ctx);
    size_t nsnap = 0;
    const unsigned char *snap = own_buf(f, th_snapshot(tp, &nsnap));

    clcnn_status s = clcnn_zero_pad(ctx, t, PPAD, tp);
    if (s != CLCNN_ERR_BUILD)
        fail_msg("clcnn_zero_pad without pad.cl returned %s (%s), expected CLCNN_ERR_BUILD",
                 clcnn_status_string(s), clcnn_last_error(ctx));
    const char *msg = clcnn_last_error(ctx);
    expect_contains(msg, "cannot read", "missing pad.cl");
    expect_contains(msg, "pad.cl", "missing pad.cl");
    expect_contains(msg, dir, "missing pad.cl");
    th_expect_unchanged(tp, snap, nsnap, "x_pad");

    /* Every program is built after prelude.cl, read from the same folder:
     * pad.cl alone is not enough. */
    copy_source_kernel(f, dir, "pad.cl");
    s = clcnn_zero_pad(ctx, t, PPAD, tp);
    if (s != CLCNN_ERR_BUILD)
        fail_msg("clcnn_zero_pad without prelude.cl returned %s (%s), expected CLCNN_ERR_BUILD",
                 clcnn_status_string(s), clcnn_last_error(ctx));
    msg = clcnn_last_error(ctx);
    expect_contains(msg, "cannot read", "missing prelude.cl");
    expect_contains(msg, "prelude.cl", "missing prelude.cl");
    th_expect_unchanged(tp, snap, nsnap, "x_pad");

    /* Usable afterwards once the variable is unset (embedded sources). */
    unsetenv("CLCNN_KERNEL_DIR");
    expect_conv_works(f, ctx);
}

/* CLCNN_CONV_TILE reaches the tiled kernels' build: conv_tiled.cl, from
 * $CLCNN_KERNEL_DIR, refuses to compile with any tile but
 * 32:16:8:4:2:1. With CLCNN_CONV_TILED=1 a context given that tile
 * convolves (exactly, small integers), and one given another tile fails to
 * build, naming the guard: so the forward took the tiled kernel, and the
 * context the tile it was given. */
static const char tile_guard[] = "#if defined(TILE_M) && !(TILE_M == 32 && TILE_N == 16 && TILE_K == 8 && "
                                 "REG_M == 4 && REG_N == 2 && TILE_VEC == 1)\n"
                                 "#error clcnn_tile_not_taken\n"
                                 "#endif\n";

static void conv_tile_setting_reaches_the_tiled_build(void **state)
{
    fx *f = *state;
    const char *dir = make_tmpdir(f);
    copy_source_kernels(f, dir);
    copy_source_kernel_after(f, dir, "conv_tiled.cl", tile_guard);
    assert_int_equal(setenv("CLCNN_KERNEL_DIR", dir, 1), 0);
    char *tiled = th_env_swap("CLCNN_CONV_TILED", "1"),
         *tile = th_env_swap("CLCNN_CONV_TILE", "32:16:8:4:2:1");
    expect_conv_works(f, own_ctx(f, th_context(CLCNN_BACKEND_OPENCL)));

    assert_int_equal(setenv("CLCNN_CONV_TILE", "64:64:16:4:4:0", 1), 0);
    clcnn_context *other = own_ctx(f, th_context(CLCNN_BACKEND_OPENCL));
    enum { M = 1, H = 4, W = 4, CIN = 2, FH = 2, FW = 3, COUT = 3 };
    const clcnn_conv_params p = {1, 1, CLCNN_CONV_AUTO};
    const int ad[4] = {M, H, W, CIN}, wd[4] = {FH, FW, CIN, COUT};
    int zd[4];
    assert_int_equal(clcnn_conv2d_output_shape(ad, wd, p, zd), CLCNN_OK);
    clcnn_tensor *ta = tensor(f, other, F32, M, H, W, CIN, NULL),
                 *tw = tensor(f, other, F32, FH, FW, CIN, COUT, NULL),
                 *tz = tensor(f, other, F32, zd[0], zd[1], zd[2], zd[3], NULL);
    const clcnn_status s = clcnn_conv2d_forward(other, ta, tw, NULL, p, tz);
    th_env_restore("CLCNN_CONV_TILE", tile);
    th_env_restore("CLCNN_CONV_TILED", tiled);
    if (s != CLCNN_ERR_BUILD)
        fail_msg(
            "conv2d_forward with the tile 64:64:16:4:4:0 returned %s (%s), expected CLCNN_ERR_BUILD from "
            "the guard",
            clcnn_status_string(s), clcnn_last_error(other));
    expect_contains(clcnn_last_error(other), "clcnn_tile_not_taken", "the guard's build failure");
}

/* A tensor larger than the device allocates in one buffer is
 * CLCNN_ERR_OUT_OF_MEMORY with a sentence naming CL_DEVICE_MAX_MEM_ALLOC_SIZE,
 * refused before any allocation; *out is untouched and the context works.
 * The shape is (1, 1, 1, k) F32 with 4k just above the limit, or, when k
 * would not fit an int, (1, 1, d, e) with d*e*4 above it. */
static void tensor_larger_than_max_alloc_is_out_of_memory(void **state)
{
    (void)state;
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    cl_ulong max_alloc = 0;
    check_cl(clGetDeviceInfo(clcnn_context_cl_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                             &max_alloc, NULL),
             "clGetDeviceInfo(CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
    const cl_ulong elems = max_alloc / 4 + 1; /* one element more than fits */
    int d = 1, e = (int)elems;
    if (elems > 0x7fffffffULL) {
        d = (int)((elems + 0x7ffffffeULL) / 0x7fffffffULL);
        e = (int)((elems + (cl_ulong)d - 1) / (cl_ulong)d);
    }
    clcnn_tensor *t = (clcnn_tensor *)&max_alloc; /* a sentinel the call must not touch */
    clcnn_tensor *const before = t;
    assert_int_equal(clcnn_tensor_create(ctx, CLCNN_F32, 1, 1, d, e, &t), CLCNN_ERR_OUT_OF_MEMORY);
    assert_ptr_equal(t, before);
    expect_contains(clcnn_last_error(ctx), "clcnn_tensor_create", "message");
    expect_contains(clcnn_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE", "message");
    clcnn_tensor *ok = th_tensor(ctx, CLCNN_F32, 1, 2, 2, 1, NULL); /* the context still works */
    clcnn_tensor_destroy(ok);
    clcnn_context_destroy(ctx);
}

#define U(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        U(context_on_caller_objects_matches_host_and_leaves_them_usable),
        U(tensor_cl_mem_feeds_a_caller_kernel_on_the_same_queue),
        U(create_cl_rejects_each_null_argument),
        U(create_cl_rejects_queue_of_another_cl_context),
        U(create_cl_rejects_out_of_order_queue),
        U(kernel_dir_of_the_source_tree_gives_the_embedded_result),
        U(kernel_dir_with_broken_pad_gives_build_error_with_log),
        U(kernel_dir_without_pad_gives_build_error_cannot_read),
        U(conv_tile_setting_reaches_the_tiled_build),
        cmocka_unit_test(tensor_larger_than_max_alloc_is_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
