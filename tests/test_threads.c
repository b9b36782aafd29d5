/* test_threads.c - the thread rule of clcnn.h: separate contexts may be used
 * concurrently from separate threads.
 *
 * For each backend, the main thread first runs every op (zero_pad,
 * conv2d_forward with bias, conv2d_backward with da_prev, dw and db, max and
 * average pool2d_forward and pool2d_backward) in F32 and F64 on two small
 * shapes, on one context of that backend, and keeps the output bytes. Then:
 *  - four_threads_own_contexts_match_serial_bits: four threads, each with its
 *    own context and tensors, run all of it many times over, in a different
 *    order per thread, and every output must equal the serial bytes. Each
 *    iteration also makes one failing call on the thread's context and one
 *    with no context, and checks that the message it reads back is its own
 *    (errors are kept per context, or per thread), and that the failing call
 *    left its output untouched.
 *  - contexts_created_and_destroyed_concurrently: four threads each loop over
 *    create a context, make the tensors, run ONE op, compare, destroy, so
 *    contexts are opened, their programs built lazily (OpenCL) and released
 *    on several threads at once.
 * Outputs are overwritten with a poison pattern before every run, so an op
 * that silently did nothing cannot pass on an earlier result.
 *
 * The worker threads never call cmocka: they record failures in their own
 * struct, and the main thread asserts after joining them.
 *
 * Here: the workers, the tests and main; the work, its serial reference
 * and the helpers the workers share in test_threads_work.c
 * (threads_work.h). */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */
#include "threads_work.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_THREADS 4

/* Iterations per thread; OpenCL ones are slower on PoCL (CPU), so fewer. */
#ifndef CLCNN_THREAD_ITERS_HOST
#define CLCNN_THREAD_ITERS_HOST 200
#endif
#ifndef CLCNN_THREAD_ITERS_OPENCL
#define CLCNN_THREAD_ITERS_OPENCL 50
#endif
/* create / one op / destroy rounds per thread. */
#ifndef CLCNN_THREAD_ROUNDS_HOST
#define CLCNN_THREAD_ROUNDS_HOST 200
#endif
#ifndef CLCNN_THREAD_ROUNDS_OPENCL
#define CLCNN_THREAD_ROUNDS_OPENCL 14
#endif

/* --------------------------------------------------------- the workers --- */

typedef struct {
    const reference *ref;
    int id, iterations;
    pthread_barrier_t *start;
    int completed; /* iterations (or rounds) finished */
    failure_log log;
} worker;

static clcnn_status open_context(clcnn_backend backend, clcnn_context **ctx, failure_log *log,
                                 const char *who)
{
    clcnn_options o = {backend, backend == CLCNN_BACKEND_OPENCL ? getenv("CLCNN_DEVICE") : NULL};
    clcnn_status s = clcnn_context_create(&o, ctx);
    if (s != CLCNN_OK) {
        note(log, "%s: clcnn_context_create(%s): %s: %s", who, th_backend_name(backend),
             clcnn_status_string(s), clcnn_last_error(NULL));
        return s;
    }
    if (clcnn_context_backend(*ctx) != backend) {
        note(log, "%s: clcnn_context_create(%s) gave a %s context", who, th_backend_name(backend),
             th_backend_name(clcnn_context_backend(*ctx)));
        clcnn_context_destroy(*ctx);
        *ctx = NULL;
        return CLCNN_ERR_NO_DEVICE;
    }
    return CLCNN_OK;
}

/* Failing calls whose messages carry a number unique to this thread and
 * iteration: the message read back must be this call's, not another
 * thread's. The failing zero_pad must leave x_pad alone (checked by the
 * caller's comparison afterwards). */
static void check_own_errors(clcnn_context *ctx, case_tensors *t, int id, int it, failure_log *log,
                             const char *who)
{
    const int tag = 1000000 + id * 10000 + it;
    char want[96];
    clcnn_status s = clcnn_zero_pad(ctx, t->op[OP_PAD].in[0], -tag, t->op[OP_PAD].out[0]);
    snprintf(want, sizeof want, "pad is %d;", -tag);
    if (s != CLCNN_ERR_INVALID_ARGUMENT)
        note(log, "%s: clcnn_zero_pad with pad %d returned %s", who, -tag, clcnn_status_string(s));
    else if (!strstr(clcnn_last_error(ctx), want))
        note(log, "%s: after a failing clcnn_zero_pad (pad %d), clcnn_last_error(ctx) is \"%s\"", who, -tag,
             clcnn_last_error(ctx));

    const int a[4] = {1, 5, 5, 1}, w[4] = {3, 3, 1, 1};
    int out[4] = {0, 0, 0, 0};
    const clcnn_conv_params p = {1, -tag, CLCNN_CONV_AUTO};
    s = clcnn_conv2d_output_shape(a, w, p, out);
    snprintf(want, sizeof want, "p.pad is %d;", -tag);
    if (s != CLCNN_ERR_INVALID_ARGUMENT)
        note(log, "%s: clcnn_conv2d_output_shape with pad %d returned %s", who, -tag, clcnn_status_string(s));
    else if (!strstr(clcnn_last_error(NULL), want))
        note(log, "%s: after a failing clcnn_conv2d_output_shape (pad %d), clcnn_last_error(NULL) is \"%s\"",
             who, -tag, clcnn_last_error(NULL));
}

/* Own context, own tensors, every op of every case, many times. */
static void *own_context_worker(void *arg)
{
    worker *wk = arg;
    const reference *ref = wk->ref;
    char who[32];
    snprintf(who, sizeof who, "thread %d", wk->id);
    clcnn_context *ctx = NULL;
    case_tensors t[N_CASES];
    memset(t, 0, sizeof t);
    unsigned char *scratch = malloc(ref->max_bytes);
    int ready = scratch != NULL;
    if (!scratch)
        note(&wk->log, "%s: out of memory", who);
    if (ready)
        ready = open_context(ref->backend, &ctx, &wk->log, who) == CLCNN_OK;
    for (int c = 0; ready && c < N_CASES; c++)
        if (!ref->wl.skip[c])
            ready = case_make(ctx, &ref->wl, c, &t[c], &wk->log, who);
    pthread_barrier_wait(wk->start); /* all threads compute at the same time */
    for (int it = 0; ready && it < wk->iterations; it++) {
        for (int j = 0; j < N_CASES; j++) {
            const int c = (j + wk->id + it) % N_CASES; /* threads work on different cases at once */
            if (ref->wl.skip[c])
                continue;
            for (int op = 0; op < N_OPS; op++) {
                clcnn_status s = poison(&t[c].op[op], scratch);
                if (s)
                    note(&wk->log, "%s: clcnn_tensor_write (poison) of %s: %s", who, op_names[op],
                         clcnn_status_string(s));
            }
            for (int i = 0; i < N_OPS; i++) {
                const int op = (i + wk->id) % N_OPS;
                clcnn_status s = tc_run(&t[c].op[op]);
                if (s)
                    note(&wk->log, "%s, iteration %d: %s, case %d: %s: %s", who, it, op_names[op], c,
                         clcnn_status_string(s), clcnn_last_error(ctx));
            }
            check_own_errors(ctx, &t[c], wk->id, it, &wk->log, who);
            for (int op = 0; op < N_OPS; op++)
                check_outputs(ref, c, op, &t[c].op[op], scratch, &wk->log, who);
        }
        wk->completed++;
    }
    for (int c = 0; c < N_CASES; c++)
        case_free(&t[c]);
    clcnn_context_destroy(ctx);
    free(scratch);
    return NULL;
}

/* Rounds of: create a context, make one case's tensors, run one op, check
 * its outputs, destroy everything. */
static void *create_destroy_worker(void *arg)
{
    worker *wk = arg;
    const reference *ref = wk->ref;
    char who[48];
    unsigned char *scratch = malloc(ref->max_bytes);
    if (!scratch)
        note(&wk->log, "thread %d: out of memory", wk->id);
    pthread_barrier_wait(wk->start);
    for (int round = 0; scratch && round < wk->iterations; round++) {
        snprintf(who, sizeof who, "thread %d, round %d", wk->id, round);
        /* Threads start on different (case, op) pairs and walk through all. */
        const int pick = (wk->id * 5 + round) % (N_CASES * N_OPS);
        const int c = pick % N_CASES, op = pick / N_CASES;
        clcnn_context *ctx = NULL;
        if (open_context(ref->backend, &ctx, &wk->log, who) != CLCNN_OK)
            break;
        case_tensors t;
        if (!ref->wl.skip[c] && case_make(ctx, &ref->wl, c, &t, &wk->log, who)) {
            clcnn_status s = poison(&t.op[op], scratch);
            if (s)
                note(&wk->log, "%s: clcnn_tensor_write (poison): %s", who, clcnn_status_string(s));
            s = tc_run(&t.op[op]);
            if (s)
                note(&wk->log, "%s: %s, case %d: %s: %s", who, op_names[op], c, clcnn_status_string(s),
                     clcnn_last_error(ctx));
            check_outputs(ref, c, op, &t.op[op], scratch, &wk->log, who);
            case_free(&t);
        }
        clcnn_context_destroy(ctx);
        wk->completed++;
    }
    free(scratch);
    return NULL;
}

/* Runs N_THREADS workers on ref and fails on anything they recorded. */
static void run_workers(const reference *ref, void *(*body)(void *), int iterations, const char *unit)
{
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    worker wk[N_THREADS];
    pthread_t tid[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        memset(&wk[i], 0, sizeof wk[i]);
        wk[i].ref = ref;
        wk[i].id = i;
        wk[i].iterations = iterations;
        wk[i].start = &start;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, body, &wk[i]), 0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_barrier_destroy(&start);
    print_message("%d threads x %d %s on %s: %.2f s\n", N_THREADS, iterations, unit,
                  th_backend_name(ref->backend),
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    int failed = 0;
    for (int i = 0; i < N_THREADS; i++) {
        if (wk[i].log.failures) {
            print_error("thread %d: %d failure(s); the first: %s\n", i, wk[i].log.failures, wk[i].log.first);
            failed = 1;
        } else if (wk[i].completed != iterations) {
            print_error("thread %d finished %d of %d %s\n", i, wk[i].completed, iterations, unit);
            failed = 1;
        }
    }
    if (failed)
        fail_msg("%s threads: results or statuses differ from the serial run (see above)",
                 th_backend_name(ref->backend));
}

/* ------------------------------------------------------------- tests --- */

static int iterations_for(clcnn_backend b, int host, int opencl)
{
    return b == CLCNN_BACKEND_OPENCL ? opencl : host;
}

static void four_threads_own_contexts_match_serial_bits(void **state)
{
    const clcnn_backend backend = *(const clcnn_backend *)th_param(state);
    reference *ref = reference_compute(th_fx(state), backend);
    run_workers(ref, own_context_worker,
                iterations_for(backend, CLCNN_THREAD_ITERS_HOST, CLCNN_THREAD_ITERS_OPENCL), "iterations");
    reference_free(ref);
}

static void contexts_created_and_destroyed_concurrently(void **state)
{
    const clcnn_backend backend = *(const clcnn_backend *)th_param(state);
    reference *ref = reference_compute(th_fx(state), backend);
    run_workers(ref, create_destroy_worker,
                iterations_for(backend, CLCNN_THREAD_ROUNDS_HOST, CLCNN_THREAD_ROUNDS_OPENCL),
                "create/run/destroy rounds");
    reference_free(ref);
}

int main(void)
{
    static const clcnn_backend host = CLCNN_BACKEND_HOST;
#ifdef CLCNN_TEST_OPENCL
    static const clcnn_backend opencl = CLCNN_BACKEND_OPENCL;
#endif
    const struct CMUnitTest tests[] = {
        {"four_threads_own_contexts_match_serial_bits/host", four_threads_own_contexts_match_serial_bits,
         th_setup, th_teardown, (void *)&host},
        {"contexts_created_and_destroyed_concurrently/host", contexts_created_and_destroyed_concurrently,
         th_setup, th_teardown, (void *)&host},
#ifdef CLCNN_TEST_OPENCL
        {"four_threads_own_contexts_match_serial_bits/opencl", four_threads_own_contexts_match_serial_bits,
         th_setup, th_teardown, (void *)&opencl},
        {"contexts_created_and_destroyed_concurrently/opencl", contexts_created_and_destroyed_concurrently,
         th_setup, th_teardown, (void *)&opencl},
#endif
    };
    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
