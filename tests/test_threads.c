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
 * struct, and the main thread asserts after joining them. */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */
#include "helpers.h"

#include <pthread.h>
#include <stdarg.h>
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

/* ------------------------------------------------------------ the work --- */

/* One shape: a_prev (n, h, w, cin) is the input of every op. */
typedef struct {
    int n, h, w, cin; /* a_prev */
    int fh, fw, cout; /* the filter */
    int stride, pad;  /* convolution */
    int pool_f, pool_stride;
    int zpad; /* zero_pad's pad */
} shape_case;

/* The first has n*n_H*n_W = 336 output positions, enough for OpenCL's split
 * dw reduction (more than 256), and overlapping pool windows (f 3, stride 2);
 * the second a non-square filter, stride 2, and disjoint windows. */
static const shape_case shapes[] = {
    {2, 14, 12, 3, 3, 3, 4, 1, 1, 3, 2, 2},
    {1, 9, 8, 5, 3, 2, 6, 2, 2, 2, 2, 1},
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))
#define N_CASES (2 * N_SHAPES) /* x {F32, F64} */

/* The ops of a case, each through its descriptor (ops.h). */
enum { OP_PAD, OP_CONV_FWD, OP_CONV_BWD, OP_PMAX_FWD, OP_PMAX_BWD, OP_PAVG_FWD, OP_PAVG_BWD, N_OPS };
static const tc_op_id op_ids[N_OPS] = {TC_ZERO_PAD,      TC_CONV_FORWARD, TC_CONV_BACKWARD, TC_POOL_FORWARD,
                                       TC_POOL_BACKWARD, TC_POOL_FORWARD, TC_POOL_BACKWARD};
static const char *const op_names[N_OPS] = {"clcnn_zero_pad",
                                            "clcnn_conv2d_forward",
                                            "clcnn_conv2d_backward",
                                            "clcnn_pool2d_forward (max)",
                                            "clcnn_pool2d_backward (max)",
                                            "clcnn_pool2d_forward (average)",
                                            "clcnn_pool2d_backward (average)"};

/* Op op's case on shape s: zero_pad by zpad, the convolution with bias,
 * the pools with the pool window. */
static tc_shape op_shape(const shape_case *s, int op)
{
    tc_shape k = {0};
    k.n = s->n, k.h = s->h, k.w = s->w, k.c = s->cin, k.stride = 1;
    if (op == OP_PAD) {
        k.pad = s->zpad;
    } else if (op == OP_CONV_FWD || op == OP_CONV_BWD) {
        k.fh = s->fh, k.fw = s->fw, k.cout = s->cout, k.stride = s->stride, k.pad = s->pad, k.bias = 1;
    } else {
        k.fh = k.fw = s->pool_f, k.stride = s->pool_stride;
        k.mode = op == OP_PMAX_FWD || op == OP_PMAX_BWD ? CLCNN_POOL_MAX : CLCNN_POOL_AVG;
    }
    return k;
}

/* The fixed work: every case's shapes and (double) inputs. */
typedef struct {
    clcnn_dtype dtype[N_CASES];
    const shape_case *s[N_CASES];
    tc_shape op_s[N_CASES][N_OPS];
    double *in[N_CASES][N_OPS][TC_MAX_IN];
    int skip[N_CASES]; /* F64 on a device without cl_khr_fp64 */
} workload;

static size_t elem(clcnn_dtype dt)
{
    return dt == CLCNN_F64 ? sizeof(double) : sizeof(float);
}

static void workload_init(workload *wl)
{
    memset(wl, 0, sizeof *wl);
    for (int c = 0; c < N_CASES; c++) {
        wl->dtype[c] = c < N_SHAPES ? CLCNN_F32 : CLCNN_F64;
        wl->s[c] = &shapes[c % N_SHAPES];
        np_random r;
        np_random_seed(&r, 4100u + (uint32_t)c);
        for (int op = 0; op < N_OPS; op++) {
            wl->op_s[c][op] = op_shape(wl->s[c], op);
            assert_int_equal(tc_inputs(tc_op_of(op_ids[op]), &wl->op_s[c][op], TC_NORMAL, &r, wl->in[c][op]),
                             0);
        }
    }
}

static void workload_free(workload *wl)
{
    for (int c = 0; c < N_CASES; c++)
        for (int op = 0; op < N_OPS; op++)
            tc_inputs_free(wl->in[c][op]);
}

/* ------------------------------------------- failure log (no cmocka) --- */

typedef struct {
    int failures;
    char first[768];
} failure_log;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
note(failure_log *log, const char *fmt, ...)
{
    if (log->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(log->first, sizeof log->first, fmt, ap);
        va_end(ap);
    }
}

/* ----------------------------- tensors and ops (thread-safe, no cmocka) --- */

typedef struct {
    tc_tensors op[N_OPS];
} case_tensors;

static void case_free(case_tensors *t)
{
    for (int op = 0; op < N_OPS; op++)
        tc_tensors_free(&t->op[op]);
}

static int case_make(clcnn_context *ctx, const workload *wl, int c, case_tensors *t, failure_log *log,
                     const char *who)
{
    memset(t, 0, sizeof *t);
    for (int op = 0; op < N_OPS; op++) {
        clcnn_status s = tc_tensors_make(ctx, tc_op_of(op_ids[op]), &wl->op_s[c][op], wl->dtype[c],
                                         wl->in[c][op], &t->op[op]);
        if (s) {
            note(log, "%s: case %d: making the tensors of %s: %s: %s", who, c, op_names[op],
                 clcnn_status_string(s), clcnn_last_error(ctx));
            case_free(t);
            return 0;
        }
    }
    return 1;
}

/* Overwrites every output of op with a byte pattern no op produces here. */
static clcnn_status poison(tc_tensors *t, unsigned char *scratch)
{
    for (int o = 0; o < t->op->n_out; o++) {
        const size_t nbytes = th_count(t->out[o]) * elem(t->dt);
        memset(scratch, 0xA5, nbytes);
        clcnn_status s = clcnn_tensor_write(t->out[o], scratch, nbytes);
        if (s)
            return s;
    }
    return CLCNN_OK;
}

/* ---------------------------------------------------- serial reference --- */

/* Every output's bytes from the serial run, per case. */
typedef struct {
    clcnn_backend backend;
    workload wl;
    unsigned char *bytes[N_CASES][N_OPS][TC_MAX_OUT];
    size_t nbytes[N_CASES][N_OPS][TC_MAX_OUT];
    size_t max_bytes; /* the largest output, for scratch buffers */
} reference;

static void case_desc(const workload *wl, int c, char *buf, size_t n)
{
    const shape_case *s = wl->s[c];
    snprintf(buf, n,
             "case %d (%s, a_prev (%d,%d,%d,%d), w (%d,%d,%d,%d), stride %d, pad %d, pool f %d stride %d)", c,
             th_dtype_name(wl->dtype[c]), s->n, s->h, s->w, s->cin, s->fh, s->fw, s->cin, s->cout, s->stride,
             s->pad, s->pool_f, s->pool_stride);
}

/* Whether ctx runs F64 ops (a device may lack cl_khr_fp64). */
static int runs_f64(clcnn_context *ctx)
{
    clcnn_tensor *x = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL),
                 *y = th_tensor(ctx, CLCNN_F64, 1, 1, 1, 1, NULL);
    clcnn_status s = clcnn_zero_pad(ctx, x, 0, y);
    clcnn_tensor_destroy(x);
    clcnn_tensor_destroy(y);
    if (s != CLCNN_OK && s != CLCNN_ERR_UNSUPPORTED)
        fail_msg("probing F64: %s: %s", clcnn_status_string(s), clcnn_last_error(ctx));
    return s == CLCNN_OK;
}

/* The serial run on the fixture's context of the backend. */
static reference *reference_compute(th_fixture *f, clcnn_backend backend)
{
    reference *ref = calloc(1, sizeof *ref);
    assert_non_null(ref);
    ref->backend = backend;
    workload_init(&ref->wl);
    clcnn_context *ctx = backend == CLCNN_BACKEND_OPENCL ? th_device(f) : th_host(f);
    if (backend == CLCNN_BACKEND_OPENCL)
        assert_string_not_equal(clcnn_context_device_name(ctx), "host reference");
    const int f64 = runs_f64(ctx);
    if (!f64)
        print_message("%s: the device lacks cl_khr_fp64; the F64 cases are skipped\n",
                      clcnn_context_device_name(ctx));
    for (int c = 0; c < N_CASES; c++) {
        if (ref->wl.dtype[c] == CLCNN_F64 && !f64) {
            ref->wl.skip[c] = 1;
            continue;
        }
        failure_log log = {0};
        case_tensors t;
        if (!case_make(ctx, &ref->wl, c, &t, &log, "serial"))
            fail_msg("%s", log.first);
        for (int op = 0; op < N_OPS; op++) {
            clcnn_status s = tc_run(&t.op[op]);
            if (s != CLCNN_OK) {
                case_free(&t);
                fail_msg("serial %s, case %d: %s: %s", op_names[op], c, clcnn_status_string(s),
                         clcnn_last_error(ctx));
            }
        }
        for (int op = 0; op < N_OPS; op++)
            for (int o = 0; o < t.op[op].op->n_out; o++) {
                ref->bytes[c][op][o] = th_snapshot(t.op[op].out[o], &ref->nbytes[c][op][o]);
                if (ref->nbytes[c][op][o] > ref->max_bytes)
                    ref->max_bytes = ref->nbytes[c][op][o];
            }
        case_free(&t);
    }
    return ref;
}

static void reference_free(reference *ref)
{
    for (int c = 0; c < N_CASES; c++)
        for (int op = 0; op < N_OPS; op++)
            for (int o = 0; o < TC_MAX_OUT; o++)
                free(ref->bytes[c][op][o]);
    workload_free(&ref->wl);
    free(ref);
}

/* Reads every output of op of case c and compares its bytes with the
 * serial run's. */
static void check_outputs(const reference *ref, int c, int op, const tc_tensors *t, unsigned char *scratch,
                          failure_log *log, const char *who)
{
    for (int o = 0; o < t->op->n_out; o++) {
        const size_t nbytes = ref->nbytes[c][op][o];
        const unsigned char *want_bytes = ref->bytes[c][op][o];
        clcnn_status s = clcnn_tensor_read(t->out[o], scratch, nbytes);
        char desc[256];
        if (s != CLCNN_OK) {
            case_desc(&ref->wl, c, desc, sizeof desc);
            note(log, "%s: reading %s %s of %s: %s", who, op_names[op], t->op->out_names[o], desc,
                 clcnn_status_string(s));
            continue;
        }
        if (memcmp(scratch, want_bytes, nbytes) != 0) {
            const size_t es = elem(ref->wl.dtype[c]);
            size_t i = 0;
            while (memcmp(scratch + i * es, want_bytes + i * es, es) == 0)
                i++;
            double got, want;
            if (es == sizeof(double)) {
                memcpy(&got, scratch + i * es, sizeof got);
                memcpy(&want, want_bytes + i * es, sizeof want);
            } else {
                float g, w;
                memcpy(&g, scratch + i * es, sizeof g);
                memcpy(&w, want_bytes + i * es, sizeof w);
                got = g, want = w;
            }
            case_desc(&ref->wl, c, desc, sizeof desc);
            note(log, "%s: %s %s of %s differs from the serial run at element %zu: %.17g, serial %.17g", who,
                 op_names[op], t->op->out_names[o], desc, i, got, want);
        }
    }
}

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
