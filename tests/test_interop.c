/* test_interop.c - clcnn on OpenCL objects the caller owns (clcnn_cl.h):
 * contexts made with clcnn_context_create_cl, and tensors' cl_mem used by
 * the caller's own kernels on the same in-order queue; with main, which
 * runs the cases of every file of test_interop (interop.h lists them). */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "interop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------ */
/* What the files share                                                       */
/* ------------------------------------------------------------------------ */

void check_cl(cl_int err, const char *what)
{
    if (err != CL_SUCCESS)
        fail_msg("%s failed with OpenCL error %d", what, (int)err);
}

static void release_caller_cl(void *p)
{
    caller_cl *c = p;
    if (c->kernel)
        clReleaseKernel(c->kernel);
    if (c->program)
        clReleaseProgram(c->program);
    for (int i = 0; i < c->n_mems; i++)
        clReleaseMemObject(c->mems[i]);
    if (c->ooo)
        clReleaseCommandQueue(c->ooo);
    if (c->queue2)
        clReleaseCommandQueue(c->queue2);
    if (c->clctx2)
        clReleaseContext(c->clctx2);
    if (c->queue)
        clReleaseCommandQueue(c->queue);
    if (c->clctx)
        clReleaseContext(c->clctx);
    free(c);
}

caller_cl *open_caller_cl(th_fixture *f)
{
    caller_cl *c = calloc(1, sizeof *c);
    assert_non_null(c);
    th_at_teardown(f, release_caller_cl, c);
    cl_uint n = 0;
    check_cl(clGetPlatformIDs(1, &c->platform, &n), "clGetPlatformIDs");
    assert_true(n >= 1);
    check_cl(clGetDeviceIDs(c->platform, CL_DEVICE_TYPE_ALL, 1, &c->device, &n), "clGetDeviceIDs");
    assert_true(n >= 1);
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)c->platform, 0};
    cl_int err;
    c->clctx = clCreateContext(props, 1, &c->device, NULL, NULL, &err);
    check_cl(err, "clCreateContext");
    c->queue = clCreateCommandQueue(c->clctx, c->device, 0, &err);
    check_cl(err, "clCreateCommandQueue (in-order)");
    return c;
}

cl_uint context_refs(cl_context c)
{
    cl_uint r = 0;
    check_cl(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL),
             "CL_CONTEXT_REFERENCE_COUNT");
    return r;
}

cl_uint queue_refs(cl_command_queue q)
{
    cl_uint r = 0;
    check_cl(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL),
             "CL_QUEUE_REFERENCE_COUNT");
    return r;
}

clcnn_context *create_cl_ok(th_fixture *f, const caller_cl *c)
{
    clcnn_context *ctx = NULL;
    clcnn_status s = clcnn_context_create_cl(c->clctx, c->device, c->queue, &ctx);
    if (s != CLCNN_OK)
        fail_msg("clcnn_context_create_cl: %s: %s", clcnn_status_string(s), clcnn_last_error(NULL));
    assert_non_null(ctx);
    return th_own_context(f, ctx);
}

void expect_contains(const char *hay, const char *needle, const char *what)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("%s: expected the message to contain \"%s\", got \"%s\"", what, needle,
                 hay ? hay : "(null)");
}

double *randn_f32(th_fixture *f, np_random *r, size_t count)
{
    double *x = th_own_mem(f, malloc(count * sizeof *x));
    np_random_randn(r, x, count);
    for (size_t i = 0; i < count; i++)
        x[i] = (double)(float)x[i];
    return x;
}

double *read_all(th_fixture *f, const clcnn_tensor *t)
{
    return th_own_mem(f, th_read(t));
}

/* ------------------------------------------------------------------------ */
/* A context on the caller's objects                                          */
/* ------------------------------------------------------------------------ */

/* Waits (at most about 2 s) for the reference counts of the caller's context
 * and queue to come down to ctx_refs and queue_refs.  The OpenCL spec calls
 * these counts "immediately stale": PoCL's worker threads drop their own
 * references to the queue of a finished command a moment after clFinish (or
 * a blocking read) has returned, so a count read at once can still be one
 * high.  A reference clcnn kept would never come back, and fails the test. */
static void settle_refs(const caller_cl *c, cl_uint ctx_refs, cl_uint queue_refs_want)
{
    for (int i = 0; i < 2000; i++) {
        check_cl(clFinish(c->queue), "clFinish");
        if (context_refs(c->clctx) <= ctx_refs && queue_refs(c->queue) <= queue_refs_want)
            return;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

void context_on_caller_objects_matches_host_and_leaves_them_usable(void **state)
{
    th_fixture *f = th_fx(state);
    caller_cl *c = open_caller_cl(f);
    const cl_uint ctx_refs0 = context_refs(c->clctx), queue_refs0 = queue_refs(c->queue);

    clcnn_context *ctx = create_cl_ok(f, c);
    assert_int_equal(clcnn_context_backend(ctx), CLCNN_BACKEND_OPENCL);
    char name[256] = "";
    check_cl(clGetDeviceInfo(c->device, CL_DEVICE_NAME, sizeof name, name, NULL), "CL_DEVICE_NAME");
    name[sizeof name - 1] = '\0';
    assert_string_equal(clcnn_context_device_name(ctx), name);
    /* The contract retains the caller's objects while the context lives. */
    assert_true(context_refs(c->clctx) > ctx_refs0);
    assert_true(queue_refs(c->queue) > queue_refs0);

    /* conv2d_forward with fh != fw, stride 2 and pad 1 on seeded data. */
    enum { M = 2, H = 6, W = 7, CIN = 4, FH = 3, FW = 2, COUT = 5 };
    const clcnn_conv_params p = {2, 1, CLCNN_CONV_AUTO};
    const int ad[4] = {M, H, W, CIN}, wd[4] = {FH, FW, CIN, COUT};
    int zd[4];
    assert_int_equal(clcnn_conv2d_output_shape(ad, wd, p, zd), CLCNN_OK);
    const tc_op *op = tc_op_of(TC_CONV_FORWARD);
    tc_shape s = {0};
    s.n = M, s.h = H, s.w = W, s.c = CIN, s.fh = FH, s.fw = FW, s.cout = COUT;
    s.stride = p.stride, s.pad = p.pad, s.bias = 1, s.algo = p.algo;
    int od[4];
    assert_true(tc_dims(op, &s, op->n_in, od));
    assert_memory_equal(od, zd, sizeof zd);
    np_random r;
    np_random_seed(&r, 1);
    const size_t na = (size_t)M * H * W * CIN, nw = (size_t)FH * FW * CIN * COUT, nb = COUT;
    double *a = randn_f32(f, &r, na), *w = randn_f32(f, &r, nw), *b = randn_f32(f, &r, nb);
    double *const in[TC_MAX_IN] = {a, w, b};

    tc_tensors dev, ref;
    th_case_make(f, ctx, op, &s, F32, in, &dev);
    th_case_run(&dev);
    const double *got = read_all(f, dev.out[0]);

    /* The host reference in F32 (same inputs, same dtype) ... */
    th_case_reference(f, op, &s, F32, in, &ref);
    const double *want = read_all(f, ref.out[0]);
    /* ... and S = the sum of |terms| of each output, the host convolution of
     * |a|, |w| and |b| in F64 (exact for these float-valued inputs up to a
     * relative 2^-53 per term, negligible here). */
    double *mag[TC_MAX_OUT];
    th_case_magnitudes(f, op, &s, in, mag);
    const double *sum_abs = th_own_mem(f, mag[0]);

    /* Tolerance.  Each output sums K = fh*fw*cin + 1 terms (the products and
     * the bias).  The device does it in float: each term goes through at most
     * K roundings (its product and up to K-1 additions), so its error is at
     * most gamma_K * S with gamma_K = K*u/(1 - K*u), u = 2^-24 (Higham,
     * Accuracy and Stability, 3.1).  The host F32 reference sums in double
     * and rounds once to float: at most u*|z| <= u*S more.  (K + 2)*u*S covers
     * both, the extra u*S absorbing gamma_K's second-order part and the
     * double-precision sums' own error (about K*2^-53*S). */
    const double K = FH * FW * CIN + 1, u = ldexp(1.0, -24);
    const size_t nz = th_count(dev.out[0]);
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
    th_case_free(f, &dev);
    th_drop_context(f, ctx);
    settle_refs(c, ctx_refs0, queue_refs0);
    assert_int_equal(context_refs(c->clctx), ctx_refs0);
    assert_int_equal(queue_refs(c->queue), queue_refs0);

    enum { NFILL = 256 };
    cl_int err;
    cl_mem m = clCreateBuffer(c->clctx, CL_MEM_READ_WRITE, NFILL * sizeof(cl_float), NULL, &err);
    check_cl(err, "clCreateBuffer after clcnn_context_destroy");
    assert_true(c->n_mems < CALLER_MAX_MEMS);
    c->mems[c->n_mems++] = m;
    const cl_float pattern = 3.25f;
    check_cl(clEnqueueFillBuffer(c->queue, m, &pattern, sizeof pattern, 0, NFILL * sizeof(cl_float), 0, NULL,
                                 NULL),
             "clEnqueueFillBuffer after clcnn_context_destroy");
    check_cl(clFinish(c->queue), "clFinish after clcnn_context_destroy");
    cl_float back[NFILL];
    check_cl(clEnqueueReadBuffer(c->queue, m, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL),
             "clEnqueueReadBuffer");
    for (int i = 0; i < NFILL; i++)
        assert_true(back[i] == 3.25f);
}

/* ------------------------------------------------------------------------ */
/* A tensor's cl_mem in the caller's kernel                                   */
/* ------------------------------------------------------------------------ */

static const char *const twice_plus_one_src = "__kernel void twice_plus_one(__global float *x, uint n)\n"
                                              "{\n"
                                              "    const size_t i = get_global_id(0);\n"
                                              "    if (i < n)\n"
                                              "        x[i] = 2.0f * x[i] + 1.0f;\n"
                                              "}\n";

/* Builds twice_plus_one in c's context and runs it on m's first n floats
 * on c's queue, without waiting for it. */
static void enqueue_twice_plus_one(caller_cl *c, cl_mem m, cl_uint n)
{
    cl_int err;
    const char *src = twice_plus_one_src;
    c->program = clCreateProgramWithSource(c->clctx, 1, &src, NULL, &err);
    check_cl(err, "clCreateProgramWithSource");
    err = clBuildProgram(c->program, 1, &c->device, "-cl-std=CL1.2", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[4096] = "";
        clGetProgramBuildInfo(c->program, c->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fail_msg("clBuildProgram of the caller kernel failed (%d): %s", (int)err, log);
    }
    c->kernel = clCreateKernel(c->program, "twice_plus_one", &err);
    check_cl(err, "clCreateKernel");
    check_cl(clSetKernelArg(c->kernel, 0, sizeof m, &m), "clSetKernelArg 0");
    check_cl(clSetKernelArg(c->kernel, 1, sizeof n, &n), "clSetKernelArg 1");
    const size_t global = n;
    check_cl(clEnqueueNDRangeKernel(c->queue, c->kernel, 1, NULL, &global, NULL, 0, NULL, NULL),
             "clEnqueueNDRangeKernel");
}

void tensor_cl_mem_feeds_a_caller_kernel_on_the_same_queue(void **state)
{
    th_fixture *f = th_fx(state);
    caller_cl *c = open_caller_cl(f);
    clcnn_context *ctx = create_cl_ok(f, c);

    enum { N = 1, H = 3, W = 4, C = 5, COUNT = N * H * W * C, PAD = 1 };
    double x[COUNT];
    for (int i = 0; i < COUNT; i++)
        x[i] = 0.25 * (i - 30); /* exact in float, and so are 2x + 1 */
    tc_shape s = {0};
    s.n = N, s.h = H, s.w = W, s.c = C, s.pad = PAD;
    double *const in[TC_MAX_IN] = {x};
    tc_tensors zp; /* x and x_pad */
    th_case_make(f, ctx, tc_op_of(TC_ZERO_PAD), &s, F32, in, &zp);
    clcnn_tensor *t = zp.in[0], *tp = zp.out[0];

    cl_mem m = clcnn_tensor_cl_mem(t);
    assert_non_null(m);
    cl_context mctx = NULL;
    size_t msize = 0;
    check_cl(clGetMemObjectInfo(m, CL_MEM_CONTEXT, sizeof mctx, &mctx, NULL), "CL_MEM_CONTEXT");
    check_cl(clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof msize, &msize, NULL), "CL_MEM_SIZE");
    assert_ptr_equal(mctx, c->clctx);
    assert_true(msize >= COUNT * sizeof(cl_float));

    enqueue_twice_plus_one(c, m, COUNT);
    /* No clFinish: clcnn's work is ordered after the caller's on the same
     * in-order queue, both the op that reads t and the read-back. */
    th_case_run(&zp);
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
    clcnn_tensor *ht = th_fx_tensor(f, th_host(f), F32, N, H, W, C, x);
    assert_null(clcnn_tensor_cl_mem(ht));
    assert_null(clcnn_tensor_cl_mem(NULL));
}

#define U(name) cmocka_unit_test_setup_teardown(name, th_setup, th_teardown)

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
        U(tensor_larger_than_max_alloc_is_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
