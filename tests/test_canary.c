/* test_canary.c - the guard regions of a CLCNN_CANARIES build: every tensor's
 * data has guards before and after it (host memory, or a device buffer of
 * which the tensor's cl_mem is a sub-buffer), and clcnn__tensor_guards_ok
 * finds any byte of them that changed.  Here faults are planted on purpose:
 * a zero_pad kernel (from $CLCNN_KERNEL_DIR) that writes one element past
 * either end of x_pad, and single bytes written into the guards of host and
 * device tensors; each must be reported, on the right side and at the right
 * distance from the data.  (tests/test_device.c checks the guards of every
 * tensor after every operation of its random cases.) */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, mkdtemp */
#endif

#include "helpers.h"

#include "clcnn_cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLCNN_CANARIES
#error "test_canary is built only with CLCNN_CANARIES=ON"
#endif

static void check_cl(cl_int err, const char *what)
{
    if (err != CL_SUCCESS)
        fail_msg("%s failed with OpenCL error %d", what, (int)err);
}

/* Fails unless t's guards are broken and the report holds each of the
 * (up to three) expected phrases. */
static void expect_broken(const clcnn_tensor *t, const char *a, const char *b, const char *c)
{
    char report[512];
    int ok = clcnn__tensor_guards_ok(t, report, sizeof report);
    if (ok != 0)
        fail_msg("the guards were not reported broken (clcnn__tensor_guards_ok returned %d: %s)", ok, report);
    print_message("  reported: %s\n", report);
    const char *want[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (want[i] && !strstr(report, want[i]))
            fail_msg("the report \"%s\" does not say \"%s\"", report, want[i]);
}

static void expect_intact(const clcnn_tensor *t)
{
    char report[512];
    int ok = clcnn__tensor_guards_ok(t, report, sizeof report);
    if (ok != 1)
        fail_msg("the guards are not intact (%d): %s", ok, report);
}

/* ---------------------------------------------------------------------- */
/* A kernel writing out of bounds                                           */
/* ---------------------------------------------------------------------- */

/* The folder's prelude.cl, which the library builds before every program
 * file: just the element type. */
static const char planted_prelude[] = "#ifdef CLCNN_FP64\n"
                                      "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
                                      "#endif\n"
                                      "#ifndef REAL\n"
                                      "#define REAL float\n"
                                      "#endif\n";

/* A zero_pad with the library's argument list that writes zeros (element
 * i from work-item i, for as many work-items as the launch has) and, from
 * work-item 0, 42 into x_pad[PLANT]. */
static const char broken_pad_fmt[] = "__kernel void zero_pad(__global const REAL *x, int n, int h, int w, "
                                     "int c, int pad, int group, __global REAL *x_pad)\n"
                                     "{\n"
                                     "    const long count = (long)n * (h + 2 * pad) * (w + 2 * pad) * c;\n"
                                     "    const long i = get_global_id(0);\n"
                                     "    if (i < count)\n"
                                     "        x_pad[i] = (REAL)0;\n"
                                     "    if (i == 0)\n"
                                     "        x_pad[%s] = (REAL)42; /* the planted fault */\n"
                                     "}\n";

/* Runs zero_pad of a (1, 3, 4, 1) tensor with pad 1 through a pad.cl whose
 * kernel writes x_pad[plant], in dtype; returns after checking that x_pad's
 * guards are reported broken with the phrases given, and x's are intact. */
static void planted_pad_write(clcnn_dtype dtype, const char *plant, const char *count, const char *at)
{
    char dir[] = "/tmp/clcnn-canary-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 16], prelude[sizeof dir + 16], src[1024];
    snprintf(path, sizeof path, "%s/pad.cl", dir);
    snprintf(prelude, sizeof prelude, "%s/prelude.cl", dir);
    snprintf(src, sizeof src, broken_pad_fmt, plant);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_true(fputs(src, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    fp = fopen(prelude, "w");
    assert_non_null(fp);
    assert_true(fputs(planted_prelude, fp) >= 0);
    assert_int_equal(fclose(fp), 0);

    char *saved = th_env_swap("CLCNN_KERNEL_DIR", dir);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    const double x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    clcnn_tensor *tx = th_tensor(ctx, dtype, 1, 3, 4, 1, x), *tp = th_tensor(ctx, dtype, 1, 5, 6, 1, NULL);
    expect_intact(tx);
    expect_intact(tp);
    clcnn_status s = clcnn_zero_pad(ctx, tx, 1, tp); /* builds pad.cl from dir */
    if (s != CLCNN_OK)
        fail_msg("zero_pad with the planted kernel: %s: %s", clcnn_status_string(s), clcnn_last_error(ctx));
    assert_int_equal(clcnn_finish(ctx), CLCNN_OK);
    expect_intact(tx);
    expect_broken(tp, count, at, "device tensor (1, 5, 6, 1)");

    clcnn_tensor_destroy(tx);
    clcnn_tensor_destroy(tp);
    clcnn_context_destroy(ctx);
    th_env_restore("CLCNN_KERNEL_DIR", saved);
    (void)unlink(path);
    (void)unlink(prelude);
    (void)rmdir(dir);
}

static void kernel_writing_one_element_past_the_end_is_caught(void **state)
{
    (void)state;
    /* x_pad[count]: the 4 (F32) or 8 (F64) bytes right after the data. */
    planted_pad_write(CLCNN_F32, "count", ": 4 of the ",
                      "guard bytes after the data changed, from byte 0 to byte 3 after");
    planted_pad_write(CLCNN_F64, "count", ": 8 of the ",
                      "guard bytes after the data changed, from byte 0 to byte 7 after");
}

static void kernel_writing_one_element_before_the_start_is_caught(void **state)
{
    (void)state;
    planted_pad_write(CLCNN_F32, "-1", ": 4 of the ",
                      "guard bytes before the data changed, from byte 1 to byte 4 before");
    planted_pad_write(CLCNN_F64, "-1", ": 8 of the ",
                      "guard bytes before the data changed, from byte 1 to byte 8 before");
}

/* ---------------------------------------------------------------------- */
/* Single bytes written into the guards                                     */
/* ---------------------------------------------------------------------- */

/* Every byte of a host tensor's two guards is watched: the nearest and the
 * farthest on each side; a byte put back makes the guards intact again. */
static void host_guards_catch_a_byte_on_either_side(void **state)
{
    (void)state;
    clcnn_context *ctx = th_context(CLCNN_BACKEND_HOST);
    clcnn_tensor *t = th_tensor(ctx, CLCNN_F32, 2, 3, 5, 7, NULL);
    unsigned char *data = clcnn__tensor_host_data(t);
    assert_non_null(data);
    const size_t nbytes = th_count(t) * sizeof(float);
    expect_intact(t);
    const struct {
        ptrdiff_t at;
        const char *phrase;
    } pokes[] = {{-1, "from byte 1 to byte 1 before"},
                 {-256, "from byte 256 to byte 256 before"},
                 {(ptrdiff_t)nbytes, "from byte 0 to byte 0 after"},
                 {(ptrdiff_t)nbytes + 255, "from byte 255 to byte 255 after"}};
    for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
        const unsigned char keep = data[pokes[i].at];
        data[pokes[i].at] ^= 0x5a;
        expect_broken(t, "host tensor (2, 3, 5, 7) F32", pokes[i].phrase, "1 of the 256 guard bytes");
        data[pokes[i].at] = keep;
        expect_intact(t);
    }
    /* Operations on the host path leave them intact. */
    clcnn_tensor *p = th_tensor(ctx, CLCNN_F32, 2, 5, 7, 7, NULL);
    assert_int_equal(clcnn_zero_pad(ctx, t, 1, p), CLCNN_OK);
    th_expect_guards((clcnn_tensor *const[]){t, p}, 2, "host zero_pad");
    clcnn_tensor_destroy(t);
    clcnn_tensor_destroy(p);
    clcnn_context_destroy(ctx);
}

/* A device tensor's cl_mem is a sub-buffer of exactly its size, at an
 * origin aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN inside a larger buffer;
 * a byte written into that buffer anywhere outside the data is reported. */
static void device_guards_catch_a_byte_on_either_side(void **state)
{
    (void)state;
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    clcnn_tensor *t = th_tensor(ctx, CLCNN_F64, 1, 3, 3, 3, NULL);
    const size_t nbytes = th_count(t) * sizeof(double);
    cl_mem sub = clcnn_tensor_cl_mem(t), block = NULL;
    size_t size = 0, origin = 0, block_size = 0;
    check_cl(clGetMemObjectInfo(sub, CL_MEM_SIZE, sizeof size, &size, NULL), "CL_MEM_SIZE");
    check_cl(clGetMemObjectInfo(sub, CL_MEM_OFFSET, sizeof origin, &origin, NULL), "CL_MEM_OFFSET");
    check_cl(clGetMemObjectInfo(sub, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof block, &block, NULL),
             "CL_MEM_ASSOCIATED_MEMOBJECT");
    assert_non_null(block);
    check_cl(clGetMemObjectInfo(block, CL_MEM_SIZE, sizeof block_size, &block_size, NULL), "CL_MEM_SIZE");
    cl_device_id dev = clcnn_context_cl_device(ctx);
    cl_uint align_bits = 0;
    check_cl(clGetDeviceInfo(dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL),
             "CL_DEVICE_MEM_BASE_ADDR_ALIGN");
    print_message("  sub-buffer of %zu bytes at offset %zu of a %zu-byte buffer (base alignment %u bits)\n",
                  size, origin, block_size, align_bits);
    assert_int_equal(size, nbytes);
    assert_true(origin >= 4096);
    assert_int_equal(origin % (align_bits / 8), 0);
    assert_int_equal(block_size, nbytes + 2 * origin);
    expect_intact(t);

    cl_command_queue q = clcnn_context_cl_queue(ctx);
    const size_t at[4] = {origin - 1, 0, origin + nbytes, block_size - 1};
    /* The nearest and the farthest guard byte on each side. */
    char phrase[4][64];
    snprintf(phrase[0], sizeof phrase[0], "from byte 1 to byte 1 before");
    snprintf(phrase[1], sizeof phrase[1], "from byte %zu to byte %zu before", origin, origin);
    snprintf(phrase[2], sizeof phrase[2], "from byte 0 to byte 0 after");
    snprintf(phrase[3], sizeof phrase[3], "from byte %zu to byte %zu after", origin - 1, origin - 1);
    for (int i = 0; i < 4; i++) {
        unsigned char keep, bad;
        check_cl(clEnqueueReadBuffer(q, block, CL_TRUE, at[i], 1, &keep, 0, NULL, NULL), "read a guard byte");
        bad = keep ^ 0x5a;
        check_cl(clEnqueueWriteBuffer(q, block, CL_TRUE, at[i], 1, &bad, 0, NULL, NULL),
                 "write a guard byte");
        expect_broken(t, "device tensor (1, 3, 3, 3) F64", phrase[i], "1 of the");
        check_cl(clEnqueueWriteBuffer(q, block, CL_TRUE, at[i], 1, &keep, 0, NULL, NULL), "restore it");
        expect_intact(t);
    }
    clcnn_tensor_destroy(t);
    clcnn_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_writing_one_element_past_the_end_is_caught),
        cmocka_unit_test(kernel_writing_one_element_before_the_start_is_caught),
        cmocka_unit_test(host_guards_catch_a_byte_on_either_side),
        cmocka_unit_test(device_guards_catch_a_byte_on_either_side),
    };
    return cmocka_run_group_tests_name("canary", tests, NULL, NULL);
}
