/* test_tune.c - the measured choice of a variant (algorithm and work-item
 * order; clcnn_context_set_tuning, CLCNN_TUNE): each direction of a shape
 * is measured once, remembered in <cache folder>/tune-v1.txt, and reused by
 * a later context without measuring; results stay correct and, once chosen,
 * identical; every variant a file may name runs and gives the exact
 * result, and one that cannot run here falls back; a damaged file is
 * skipped line by line; tuning off, or an algorithm forced, writes nothing.
 * Every case runs in its own temporary cache folder. */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The small convolution every case runs: a (2, 9, 8, 5), w (3, 3, 5, 32),
 * pad 1, stride 1: forward and backward, on integer data so that every
 * variant gives exact sums. 32 filters are two channel blocks of the
 * forward (and 5 input channels five of backward data), so both have two
 * work-item orders to choose from. */
enum { N = 2, H = 9, W = 8, CIN = 5, F = 3, COUT = 32 };

typedef struct {
    double z[N * H * W * COUT], da[N * H * W * CIN], dw[F * F * CIN * COUT], db[COUT];
} results;

/* The case of ops.h: the convolution with bias. */
static tc_shape conv_case(void)
{
    tc_shape s = {.n = N, .h = H, .w = W, .c = CIN, .cout = COUT, .fh = F, .fw = F, .stride = 1, .pad = 1};
    s.bias = 1;
    return s;
}

/* The forward and the backward of the convolution on ctx, with the same
 * integer data every time. */
static void run_conv(th_fixture *f, clcnn_context *ctx, results *r)
{
    const tc_shape s = conv_case();
    const tc_op *fwd = tc_op_of(TC_CONV_FORWARD), *bwd = tc_op_of(TC_CONV_BACKWARD);
    np_random rng;
    np_random_seed(&rng, 1234);
    double *a = tc_values(&rng, N * H * W * CIN, TC_INTEGERS, 1.0);
    double *w = tc_values(&rng, F * F * CIN * COUT, TC_INTEGERS, 1.0);
    double *b = tc_values(&rng, COUT, TC_INTEGERS, 1.0),
           *dz = tc_values(&rng, N * H * W * COUT, TC_INTEGERS, 1.0);
    tc_tensors ft, bt;
    th_case_make(f, ctx, fwd, &s, CLCNN_F32, (double *const[TC_MAX_IN]){a, w, b}, &ft);
    th_case_make(f, ctx, bwd, &s, CLCNN_F32, (double *const[TC_MAX_IN]){dz, a, w}, &bt);
    free(a), free(w), free(b), free(dz);
    th_case_run(&ft);
    th_case_run(&bt);
    clcnn_tensor *outs[] = {ft.out[0], bt.out[0], bt.out[1], bt.out[2]};
    double *dst[] = {r->z, r->da, r->dw, r->db};
    for (int i = 0; i < 4; i++) {
        double *v = th_read(outs[i]);
        memcpy(dst[i], v, th_count(outs[i]) * sizeof(double));
        free(v);
    }
    th_case_free(f, &bt);
    th_case_free(f, &ft);
}

/* The host reference's results (integer data: exact in F32 either way). */
static const results *reference(th_fixture *f)
{
    static results ref;
    static int done;
    if (!done) {
        run_conv(f, th_host(f), &ref);
        done = 1;
    }
    return &ref;
}

/* Every case: its own cache folder (restored afterwards), tuning and the
 * algorithm left to the context. */
static int setup(void **state)
{
    if (th_setup(state) != 0)
        return -1;
    th_fixture *f = th_fx(state);
    th_set_env(f, "CLCNN_CACHE_DIR", th_temp_dir(f));
    th_set_env(f, "CLCNN_TUNE", NULL);
    th_set_env(f, "CLCNN_CONV_ALGO", NULL);
    return 0;
}

/* The tune file, in a static buffer. */
static const char *tune_file(th_fixture *f)
{
    static char file[96];
    snprintf(file, sizeof file, "%s/tune-v1.txt", th_temp_dir(f));
    return file;
}

/* The tune file's contents ("" when missing), in a static buffer. */
static const char *file_text(th_fixture *f)
{
    static char text[4096];
    text[0] = '\0';
    FILE *fp = fopen(tune_file(f), "r");
    if (fp) {
        size_t n = fread(text, 1, sizeof text - 1, fp);
        text[n] = '\0';
        fclose(fp);
    }
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* The variants of the file's lines, in order (forward, backward data,
 * backward filter after a first run_conv); returns how many lines. */
static int line_variants(const char *text, int v[8])
{
    int n = 0;
    unsigned long long key;
    int variant, used;
    while (n < 8 && sscanf(text, "%16llx %d\n%n", &key, &variant, &used) == 2) {
        v[n++] = variant;
        text += used;
    }
    return n;
}

/* Rewrites the file with each line's variant replaced by v[i]. */
static void set_variants(th_fixture *f, const int v[3])
{
    char text[4096];
    snprintf(text, sizeof text, "%s", file_text(f));
    FILE *fp = fopen(tune_file(f), "w");
    assert_non_null(fp);
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        unsigned long long key;
        int variant, used;
        assert_int_equal(sscanf(p, "%16llx %d\n%n", &key, &variant, &used), 2);
        fprintf(fp, "%016llx %d\n", key, v[i]);
        p += used;
    }
    fclose(fp);
}

static void expect_reference(th_fixture *f, const results *r)
{
    const results *ref = reference(f);
    assert_memory_equal(r, ref, sizeof *r);
}

/* An OpenCL context with tuning on, owned by f. */
static clcnn_context *tuned_context(th_fixture *f)
{
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    assert_int_equal(clcnn_context_set_tuning(ctx, 1), CLCNN_OK);
    assert_int_equal(clcnn_context_tuning(ctx), 1);
    return ctx;
}

/* Whether tuning measures the tiled kernels (cl_conv.c): CLCNN_CONV_TILED=1,
 * or the GPU defaults (a GPU, or CLCNN_DEVICE_PROFILE=gpu) unless it is 0. */
static int tiled_candidates(clcnn_context *ctx)
{
    const char *on = getenv("CLCNN_CONV_TILED"), *profile = getenv("CLCNN_DEVICE_PROFILE");
    if (on && (strcmp(on, "0") == 0 || strcmp(on, "1") == 0))
        return on[0] == '1';
    return (profile && strcmp(profile, "gpu") == 0) || !strstr(clcnn_context_device_name(ctx), "pthread");
}

static void each_direction_is_measured_once_and_reused(void **state)
{
    th_fixture *f = th_fx(state);
    static results r1, r2;
    clcnn_context *ctx = tuned_context(f);
    run_conv(f, ctx, &r1);
    expect_reference(f, &r1);
    char first[4096];
    snprintf(first, sizeof first, "%s", file_text(f));
    assert_int_equal(count_lines(first), 3); /* forward, backward data, backward filter */
    int v[8];
    assert_int_equal(line_variants(first, v), 3);
    /* forward and backward data: GEMM (2), an order (3, 4) or, where the
     * tiled kernels are candidates, the tiled kernel (5); backward filter:
     * its direct kernel (1; 3 beside the tiled one), GEMM, the tiled one */
    const int tiled = tiled_candidates(ctx);
    for (int i = 0; i < 2; i++)
        assert_true(v[i] >= 2 && v[i] <= (tiled ? 5 : 4));
    if (tiled) /* 1 where the tile does not suit the filter kernel */
        assert_true(v[2] == 1 || v[2] == 2 || v[2] == 3 || v[2] == 5);
    else
        assert_true(v[2] == 1 || v[2] == 2);
    run_conv(f, ctx, &r2); /* the same context: remembered, nothing appended */
    assert_string_equal(file_text(f), first);
    th_drop_context(f, ctx);

    ctx = tuned_context(f); /* a new context: read from the file, nothing measured */
    run_conv(f, ctx, &r2);
    th_drop_context(f, ctx);
    assert_string_equal(file_text(f), first);
    assert_memory_equal(&r1, &r2, sizeof r1);
}

/* Each variant the file may name for forward and backward data (orders,
 * the tiled kernel, GEMM; and an order or the tiled kernel named for the
 * filter, which has neither) runs from the file, without
 * measuring, and gives the exact result; a remembered GEMM whose workspace
 * no longer fits falls back to the direct kernel. */
static void every_remembered_variant_runs_exactly(void **state)
{
    th_fixture *f = th_fx(state);
    static results r;
    clcnn_context *ctx = tuned_context(f);
    run_conv(f, ctx, &r); /* measures, writes the three lines */
    th_drop_context(f, ctx);
    static const int sets[][3] = {{3, 3, 3}, {4, 4, 4}, {1, 1, 1}, {2, 2, 2},
                                  {3, 4, 1}, {4, 3, 2}, {5, 5, 5}};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        set_variants(f, sets[s]);
        char before[4096];
        snprintf(before, sizeof before, "%s", file_text(f));
        ctx = tuned_context(f);
        memset(&r, 0, sizeof r);
        run_conv(f, ctx, &r);
        th_drop_context(f, ctx);
        expect_reference(f, &r);
        assert_string_equal(file_text(f), before); /* nothing measured */
    }
    /* GEMM remembered, but a workspace limit too small for its column
     * matrix: the direct kernel runs instead, nothing is measured. */
    set_variants(f, (const int[3]){2, 2, 2});
    char before[4096];
    snprintf(before, sizeof before, "%s", file_text(f));
    ctx = tuned_context(f);
    assert_int_equal(clcnn_context_set_workspace_limit(ctx, 64), CLCNN_OK);
    run_conv(f, ctx, &r);
    th_drop_context(f, ctx);
    expect_reference(f, &r);
    assert_string_equal(file_text(f), before);
    /* Variants out of range are no choice: each direction is measured again. */
    set_variants(f, (const int[3]){0, 6, -1});
    ctx = tuned_context(f);
    run_conv(f, ctx, &r);
    th_drop_context(f, ctx);
    expect_reference(f, &r);
    assert_int_equal(count_lines(file_text(f)), 3 + 3);
}

static void a_damaged_tune_file_is_skipped_line_by_line(void **state)
{
    th_fixture *f = th_fx(state);
    FILE *fp = fopen(tune_file(f), "w");
    assert_non_null(fp);
    fputs("garbage\n0123456789abcdef 7\n0123456789abcdef 6\n0123456789abcdef 0\nzzzzzzzzzzzzzzzz 1\n0123\n",
          fp);
    fclose(fp);
    static results r;
    clcnn_context *ctx = tuned_context(f);
    run_conv(f, ctx, &r);
    th_drop_context(f, ctx);
    expect_reference(f, &r);
    assert_int_equal(count_lines(file_text(f)), 6 + 3); /* the damaged lines stay, 3 choices appended */
}

static void tuning_off_or_a_forced_algorithm_writes_nothing(void **state)
{
    th_fixture *f = th_fx(state);
    static results r;
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    assert_int_equal(clcnn_context_tuning(ctx), 0);
    run_conv(f, ctx, &r);
    th_drop_context(f, ctx);
    expect_reference(f, &r);
    struct stat st;
    assert_int_not_equal(stat(tune_file(f), &st), 0);

    th_set_env(f, "CLCNN_CONV_ALGO", "gemm"); /* forced: AUTO means GEMM, no measuring */
    th_set_env(f, "CLCNN_TUNE", "1");
    ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    assert_int_equal(clcnn_context_tuning(ctx), 1);
    run_conv(f, ctx, &r);
    th_drop_context(f, ctx);
    expect_reference(f, &r);
    assert_int_not_equal(stat(tune_file(f), &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_direction_is_measured_once_and_reused, setup, th_teardown),
        cmocka_unit_test_setup_teardown(every_remembered_variant_runs_exactly, setup, th_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_tune_file_is_skipped_line_by_line, setup, th_teardown),
        cmocka_unit_test_setup_teardown(tuning_off_or_a_forced_algorithm_writes_nothing, setup, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
