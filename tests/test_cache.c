/* test_cache.c - the on-disk cache of built program binaries
 * (host/opencl/cl_cache.h): it fills when cold and is used when warm, and a
 * corrupt, truncated, foreign, rejected, missing or unwritable cache, two
 * processes filling it at once, or CLCNN_CACHE=0 all give the reference's
 * results without an error.
 *
 * The whole binary runs on a private cache folder (main sets
 * CLCNN_CACHE_DIR), and each case on its own fresh folder (the fixture's
 * th_temp_dir), removed afterwards, so the user's ~/.cache is never
 * touched. What the cases know of a cache folder and its entries is in
 * test_cache_entries.c (cache_entries.h).
 *
 * Every case runs the same F32 work through the op descriptors (ops.h):
 * zero_pad, conv2d_forward and max pool2d_forward, one per program (pad.cl, conv_forward.cl, pool.cl), so a
 * filled cache holds three entries (conv_forward.cl at one width; 4 output
 * channels make one channel block on every device, so no call needs
 * conv_weights.cl's copy of the weights). The forward's padded copy of its
 * input, where a CPU makes one, is pad.cl's zero_pad: the program op 0 has
 * built in the same context already, so it adds no entry, and every count
 * below stays one per op (op 0 always runs first). The
 * data are small integers, so the device's results are exact and must
 * equal the host reference's bytes. That a warm
 * cache was used is shown without timing: its entries keep their inode and
 * mtime (an entry that fails to load is rebuilt and renamed over, which gives
 * it a new inode, as the corrupt cases check). */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* setenv, fork, pipe */
#endif

#include "cache_entries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N_OPS = 3, N_CHILDREN = 3 };

/* ------------------------------------------------------------------------ */
/* The work and its expected bytes                                           */
/* ------------------------------------------------------------------------ */

/* The ops, in the order every case runs them: op 0 builds pad.cl. */
static const tc_op_id op_ids[N_OPS] = {TC_ZERO_PAD, TC_CONV_FORWARD, TC_POOL_FORWARD};

/* Runs op (0 zero_pad by 2, 1 conv2d_forward 3x3 with bias, 2 max
 * pool2d_forward 2x2 stride 2) through its descriptor on ctx and returns
 * the output's bytes (caller frees); NULL when a call fails. No cmocka
 * asserts: the forked children use it too. */
static unsigned char *op_bytes(clcnn_context *ctx, int op, size_t *nbytes)
{
    enum { N = 2, H = 7, W = 6, C = 3, F = 3, CO = 4 };
    double x[N * H * W * C], w[F * F * C * CO], b[CO];
    for (int i = 0; i < N * H * W * C; i++)
        x[i] = (i * 37) % 7 - 3;
    for (int i = 0; i < F * F * C * CO; i++)
        w[i] = (i * 11) % 5 - 2;
    for (int i = 0; i < CO; i++)
        b[i] = i - 2;
    tc_shape s = {0};
    s.n = N, s.h = H, s.w = W, s.c = C;
    if (op == 0)
        s.pad = 2;
    if (op == 1)
        s.fh = s.fw = F, s.cout = CO, s.stride = 1, s.bias = 1, s.algo = CLCNN_CONV_AUTO;
    if (op == 2)
        s.fh = s.fw = 2, s.stride = 2, s.mode = CLCNN_POOL_MAX;
    const tc_op *d = tc_op_of(op_ids[op]);
    double *const in[TC_MAX_IN] = {x, w, b};
    int od[4];
    tc_dims(d, &s, d->n_in, od);
    *nbytes = tc_count(od) * sizeof(float);
    tc_tensors t;
    unsigned char *bytes = NULL;
    clcnn_status st = tc_tensors_make(ctx, d, &s, CLCNN_F32, in, &t);
    if (st != CLCNN_OK)
        return NULL;
    st = tc_run(&t);
    if (!st && (bytes = malloc(*nbytes)) != NULL && clcnn_tensor_read(t.out[0], bytes, *nbytes) != CLCNN_OK) {
        free(bytes);
        bytes = NULL;
    }
    tc_tensors_free(&t);
    return st ? NULL : bytes;
}

/* The host reference's bytes of each op, computed once. */
static unsigned char *expected[N_OPS];
static size_t expected_len[N_OPS];

static int compute_expected(void)
{
    clcnn_options o = {CLCNN_BACKEND_HOST, NULL};
    clcnn_context *host = NULL;
    if (clcnn_context_create(&o, &host) != CLCNN_OK)
        return -1;
    int bad = 0;
    for (int op = 0; op < N_OPS; op++)
        bad |= (expected[op] = op_bytes(host, op, &expected_len[op])) == NULL;
    clcnn_context_destroy(host);
    return bad ? -1 : 0;
}

/* Runs op on ctx and fails unless its bytes equal the reference's; the
 * context must record no error (a cache problem is never reported). */
static void check_op(clcnn_context *ctx, int op)
{
    size_t n = 0;
    unsigned char *got = op_bytes(ctx, op, &n);
    if (!got)
        fail_msg("op %d failed: %s", op, clcnn_last_error(ctx));
    int same = n == expected_len[op] && memcmp(got, expected[op], n) == 0;
    free(got);
    if (!same)
        fail_msg("op %d: the device's bytes differ from the host reference's", op);
    assert_string_equal(clcnn_last_error(ctx), "");
}

/* A new OpenCL context (held by f until it is done) running every op
 * against the reference. */
static void run_all(th_fixture *f)
{
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    for (int op = 0; op < N_OPS; op++)
        check_op(ctx, op);
    th_drop_context(f, ctx);
}

/* ------------------------------------------------------------------------ */
/* Fixture: a fresh folder per case, CLCNN_CACHE_DIR pointing inside it       */
/* ------------------------------------------------------------------------ */

/* The binary's own cache folder (main), which CLCNN_CACHE_DIR names
 * between the cases. */
static char binary_cache[256];

/* The case's cache folder: <its th_temp_dir>/a/b/cache, missing at first,
 * parents included. */
static char case_cache[300];

/* The shared fixture, with CLCNN_CACHE_DIR pointing at case_cache and
 * CLCNN_CACHE unset; teardown removes the folder and restores both (and
 * HOME and XDG_CACHE_HOME, which a case sets through th_set_env too). */
static int setup(void **state)
{
    if (th_setup(state) != 0)
        return -1;
    th_fixture *f = th_fx(state);
    snprintf(case_cache, sizeof case_cache, "%s/a/b/cache", th_temp_dir(f));
    th_set_env(f, "CLCNN_CACHE_DIR", case_cache);
    th_set_env(f, "CLCNN_CACHE", NULL);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                      */
/* ------------------------------------------------------------------------ */

/* 1. Cold: one entry per program built, folder and parents created. Warm: a
 * new context loads every entry (nothing rewritten) with the same bytes. */
static void cold_cache_fills_and_warm_cache_is_used(void **state)
{
    th_fixture *f = th_fx(state);
    struct stat st;
    assert_int_not_equal(stat(case_cache, &st), 0);
    run_all(f);
    listing cold = expect_entries(case_cache, N_OPS);
    run_all(f);
    listing warm = expect_entries(case_cache, N_OPS);
    expect_rewritten(&cold, &warm, 0);
}

/* 2 and 3. Each kind of damage to every entry: the results stay right, no
 * error is reported, and every entry is rewritten whole. The driver's
 * rejection of a garbage binary shows that a kept inode (case 1) means a
 * binary the driver accepted. */
static void damaged_entries_are_rebuilt_and_rewritten(void **state)
{
    th_fixture *f = th_fx(state);
    run_all(f);
    for (int d = 0; d < N_DAMAGES; d++) {
        listing before = expect_entries(case_cache, N_OPS);
        for (int i = 0; i < before.n; i++)
            damage_entry(case_cache, &before, i, (damage)d);
        print_message("damage: %s\n", damage_names[d]);
        run_all(f);
        listing after = expect_entries(case_cache, N_OPS);
        expect_rewritten(&before, &after, 1);
    }
}

/* 4. A cache folder that cannot be created (its parent is a regular file),
 * or that is a regular file: right results, no error, the file untouched. */
static void unwritable_cache_only_costs_speed(void **state)
{
    th_fixture *f = th_fx(state);
    char file[300], below[320];
    snprintf(file, sizeof file, "%s/plain-file", th_temp_dir(f));
    snprintf(below, sizeof below, "%s/cache", file);
    spit(file, "not a folder", 12);
    th_set_env(f, "CLCNN_CACHE_DIR", below);
    run_all(f);
    th_set_env(f, "CLCNN_CACHE_DIR", file);
    run_all(f);
    size_t size;
    unsigned char *text = slurp(file, &size);
    assert_int_equal(size, 12);
    assert_memory_equal(text, "not a folder", 12);
    free(text);
}

/* 5. The cache folder removed between two contexts, and between two ops of
 * one context (so between two program builds): right results, and the
 * folder comes back with the entries built after the removal. */
static void cache_removed_during_a_run(void **state)
{
    th_fixture *f = th_fx(state);
    run_all(f);
    remove_tree(th_temp_dir(f));
    run_all(f);
    expect_entries(case_cache, N_OPS);

    remove_tree(th_temp_dir(f));
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    check_op(ctx, 0);
    expect_entries(case_cache, 1);
    remove_tree(th_temp_dir(f));
    check_op(ctx, 1);
    check_op(ctx, 2);
    th_drop_context(f, ctx);
    expect_entries(case_cache, N_OPS - 1);
}

/* This binary's path, for the children of the next case. */
static const char *self_path;

/* A child of the next case (argv: --child <cache folder> <pipe fd>): waits
 * for the pipe to close, so that all start together, then runs every op on
 * a new context and compares with the reference. Exit status 0 when all
 * agree. */
static int child_main(const char *cache, int fd)
{
    char c;
    while (read(fd, &c, 1) > 0)
        ;
    close(fd);
    setenv("CLCNN_CACHE_DIR", cache, 1);
    if (compute_expected() != 0)
        return 2;
    clcnn_options o = {CLCNN_BACKEND_OPENCL, getenv("CLCNN_DEVICE")};
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(&o, &ctx) != CLCNN_OK)
        return 3;
    int bad = 0;
    for (int op = 0; op < N_OPS; op++) {
        size_t n = 0;
        unsigned char *got = op_bytes(ctx, op, &n);
        bad |= !got || n != expected_len[op] || memcmp(got, expected[op], n) != 0;
        free(got);
        free(expected[op]);
    }
    bad |= clcnn_last_error(ctx)[0] != '\0';
    clcnn_context_destroy(ctx);
    return bad ? 1 : 0;
}

/* 6. N_CHILDREN processes (fork and exec, so that none inherits this
 * process's OpenCL state) fill the same empty cache at once: all succeed,
 * no temporary file is left, every entry is whole and then loads. */
static void processes_fill_one_cache_at_once(void **state)
{
    th_fixture *f = th_fx(state);
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", p[0]);
    pid_t pids[N_CHILDREN];
    for (int i = 0; i < N_CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(p[1]);
            execl("/proc/self/exe", "test_cache", "--child", case_cache, fd_text, (char *)NULL);
            execl(self_path, "test_cache", "--child", case_cache, fd_text, (char *)NULL);
            _exit(127);
        }
    }
    close(p[0]);
    close(p[1]); /* go */
    for (int i = 0; i < N_CHILDREN; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d: %s %d", i, WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    listing filled = expect_entries(case_cache, N_OPS);
    run_all(f);
    listing used = expect_entries(case_cache, N_OPS);
    expect_rewritten(&filled, &used, 0);
}

/* 7. CLCNN_CACHE=0: nothing written (the folder is not even created), and
 * nothing read: a damaged entry is left as it is. */
static void cache_off_writes_and_reads_nothing(void **state)
{
    th_fixture *f = th_fx(state);
    th_set_env(f, "CLCNN_CACHE", "0");
    run_all(f);
    struct stat st;
    assert_int_not_equal(stat(case_cache, &st), 0);

    th_set_env(f, "CLCNN_CACHE", NULL);
    run_all(f);
    listing before = expect_entries(case_cache, N_OPS);
    for (int i = 0; i < before.n; i++)
        damage_entry(case_cache, &before, i, GARBAGE_BINARY_WITH_GOOD_CHECKSUM);
    before = list_cache(case_cache);
    th_set_env(f, "CLCNN_CACHE", "0");
    run_all(f);
    listing after = list_cache(case_cache);
    expect_rewritten(&before, &after, 0);
}

/* Without CLCNN_CACHE_DIR: $XDG_CACHE_HOME/clcnn, else (XDG_CACHE_HOME
 * empty) $HOME/.cache/clcnn, both pointed into the case's folder (teardown
 * restores HOME and XDG_CACHE_HOME). */
static void default_folder_follows_xdg_then_home(void **state)
{
    th_fixture *f = th_fx(state);
    char dir[300], expect[340];
    th_set_env(f, "CLCNN_CACHE_DIR", NULL);

    snprintf(dir, sizeof dir, "%s/xdg", th_temp_dir(f));
    th_set_env(f, "XDG_CACHE_HOME", dir);
    clcnn_context *ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    check_op(ctx, 0);
    th_drop_context(f, ctx);
    snprintf(expect, sizeof expect, "%s/clcnn", dir);
    expect_entries(expect, 1);

    snprintf(dir, sizeof dir, "%s/home", th_temp_dir(f));
    th_set_env(f, "XDG_CACHE_HOME", "");
    th_set_env(f, "HOME", dir);
    ctx = th_own_context(f, th_context(CLCNN_BACKEND_OPENCL));
    check_op(ctx, 0);
    th_drop_context(f, ctx);
    snprintf(expect, sizeof expect, "%s/.cache/clcnn", dir);
    expect_entries(expect, 1);
}

#define U(name) cmocka_unit_test_setup_teardown(name, setup, th_teardown)

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], atoi(argv[3]));
    self_path = argv[0];
    /* A private cache for the whole binary, whatever the cases do. */
    if (make_temp_dir(binary_cache, sizeof binary_cache) != 0 || compute_expected() != 0) {
        fprintf(stderr, "test_cache: cannot make a temporary folder or the reference results\n");
        return 1;
    }
    setenv("CLCNN_CACHE_DIR", binary_cache, 1);
    const struct CMUnitTest tests[] = {
        U(cold_cache_fills_and_warm_cache_is_used), U(damaged_entries_are_rebuilt_and_rewritten),
        U(unwritable_cache_only_costs_speed),       U(cache_removed_during_a_run),
        U(processes_fill_one_cache_at_once),        U(cache_off_writes_and_reads_nothing),
        U(default_folder_follows_xdg_then_home),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_tree(binary_cache);
    for (int op = 0; op < N_OPS; op++)
        free(expected[op]);
    return failed;
}
