/* test_faults.c - fault injection (CLCNN_FAULT_INJECTION builds, host/fault.h):
 * every op on both backends, with each host allocation, OpenCL call and
 * CLBlast call it reaches made to fail in turn, on a fresh context (cold:
 * programs loaded on first use) and on one that has run the op (warm).
 *
 * For each op and backend: a counting run gives S, the sites the call
 * reaches; then for N = 1..S the N-th site fails and the call must either
 * return the status that error maps to, with clcnn_last_error naming the
 * failed call, and leave every output byte unchanged, or (where the library
 * recovers, e.g. a program cache entry it rebuilds) succeed with the right
 * answer; and the context must then give the right answer on the next call.
 * Leaks show under ASan/LSan (.ci/sanitize.sh runs this test so).
 * Inputs are small integers, so every path (host, direct, GEMM) gives the
 * same bytes. Prints "op: sites reached" (cold/warm) per backend.
 *
 * Here: the sweep, the fixture and main; the subject a call runs on in
 * test_faults_subject.c (faults_subject.h). */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "faults_subject.h"

#include "fault.h"

#ifdef CLCNN_TEST_OPENCL
#include <clblast_c.h> /* the status codes, for clblast_status_codes_are_reported */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

/* The status a failed site's error maps to (host/opencl/cl_errors.c). */
static clcnn_status mapped(int code)
{
    if (code == 0 || code == -4 || code == -5 || code == -6) /* malloc, allocation, resources, host memory */
        return CLCNN_ERR_OUT_OF_MEMORY;
    if (code == -11)
        return CLCNN_ERR_BUILD;
    return CLCNN_ERR_DEVICE;
}

typedef struct {
    long sites, failed, recovered;
} tally;

/* Fails site n of one call of c on f and checks the contract; returns 1
 * when the call failed, 0 when it recovered. */
static int fault_one(subject *f, const op_case *c, clcnn_backend be, long n, const double *ref, size_t n_ref)
{
    unsigned char *snap[TC_MAX_OUT] = {NULL};
    size_t snap_n[TC_MAX_OUT] = {0};
    for (int i = 0; i < n_outputs(f); i++)
        if (output(f, i))
            snap[i] = th_snapshot(output(f, i), &snap_n[i]);
    double host_before[60];
    memcpy(host_before, f->host_out, sizeof host_before);
    /* what the last successful convolution ran, which a failed call keeps */
    clcnn_conv_algo ran_before[3] = {CLCNN_CONV_AUTO, CLCNN_CONV_AUTO, CLCNN_CONV_AUTO}, ran_after[3];
    if (f->ctx)
        assert_int_equal(clcnn_context_last_conv_algos(f->ctx, ran_before), CLCNN_OK);

    clcnn_fault_arm(CLCNN_FAULT_ANY, n);
    clcnn_status s = run_op(f, c, be);
    int code = 0;
    const char *what = clcnn_fault_failed(&code);
    clcnn_fault_reset();
    char when[160];
    snprintf(when, sizeof when, "%s, site %ld (%s) failed", th_backend_name(be), n, what ? what : "none");
    if (!what)
        fail_msg("%s: site %ld was not reached", c->name, n);

    int failed = s != CLCNN_OK;
    if (!failed) {
        expect_results(f, c, ref, n_ref, when);
    } else {
        const char *msg = c->op == OP_CONTEXT_CREATE ? clcnn_last_error(NULL) : clcnn_last_error(f->ctx);
        if (s != mapped(code))
            fail_msg("%s (%s): status %s, expected %s; message: %s", c->name, when, clcnn_status_string(s),
                     clcnn_status_string(mapped(code)), msg);
        const int named = code == 0 ? strstr(msg, "out of host memory") != NULL : strstr(msg, what) != NULL;
        if (!named)
            fail_msg("%s (%s): the message does not name the failed call: %s", c->name, when, msg);
        for (int i = 0; i < n_outputs(f); i++)
            if (output(f, i)) {
                char w[200];
                snprintf(w, sizeof w, "%s (%s): output %d", c->name, when, i);
                th_expect_unchanged(output(f, i), snap[i], snap_n[i], w);
            }
        if (memcmp(host_before, f->host_out, sizeof host_before) != 0)
            fail_msg("%s (%s): the caller's buffer changed", c->name, when);
        if (f->ctx) {
            assert_int_equal(clcnn_context_last_conv_algos(f->ctx, ran_after), CLCNN_OK);
            if (memcmp(ran_before, ran_after, sizeof ran_after) != 0)
                fail_msg("%s (%s): the failed call changed clcnn_context_last_conv_algos", c->name, when);
        }
        assert_null(f->created);
        assert_null(f->new_ctx);
        /* the context still works: the same call without a fault */
        clcnn_status again = run_op(f, c, be);
        if (again != CLCNN_OK)
            fail_msg("%s (%s): the next call failed: %s: %s", c->name, when, clcnn_status_string(again),
                     clcnn_last_error(c->op == OP_CONTEXT_CREATE ? NULL : f->ctx));
        expect_results(f, c, ref, n_ref, "the call after the fault");
    }
    for (int i = 0; i < TC_MAX_OUT; i++)
        free(snap[i]);
    reset_outputs(f);
    return failed;
}

static void run_case(const op_case *c, clcnn_backend be, tally *cold, tally *warm)
{
    /* the reference: the host backend, no fault */
    subject f;
    subject_make(&f, CLCNN_BACKEND_HOST, c);
    clcnn_fault_reset();
    assert_int_equal(run_op(&f, c, CLCNN_BACKEND_HOST), CLCNN_OK);
    size_t n_ref;
    double *ref = results(&f, c, &n_ref);
    subject_free(&f);

    /* warm-up on a throwaway context: fills the on-disk program cache, so
     * that every cold call below loads the same way */
    subject_make(&f, be, c);
    assert_int_equal(run_op(&f, c, be), CLCNN_OK);
    subject_free(&f);

    /* cold: a fresh context for each site */
    subject_make(&f, be, c);
    clcnn_fault_reset();
    assert_int_equal(run_op(&f, c, be), CLCNN_OK);
    cold->sites = clcnn_fault_count(CLCNN_FAULT_ANY);
    expect_results(&f, c, ref, n_ref, "cold, no fault");
    subject_free(&f);
    for (long n = 1; n <= cold->sites; n++) {
        subject_make(&f, be, c);
        if (fault_one(&f, c, be, n, ref, n_ref))
            cold->failed++;
        else
            cold->recovered++;
        subject_free(&f);
    }

    /* warm: one context that has run the op */
    subject_make(&f, be, c);
    assert_int_equal(run_op(&f, c, be), CLCNN_OK);
    expect_results(&f, c, ref, n_ref, "first call");
    reset_outputs(&f);
    clcnn_fault_reset();
    assert_int_equal(run_op(&f, c, be), CLCNN_OK);
    warm->sites = clcnn_fault_count(CLCNN_FAULT_ANY);
    expect_results(&f, c, ref, n_ref, "warm, no fault");
    reset_outputs(&f);
    for (long n = 1; n <= warm->sites; n++) {
        if (fault_one(&f, c, be, n, ref, n_ref))
            warm->failed++;
        else
            warm->recovered++;
    }
    subject_free(&f);
    free(ref);
}

/* Tuning cases: a cache folder of their own (CLCNN_CACHE_DIR, the shared
 * subject's temporary folder), whose tune file subject_make deletes, so
 * that every fresh context measures again while the programs still load
 * from the cache; one run per algorithm (budget 0) and GEMM taken after
 * measuring, whichever was faster, so that every call reaches the same
 * sites. Undone by the teardown, which runs even when the test fails. */
static const char *tune_dir;

void forget_tuning(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/tune-v1.txt", tune_dir);
    unlink(path);
}

static int setup(void **state)
{
    if (th_setup(state) != 0)
        return -1;
    const op_case *c = th_param(state);
    if (!c->tuning)
        return 0;
    th_fixture *f = th_fx(state);
    tune_dir = th_temp_dir(f);
    th_set_env(f, "CLCNN_CACHE_DIR", tune_dir);
    th_set_env(f, "CLCNN_TUNE_BUDGET", "0");
    clcnn_fault_set_tune_pick(CLCNN_CONV_GEMM);
    return 0;
}

static int teardown(void **state)
{
    clcnn_fault_set_tune_pick(0);
    tune_dir = NULL;
    return th_teardown(state);
}

static void test_op(void **state)
{
    const op_case *c = th_param(state);
    static const clcnn_backend backends[] = {CLCNN_BACKEND_HOST,
#ifdef CLCNN_TEST_OPENCL
                                             CLCNN_BACKEND_OPENCL
#endif
    };
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        tally cold = {0, 0, 0}, warm = {0, 0, 0};
        run_case(c, backends[b], &cold, &warm);
        printf("faults: %-28s %-6s sites reached cold %3ld (failed %3ld, recovered %2ld), warm %3ld (failed "
               "%3ld, "
               "recovered %2ld)\n",
               c->name, th_backend_name(backends[b]), cold.sites, cold.failed, cold.recovered, warm.sites,
               warm.failed, warm.recovered);
        fflush(stdout);
    }
}

#ifdef CLCNN_TEST_OPENCL
/* CLBlast's own status codes (-1024 and below; the sweep above fails its
 * calls with an OpenCL code): the GEMM forward with the first CLBlast call
 * failing with each, on a warm context. Not available in double precision
 * or not implemented -> CLCNN_ERR_UNSUPPORTED, any other -> CLCNN_ERR_DEVICE;
 * the message names the call and the code (by name where CLBlast has one);
 * the output is untouched and the next call succeeds. */
static void clblast_status_codes_are_reported(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
        clcnn_status status;
    } codes[] = {
        {CLBlastNoDoublePrecision, "CLBlastNoDoublePrecision", CLCNN_ERR_UNSUPPORTED},
        {CLBlastNotImplemented, "CLBlastNotImplemented", CLCNN_ERR_UNSUPPORTED},
        {CLBlastInsufficientMemoryTemp, "CLBlastInsufficientMemoryTemp", CLCNN_ERR_DEVICE},
        {CLBlastInvalidDimension, "CLBlastInvalidDimension", CLCNN_ERR_DEVICE},
        {CLBlastDatabaseError, "CLBlastDatabaseError", CLCNN_ERR_DEVICE},
        {-1500, "an unnamed CLBlast status", CLCNN_ERR_DEVICE},
    };
    const op_case c = {"conv2d_forward gemm", OP_CONV_FWD, CLCNN_CONV_GEMM, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    subject f, h;
    subject_make(&h, CLCNN_BACKEND_HOST, &c);
    assert_int_equal(run_op(&h, &c, CLCNN_BACKEND_HOST), CLCNN_OK);
    size_t n_ref;
    double *ref = results(&h, &c, &n_ref);
    subject_make(&f, CLCNN_BACKEND_OPENCL, &c);
    assert_int_equal(run_op(&f, &c, CLCNN_BACKEND_OPENCL), CLCNN_OK); /* warm: programs built */
    /* The last CLBlast site is the GEMM itself (a failed size query before
     * the choice of path only makes the call run direct). */
    clcnn_fault_arm(CLCNN_FAULT_GEMM, 0);
    assert_int_equal(run_op(&f, &c, CLCNN_BACKEND_OPENCL), CLCNN_OK);
    const long last = clcnn_fault_count(CLCNN_FAULT_GEMM);
    clcnn_fault_reset();
    assert_true(last >= 1);
    reset_outputs(&f);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        size_t snap_n;
        unsigned char *snap = th_snapshot(output(&f, 0), &snap_n);
        clcnn_fault_set_gemm_code(codes[i].code);
        clcnn_fault_arm(CLCNN_FAULT_GEMM, last);
        const clcnn_status s = run_op(&f, &c, CLCNN_BACKEND_OPENCL);
        int code = 0;
        const char *what = clcnn_fault_failed(&code);
        clcnn_fault_reset();
        clcnn_fault_set_gemm_code(0);
        assert_non_null(what);
        assert_string_equal(what, "CLBlastSgemm");
        assert_int_equal(code, codes[i].code);
        const char *msg = clcnn_last_error(f.ctx);
        char named[96];
        snprintf(named, sizeof named, "%s (%d)", codes[i].name, codes[i].code);
        if (s != codes[i].status || !strstr(msg, named) || !strstr(msg, what))
            fail_msg("CLBlast code %d in %s: status %s (expected %s), message: %s", codes[i].code, what,
                     clcnn_status_string(s), clcnn_status_string(codes[i].status), msg);
        th_expect_unchanged(output(&f, 0), snap, snap_n, "the output after a failed CLBlast call");
        free(snap);
        assert_int_equal(run_op(&f, &c, CLCNN_BACKEND_OPENCL), CLCNN_OK);
        expect_results(&f, &c, ref, n_ref, "the call after a CLBlast failure");
        reset_outputs(&f);
    }
    free(ref);
    subject_free(&f);
    subject_free(&h);
}
#endif

int main(void)
{
    const op_case cases[] = {
        {"zero_pad", OP_PAD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_forward direct", OP_CONV_FWD, CLCNN_CONV_DIRECT, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_forward gemm", OP_CONV_FWD, CLCNN_CONV_GEMM, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_forward gemm chunked", OP_CONV_FWD, CLCNN_CONV_GEMM, 0, 0, 0, 0, 2048, 0, 0, 0, 0},
        {"conv2d_backward direct all", OP_CONV_BWD, CLCNN_CONV_DIRECT, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward direct da", OP_CONV_BWD, CLCNN_CONV_DIRECT, 1, 0, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward direct dw db", OP_CONV_BWD, CLCNN_CONV_DIRECT, 0, 1, 1, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward gemm all", OP_CONV_BWD, CLCNN_CONV_GEMM, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward gemm da", OP_CONV_BWD, CLCNN_CONV_GEMM, 1, 0, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward gemm dw", OP_CONV_BWD, CLCNN_CONV_GEMM, 0, 1, 0, 0, 0, 0, 0, 0, 0},
        {"conv2d_backward gemm chunked", OP_CONV_BWD, CLCNN_CONV_GEMM, 1, 1, 1, 0, 2048, 0, 0, 0, 0},
        {"conv2d_forward gemm views", OP_CONV_FWD, CLCNN_CONV_GEMM, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {"conv2d_backward gemm views", OP_CONV_BWD, CLCNN_CONV_GEMM, 1, 1, 1, 0, 0, 0, 1, 0, 0},
        {"conv2d_forward direct tiled", OP_CONV_FWD, CLCNN_CONV_DIRECT, 0, 0, 0, 0, 0, 0, 0, 1, 0},
        {"conv2d_backward direct tiled", OP_CONV_BWD, CLCNN_CONV_DIRECT, 1, 1, 1, 0, 0, 0, 0, 1, 0},
        {"conv2d_forward tuned", OP_CONV_FWD, CLCNN_CONV_AUTO, 0, 0, 0, 0, 0, 1, 0, 0, 0},
        {"conv2d_backward tuned all", OP_CONV_BWD, CLCNN_CONV_AUTO, 1, 1, 1, 0, 0, 1, 0, 0, 0},
        {"conv2d_backward tuned dw", OP_CONV_BWD, CLCNN_CONV_AUTO, 0, 1, 0, 0, 0, 1, 0, 0, 0},
        {"pool2d_forward max", OP_POOL_FWD, 0, 0, 0, 0, CLCNN_POOL_MAX, 0, 0, 0, 0, 0},
        {"pool2d_forward avg", OP_POOL_FWD, 0, 0, 0, 0, CLCNN_POOL_AVG, 0, 0, 0, 0, 0},
        {"pool2d_backward max", OP_POOL_BWD, 0, 0, 0, 0, CLCNN_POOL_MAX, 0, 0, 0, 0, 0},
        {"pool2d_backward avg", OP_POOL_BWD, 0, 0, 0, 0, CLCNN_POOL_AVG, 0, 0, 0, 0, 0},
        {"pool2d_backward avg overlapping", OP_POOL_BWD, 0, 0, 0, 0, CLCNN_POOL_AVG, 0, 0, 0, 0, 1},
        {"tensor_create", OP_TENSOR_CREATE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"tensor_write", OP_TENSOR_WRITE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"tensor_read", OP_TENSOR_READ, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"context_create", OP_CONTEXT_CREATE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    };
    struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 1];
    size_t n = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, n++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(test_op, setup, teardown,
                                                                               (void *)&cases[i]);
        tests[n].name = cases[i].name;
    }
#ifdef CLCNN_TEST_OPENCL
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(clblast_status_codes_are_reported);
#endif
    return _cmocka_run_group_tests("faults", tests, n, NULL, NULL);
}
