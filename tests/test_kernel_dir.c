/* test_kernel_dir.c - kernel sources read from $CLCNN_KERNEL_DIR, the
 * development mode: the source tree's folder gives the embedded sources'
 * results, a pad.cl that does not compile or is missing fails with
 * CLCNN_ERR_BUILD and a message saying why (the outputs untouched, the
 * context usable, the failure not remembered), and CLCNN_CONV_TILE reaches
 * the tiled kernels' build (part of test_interop, see interop.h). */
#define _POSIX_C_SOURCE 200809L
#include "interop.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLCNN_SOURCE_KERNELS
#error "CLCNN_SOURCE_KERNELS (the kernels/ folder of the source tree) must be defined"
#endif

/* ------------------------------------------------------------------------ */
/* Kernel folders                                                             */
/* ------------------------------------------------------------------------ */

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
static void copy_source_kernel_after(th_fixture *f, const char *dir, const char *name, const char *prefix)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CLCNN_SOURCE_KERNELS, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    const size_t cap = (size_t)1 << 20, skip = strlen(prefix);
    assert_true(skip < cap / 2);
    char *text = th_own_mem(f, malloc(cap));
    memcpy(text, prefix, skip);
    const size_t len = fread(text + skip, 1, cap - skip - 1, fp);
    fclose(fp);
    assert_true(len > 0);
    write_file(dir, name, text, skip + len);
}

/* Copies kernels/<name> of the source tree into dir. */
static void copy_source_kernel(th_fixture *f, const char *dir, const char *name)
{
    copy_source_kernel_after(f, dir, name, "");
}

/* Copies every .cl file of the source tree's kernels/ (prelude.cl too) into dir,
 * so that dir serves every program as the source tree does. */
static void copy_source_kernels(th_fixture *f, const char *dir)
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

/* ------------------------------------------------------------------------ */
/* The ops that read the folder                                               */
/* ------------------------------------------------------------------------ */

enum { PN = 2, PH = 3, PW = 4, PC = 3, PPAD = 2 };

/* The zero_pad case of the tests: x (PN, PH, PW, PC) padded by PPAD. */
static tc_shape pad_shape(void)
{
    tc_shape s = {0};
    s.n = PN, s.h = PH, s.w = PW, s.c = PC, s.pad = PPAD;
    return s;
}

/* Fails unless padded, read from x_pad, is x padded with zeros. */
static void expect_padded(const double *padded, const double *x)
{
    for (int i = 0; i < PN; i++)
        for (int y = 0; y < PH + 2 * PPAD; y++)
            for (int xx = 0; xx < PW + 2 * PPAD; xx++)
                for (int k = 0; k < PC; k++) {
                    const int iy = y - PPAD, ix = xx - PPAD;
                    const double want = iy >= 0 && iy < PH && ix >= 0 && ix < PW
                                            ? x[((i * PH + iy) * PW + ix) * PC + k]
                                            : 0.0;
                    assert_true(padded[((i * (PH + 2 * PPAD) + y) * (PW + 2 * PPAD) + xx) * PC + k] == want);
                }
}

/* zero_pad of a seeded (2, 3, 4, 3) F32 tensor by 2 on a new OpenCL context
 * (so its pad program is built now, from the current CLCNN_KERNEL_DIR); the
 * raw bytes of the result, owned by the fixture. */
static unsigned char *zero_pad_bytes(th_fixture *f, size_t *nbytes)
{
    np_random r;
    np_random_seed(&r, 3);
    double *x = randn_f32(f, &r, (size_t)PN * PH * PW * PC);
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    const tc_shape s = pad_shape();
    double *const in[TC_MAX_IN] = {x};
    tc_tensors zp;
    th_case_make(f, ctx, tc_op_of(TC_ZERO_PAD), &s, F32, in, &zp);
    th_case_run(&zp);
    unsigned char *bytes = th_own_mem(f, th_snapshot(zp.out[0], nbytes));
    /* Sanity: the result really is x padded with zeros (x holds floats, so
     * comparing in double is comparing the floats). */
    expect_padded(read_all(f, zp.out[0]), x);
    return bytes;
}

void kernel_dir_of_the_source_tree_gives_the_embedded_result(void **state)
{
    th_fixture *f = th_fx(state);
    size_t n_embedded = 0, n_files = 0;
    th_set_env(f, "CLCNN_KERNEL_DIR", NULL);
    const unsigned char *embedded = zero_pad_bytes(f, &n_embedded);
    th_set_env(f, "CLCNN_KERNEL_DIR", CLCNN_SOURCE_KERNELS);
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
static clcnn_status conv_on_both(th_fixture *f, clcnn_context *ctx, int h_in, int pad, clcnn_conv_algo algo)
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
    const tc_op *op = tc_op_of(TC_CONV_FORWARD);
    tc_shape s = {0};
    s.n = M, s.h = h_in, s.w = W, s.c = CIN, s.fh = FH, s.fw = FW, s.cout = COUT;
    s.stride = p.stride, s.pad = p.pad, s.bias = 1, s.algo = p.algo;
    double *const in[TC_MAX_IN] = {a, w, b};
    tc_tensors dev;
    th_case_make(f, ctx, op, &s, F32, in, &dev);
    clcnn_tensor *tz = dev.out[0];
    int od[4];
    assert_true(tc_dims(op, &s, op->n_in, od));
    assert_memory_equal(od, zd, sizeof zd);
    th_write(tz, z0);
    size_t nsnap = 0;
    const unsigned char *snap = th_own_mem(f, th_snapshot(tz, &nsnap));
    const clcnn_status st = tc_run(&dev);
    if (st == CLCNN_OK) {
        tc_tensors ref;
        th_case_reference(f, op, &s, F32, in, &ref);
        const double *got = read_all(f, tz), *want = read_all(f, ref.out[0]);
        assert_memory_equal(got, want, th_count(tz) * sizeof(double));
        th_case_free(f, &ref);
    } else {
        th_expect_unchanged(tz, snap, nsnap, "z");
    }
    th_case_free(f, &dev);
    return st;
}

/* The padded convolution of conv_on_both works on ctx. */
static void expect_conv_works(th_fixture *f, clcnn_context *ctx)
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

/* The zero_pad case on ctx: x holds 1, 2, ... (its values, owned by f, in
 * *x_out) and x_pad a non-zero pattern, snapshotted into *snap. */
static void patterned_pad_case(th_fixture *f, clcnn_context *ctx, tc_tensors *zp, double **x_out,
                               const unsigned char **snap, size_t *nsnap)
{
    enum { COUNT = PN * (PH + 2 * PPAD) * (PW + 2 * PPAD) * PC };
    double *x = th_own_mem(f, malloc(PN * PH * PW * PC * sizeof *x));
    for (int i = 0; i < PN * PH * PW * PC; i++)
        x[i] = i + 1;
    const tc_shape s = pad_shape();
    double *const in[TC_MAX_IN] = {x};
    th_case_make(f, ctx, tc_op_of(TC_ZERO_PAD), &s, F32, in, zp);
    double v[COUNT];
    for (int i = 0; i < COUNT; i++)
        v[i] = (i % 2 ? -1.0 : 1.0) * (1000.0 + 0.25 * i + 0.125);
    th_write(zp->out[0], v);
    *snap = th_own_mem(f, th_snapshot(zp->out[0], nsnap));
    *x_out = x;
}

/* ------------------------------------------------------------------------ */
/* Build failures                                                             */
/* ------------------------------------------------------------------------ */

void kernel_dir_with_broken_pad_gives_build_error_with_log(void **state)
{
    th_fixture *f = th_fx(state);
    const char *dir = th_temp_dir(f);
    copy_source_kernels(f, dir);
    write_file(dir, "pad.cl", broken_pad_src, sizeof broken_pad_src - 1);
    th_set_env(f, "CLCNN_KERNEL_DIR", dir);

    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    tc_tensors zp;
    double *x;
    const unsigned char *snap;
    size_t nsnap = 0;
    patterned_pad_case(f, ctx, &zp, &x, &snap, &nsnap);
    clcnn_tensor *tp = zp.out[0];

    clcnn_status s = tc_run(&zp);
    if (s != CLCNN_ERR_BUILD)
        fail_msg("clcnn_zero_pad with a broken pad.cl returned %s (%s), expected CLCNN_ERR_BUILD",
                 clcnn_status_string(s), clcnn_last_error(ctx));
    const char *msg = clcnn_last_error(ctx);
    expect_contains(msg, "clcnn_zero_pad", "build failure");
    expect_contains(msg, "pad.cl", "build failure");
    expect_contains(msg, "clcnn_undeclared_ident_q7", "build failure (the compiler's build log)");
    th_expect_unchanged(tp, snap, nsnap, "x_pad");
    /* Trying again reads the folder again and fails the same way. */
    assert_int_equal(tc_run(&zp), CLCNN_ERR_BUILD);
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
    s = tc_run(&zp);
    if (s != CLCNN_OK)
        fail_msg("clcnn_zero_pad after repairing pad.cl: %s: %s", clcnn_status_string(s),
                 clcnn_last_error(ctx));
    expect_padded(read_all(f, tp), x);
}

void kernel_dir_without_pad_gives_build_error_cannot_read(void **state)
{
    th_fixture *f = th_fx(state);
    const char *dir = th_temp_dir(f);
    th_set_env(f, "CLCNN_KERNEL_DIR", dir);

    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    tc_tensors zp;
    double *x;
    const unsigned char *snap;
    size_t nsnap = 0;
    patterned_pad_case(f, ctx, &zp, &x, &snap, &nsnap);
    clcnn_tensor *tp = zp.out[0];

    clcnn_status s = tc_run(&zp);
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
    s = tc_run(&zp);
    if (s != CLCNN_ERR_BUILD)
        fail_msg("clcnn_zero_pad without prelude.cl returned %s (%s), expected CLCNN_ERR_BUILD",
                 clcnn_status_string(s), clcnn_last_error(ctx));
    msg = clcnn_last_error(ctx);
    expect_contains(msg, "cannot read", "missing prelude.cl");
    expect_contains(msg, "prelude.cl", "missing prelude.cl");
    th_expect_unchanged(tp, snap, nsnap, "x_pad");

    /* Usable afterwards once the variable is unset (embedded sources). */
    th_set_env(f, "CLCNN_KERNEL_DIR", NULL);
    expect_conv_works(f, ctx);
}

/* ------------------------------------------------------------------------ */
/* The tile setting                                                           */
/* ------------------------------------------------------------------------ */

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

void conv_tile_setting_reaches_the_tiled_build(void **state)
{
    th_fixture *f = th_fx(state);
    const char *dir = th_temp_dir(f);
    copy_source_kernels(f, dir);
    copy_source_kernel_after(f, dir, "conv_tiled.cl", tile_guard);
    th_set_env(f, "CLCNN_KERNEL_DIR", dir);
    th_set_env(f, "CLCNN_CONV_TILED", "1");
    th_set_env(f, "CLCNN_CONV_TILE", "32:16:8:4:2:1");
    expect_conv_works(f, th_own_context(f, th_context(CLCNN_BACKEND_OPENCL)));

    th_set_env(f, "CLCNN_CONV_TILE", "64:64:16:4:4:0");
    clcnn_context *other = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    enum { M = 1, H = 4, W = 4, CIN = 2, FH = 2, FW = 3, COUT = 3 };
    const clcnn_conv_params p = {1, 1, CLCNN_CONV_AUTO};
    const int ad[4] = {M, H, W, CIN}, wd[4] = {FH, FW, CIN, COUT};
    int zd[4];
    assert_int_equal(clcnn_conv2d_output_shape(ad, wd, p, zd), CLCNN_OK);
    const tc_op *op = tc_op_of(TC_CONV_FORWARD);
    tc_shape sh = {0}; /* no bias, zeros in */
    sh.n = M, sh.h = H, sh.w = W, sh.c = CIN, sh.fh = FH, sh.fw = FW, sh.cout = COUT;
    sh.stride = p.stride, sh.pad = p.pad, sh.algo = p.algo;
    int od[4];
    assert_true(tc_dims(op, &sh, op->n_in, od));
    assert_memory_equal(od, zd, sizeof zd);
    tc_tensors t;
    th_case_make(f, other, op, &sh, F32, NULL, &t);
    const clcnn_status s = tc_run(&t);
    if (s != CLCNN_ERR_BUILD)
        fail_msg(
            "conv2d_forward with the tile 64:64:16:4:4:0 returned %s (%s), expected CLCNN_ERR_BUILD from "
            "the guard",
            clcnn_status_string(s), clcnn_last_error(other));
    expect_contains(clcnn_last_error(other), "clcnn_tile_not_taken", "the guard's build failure");
}
