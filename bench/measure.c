/* measure.c - one layer's rows: device time as the median and minimum of
 * repeated runs after a warm-up (kernel time between two profiling markers
 * on the context's queue, and wall time to completion), the host
 * reference's time (on a sub-batch, extrapolated, when the full batch would
 * not fit the budget), and the device's error against the host. */
#define _POSIX_C_SOURCE 200809L
#include "measure.h"
#include "clcnn_cl.h"
#include "onednn_peer.h"
#include "peers.h"
#include "suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int bench_time_more(int done, int max_reps, double start, double budget_s)
{
    return done < max_reps && (done == 0 || bench_now() - start < budget_s);
}

int bench_layer_ops(const bench_layer *l, bench_op ops[4])
{
    int n = 0;
    if (l->kind == LAYER_CONV) {
        if (l->pad > 0)
            ops[n++] = OP_PAD;
        ops[n++] = OP_CONV_FWD;
        ops[n++] = OP_CONV_BWD_DATA;
        ops[n++] = OP_CONV_BWD_FILTER;
    } else {
        ops[n++] = OP_POOL_FWD;
        ops[n++] = OP_POOL_BWD;
    }
    return n;
}

/* ---- the layer's data and tensors -------------------------------------- */

enum { T_A, T_W, T_B, T_OUT, T_DOUT, T_DA, T_DW, T_DB, T_PAD, T_COUNT };

typedef struct {
    clcnn_tensor *t[T_COUNT];
} tensor_set;

/* Where each slot of an op's descriptor (ops.h: the inputs, then the
 * outputs, in the order of the clcnn_* call) lies in a layer's tensor set. */
static const int set_slots[OP_COUNT][TC_MAX_IN + TC_MAX_OUT] = {
    [OP_PAD] = {T_A, T_PAD},
    [OP_CONV_FWD] = {T_A, T_W, T_B, T_OUT},
    [OP_CONV_BWD_DATA] = {T_DOUT, T_A, T_W, T_DA, T_DW, T_DB},
    [OP_CONV_BWD_FILTER] = {T_DOUT, T_A, T_W, T_DA, T_DW, T_DB},
    [OP_POOL_FWD] = {T_A, T_OUT},
    [OP_POOL_BWD] = {T_DOUT, T_A, T_DA},
};

/* Shape of tensor i of layer l at batch k, from the descriptor of the first
 * of l's ops that has it; 0 when none does. */
static int shape_of(const bench_layer *l, int i, int k, int d[4])
{
    bench_op ops[4];
    const int n_ops = bench_layer_ops(l, ops);
    for (int j = 0; j < n_ops; j++) {
        tc_shape s;
        const tc_op *o = bench_case(l, ops[j], &s);
        s.n = k;
        for (int slot = 0; slot < o->n_in + o->n_out; slot++)
            if (set_slots[ops[j]][slot] == i && tc_dims(o, &s, slot, d))
                return 1;
    }
    return 0;
}

static size_t count_of(const int d[4])
{
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

/* Uniform values in [-1, 1) of the dtype, from a small fixed-seed generator. */
static void *random_data(size_t count, clcnn_dtype dt, unsigned seed)
{
    size_t es = dt == CLCNN_F64 ? 8 : 4;
    unsigned char *p = malloc(count * es + 1);
    if (!p)
        return NULL;
    unsigned long long x = 0x9E3779B97F4A7C15ull ^ seed;
    for (size_t i = 0; i < count; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(x >> 11) * 0x1p-52 - 1.0;
        if (dt == CLCNN_F64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
    return p;
}

static void set_free(tensor_set *s)
{
    for (int i = 0; i < T_COUNT; i++) {
        clcnn_tensor_destroy(s->t[i]);
        s->t[i] = NULL;
    }
}

/* Creates the tensors of l at batch k in ctx; inputs (a, w, b, dout) take the
 * first elements of data[]. 0, or -1 with the reason in err. */
static int set_make(clcnn_context *ctx, clcnn_dtype dt, const bench_layer *l, int k,
                    void *const data[T_COUNT], tensor_set *s, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    const size_t es = dt == CLCNN_F64 ? 8 : 4;
    for (int i = 0; i < T_COUNT; i++) {
        int d[4];
        if (!shape_of(l, i, k, d))
            continue;
        clcnn_status st = clcnn_tensor_create(ctx, dt, d[0], d[1], d[2], d[3], &s->t[i]);
        if (st == CLCNN_OK && data[i])
            st = clcnn_tensor_write(s->t[i], data[i], count_of(d) * es);
        if (st != CLCNN_OK) {
            snprintf(err, err_len, "%s", clcnn_last_error(ctx));
            set_free(s);
            return -1;
        }
    }
    return 0;
}

static clcnn_status run_op(clcnn_context *ctx, const bench_layer *l, bench_op op, tensor_set *s)
{
    return bench_call(ctx, l, op, s->t, set_slots[op]);
}

/* The tensors op writes on l (one or two): the descriptor's present outputs. */
static int outputs_of(const bench_layer *l, bench_op op, int out[2])
{
    tc_shape c;
    const tc_op *o = bench_case(l, op, &c);
    int n = 0;
    for (int slot = o->n_in; slot < o->n_in + o->n_out && n < 2; slot++) {
        int d[4];
        if (tc_dims(o, &c, slot, d))
            out[n++] = set_slots[op][slot];
    }
    return n;
}

/* ---- timing ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double marker_end(cl_event e)
{
    cl_ulong t = 0;
    if (clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL) != CL_SUCCESS)
        return -1.0;
    return 1e-9 * (double)t;
}

/* Warm-up, then up to env->reps timed runs while the row's budget lasts
 * (bench_time_more). */
static void time_device(const bench_env *env, const bench_layer *l, bench_op op, tensor_set *s,
                        bench_row *row)
{
    clcnn_context *ctx = env->dev;
    cl_command_queue q = clcnn_context_cl_queue(ctx);
    clcnn_status st = run_op(ctx, l, op, s);
    if (st == CLCNN_OK)
        st = clcnn_finish(ctx);
    if (st != CLCNN_OK) {
        snprintf(row->error, sizeof row->error, "device: %s", clcnn_last_error(ctx));
        return;
    }
    const int max_reps = env->reps > 0 ? env->reps : 1;
    double *wall = malloc(2 * sizeof(double) * (size_t)max_reps), *kern = wall + max_reps;
    int kern_ok = q != NULL, reps = 0; /* timed so far */
    const double start = bench_now();
    for (; wall && bench_time_more(reps, max_reps, start, env->row_budget_s); reps++) {
        cl_event m0 = NULL, m1 = NULL;
        if (q)
            clEnqueueMarkerWithWaitList(q, 0, NULL, &m0);
        const double t0 = bench_now();
        st = run_op(ctx, l, op, s);
        if (q)
            clEnqueueMarkerWithWaitList(q, 0, NULL, &m1);
        clcnn_finish(ctx);
        wall[reps] = bench_now() - t0;
        kern[reps] = m0 && m1 ? marker_end(m1) - marker_end(m0) : -1.0;
        kern_ok &= m0 && m1 && kern[reps] >= 0;
        if (m0)
            clReleaseEvent(m0);
        if (m1)
            clReleaseEvent(m1);
    }
    clcnn_conv_algo ran[3];
    const int dir = op == OP_CONV_FWD ? 0 : op == OP_CONV_BWD_DATA ? 1 : op == OP_CONV_BWD_FILTER ? 2 : -1;
    if (dir >= 0 && clcnn_context_last_conv_algos(ctx, ran) == CLCNN_OK)
        row->algo_ran = ran[dir] == CLCNN_CONV_GEMM ? "gemm" : ran[dir] == CLCNN_CONV_DIRECT ? "direct" : "";
    if (!wall)
        return;
    row->reps = reps;
    row->dev_wall_median_s = median(wall, reps);
    row->dev_wall_min_s = wall[0];
    if (kern_ok) {
        row->dev_kernel_median_s = median(kern, reps);
        row->dev_kernel_min_s = kern[0];
    }
    free(wall);
}

/* Host time of op at batch k (creating its tensors), or a negative value. */
static double time_host_batch(const bench_env *env, const bench_layer *l, bench_op op, int k,
                              void *const data[T_COUNT], tensor_set *keep, char *err, size_t err_len)
{
    tensor_set s;
    if (set_make(env->host, env->dtype, l, k, data, &s, err, err_len) != 0)
        return -1.0;
    double t0 = bench_now();
    clcnn_status st = run_op(env->host, l, op, &s);
    double t = bench_now() - t0;
    if (st != CLCNN_OK) {
        snprintf(err, err_len, "host: %s", clcnn_last_error(env->host));
        set_free(&s);
        return -1.0;
    }
    if (keep)
        *keep = s;
    else
        set_free(&s);
    return t;
}

/* Largest difference of the outputs of op between two tensor sets. */
static void compare_outputs(const bench_layer *l, bench_op op, const tensor_set *dev, const tensor_set *host,
                            bench_row *row)
{
    int outs[2], n = outputs_of(l, op, outs);
    double max_abs = 0.0, max_ref = 0.0;
    for (int o = 0; o < n; o++) {
        const clcnn_tensor *d = dev->t[outs[o]], *h = host->t[outs[o]];
        int dims[4];
        clcnn_tensor_shape(h, dims);
        size_t count = count_of(dims), es = clcnn_tensor_dtype(h) == CLCNN_F64 ? 8 : 4;
        unsigned char *bd = malloc(count * es), *bh = malloc(count * es);
        if (bd && bh && clcnn_tensor_read(d, bd, count * es) == CLCNN_OK &&
            clcnn_tensor_read(h, bh, count * es) == CLCNN_OK) {
            for (size_t i = 0; i < count; i++) {
                double x = es == 8 ? ((double *)bd)[i] : ((float *)bd)[i];
                double y = es == 8 ? ((double *)bh)[i] : ((float *)bh)[i];
                max_abs = fmax(max_abs, fabs(x - y));
                max_ref = fmax(max_ref, fabs(y));
            }
        }
        free(bd);
        free(bh);
    }
    row->max_abs_err = max_abs;
    row->max_rel_err = max_ref > 0 ? max_abs / max_ref : max_abs;
}

/* The host's time within budget (batch 1 first; the full batch when it
 * fits, else the largest sub-batch that does, extrapolated), then the
 * device's error against it at the same batch. */
static void host_and_error(const bench_env *env, const bench_layer *l, bench_op op, void *const data[T_COUNT],
                           tensor_set *dev_full, bench_row *row)
{
    char err[160] = "";
    tensor_set host;
    double t1 = time_host_batch(env, l, op, 1, data, l->n == 1 ? &host : NULL, err, sizeof err);
    if (t1 < 0) {
        snprintf(row->error, sizeof row->error, "%s", err);
        return;
    }
    int k = 1;
    double tk = t1;
    if (l->n > 1) {
        k = t1 * l->n <= env->row_budget_s ? l->n : (int)(env->row_budget_s / (t1 > 0 ? t1 : 1e-9));
        if (k < 1)
            k = 1;
        if (k > l->n)
            k = l->n;
        tk = time_host_batch(env, l, op, k, data, &host, err, sizeof err);
        if (tk < 0) {
            snprintf(row->error, sizeof row->error, "%s", err);
            return;
        }
    }
    row->host_batch = k;
    row->host_extrapolated = k < l->n;
    row->host_s = tk * (double)l->n / (double)k;

    tensor_set dev_k, *dev = dev_full;
    if (k < l->n) {
        if (set_make(env->dev, env->dtype, l, k, data, &dev_k, err, sizeof err) != 0 ||
            run_op(env->dev, l, op, &dev_k) != CLCNN_OK) {
            snprintf(row->error, sizeof row->error, "device check: %s", clcnn_last_error(env->dev));
            set_free(&host);
            return;
        }
        dev = &dev_k;
    }
    compare_outputs(l, op, dev, &host, row);
    if (dev == &dev_k)
        set_free(&dev_k);
    set_free(&host);
}

/* A pause after oneDNN's calls, before the next row times the device:
 * oneDNN's OpenMP threads (libgomp) keep spinning on a core for some
 * milliseconds after a parallel region, and the next row's first calls
 * ran beside them. On the peers suite the 0.2-0.4 ms rows of e, timed
 * right after d's oneDNN calls, fell to 109-116 GFLOP/s in two runs of
 * three; with OMP_WAIT_POLICY=passive (no spinning) they ran 149-196. A
 * tenth of a second is far more than libgomp's spin (300000 pauses). */
static void settle_after_onednn(void)
{
    const struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
}

/* The oneDNN peer on one row, checked against the device's outputs of the
 * same op (read back; without them the check is skipped). */
static void time_onednn(const bench_env *env, const bench_layer *l, bench_op op, int ho, int wo,
                        void *const data[T_COUNT], const tensor_set *dev, bench_row *row)
{
    onednn_data d = {data[T_A], data[T_W], data[T_B], data[T_DOUT], {NULL, NULL}};
    float *out[2] = {NULL, NULL};
    int outs[2];
    const int n = row->dev_kernel_median_s >= 0 ? outputs_of(l, op, outs) : 0;
    for (int o = 0; o < n; o++) {
        int dims[4];
        clcnn_tensor_shape(dev->t[outs[o]], dims);
        const size_t bytes = count_of(dims) * sizeof(float);
        out[o] = malloc(bytes);
        if (out[o] && clcnn_tensor_read(dev->t[outs[o]], out[o], bytes) == CLCNN_OK)
            d.expected[o] = out[o];
    }
    if (n == 0 || d.expected[n - 1])
        bench_onednn(l, op, ho, wo, &d, env->reps, env->row_budget_s, row);
    else if (!row->error[0])
        snprintf(row->error, sizeof row->error, "oneDNN skipped: the device's result could not be read back");
    free(out[0]);
    free(out[1]);
}

static void row_init(bench_row *row, const bench_layer *l, bench_op op, int ho, int wo, clcnn_dtype dt)
{
    memset(row, 0, sizeof *row);
    row->layer = *l;
    row->op = op;
    row->ho = ho, row->wo = wo;
    row->dev_kernel_median_s = row->dev_kernel_min_s = BENCH_NONE;
    row->dev_wall_median_s = row->dev_wall_min_s = BENCH_NONE;
    row->host_s = row->max_abs_err = row->max_rel_err = BENCH_NONE;
    row->clblast_convgemm_s = row->clblast_sgemm_s = BENCH_NONE;
    row->onednn_s = row->onednn_min_s = row->onednn_rel_err = BENCH_NONE;
    tc_shape s;
    const tc_op *o = bench_case(l, op, &s);
    row->flops = tc_flops(o, &s);
    row->bytes = tc_bytes(o, &s, dt);
}

int bench_measure_layer(const bench_env *env, const bench_layer *l, bench_row *rows)
{
    int ho, wo;
    bench_out_size(l, &ho, &wo);
    bench_op ops[4];
    const int n_ops = bench_layer_ops(l, ops);
    for (int i = 0; i < n_ops; i++)
        row_init(&rows[i], l, ops[i], ho, wo, env->dtype);

    void *data[T_COUNT] = {0};
    const int inputs[4] = {T_A, T_W, T_B, T_DOUT};
    int failed = 0;
    for (int j = 0; j < 4; j++) {
        int d[4];
        if (shape_of(l, inputs[j], l->n, d)) {
            data[inputs[j]] = random_data(count_of(d), env->dtype, 17u * (unsigned)j + 1u);
            failed |= data[inputs[j]] == NULL;
        }
    }
    tensor_set dev;
    char err[160] = "";
    if (failed)
        snprintf(err, sizeof err, "out of host memory for the layer's data");
    else if (set_make(env->dev, env->dtype, l, l->n, data, &dev, err, sizeof err) != 0)
        failed = 1;
    for (int i = 0; i < n_ops; i++) {
        if (failed) {
            snprintf(rows[i].error, sizeof rows[i].error, "device: %s", err);
            continue;
        }
        time_device(env, l, ops[i], &dev, &rows[i]);
        if (!rows[i].error[0])
            host_and_error(env, l, ops[i], data, &dev, &rows[i]);
        if (ops[i] == OP_CONV_FWD && env->clblast && env->dtype == CLCNN_F32)
            bench_clblast(env->dev, l, ho, wo, data[T_A], data[T_W], env->reps, env->row_budget_s, &rows[i]);
        if (ops[i] != OP_PAD && env->onednn && env->dtype == CLCNN_F32) {
            time_onednn(env, l, ops[i], ho, wo, data, &dev, &rows[i]);
            settle_after_onednn();
        }
    }
    if (!failed)
        set_free(&dev);
    for (int j = 0; j < T_COUNT; j++)
        free(data[j]);
    return n_ops;
}

double bench_first_call_seconds(const char *family, const char *device, clcnn_dtype dtype)
{
    double t0 = bench_now();
    clcnn_options o = {CLCNN_BACKEND_OPENCL, device};
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(&o, &ctx) != CLCNN_OK)
        return -1.0;
    bench_layer l;
    memset(&l, 0, sizeof l);
    l.n = 1, l.h = 8, l.w = 8, l.c = 4, l.stride = 1;
    bench_op op = OP_POOL_FWD;
    if (strcmp(family, "pool") == 0) {
        l.kind = LAYER_POOL, l.f = 2, l.mode = CLCNN_POOL_MAX;
    } else {
        l.kind = LAYER_CONV, l.fh = l.fw = 3, l.cout = 4, l.pad = 1;
        op = strcmp(family, "pad") == 0 ? OP_PAD : OP_CONV_FWD;
    }
    void *data[T_COUNT] = {0};
    tensor_set s;
    char err[160];
    double t = -1.0;
    if (set_make(ctx, dtype, &l, 1, data, &s, err, sizeof err) == 0) {
        int outs[2];
        outputs_of(&l, op, outs);
        unsigned char buf[8 * 8 * 8 * 4 * 8];
        int d[4];
        clcnn_tensor_shape(s.t[outs[0]], d);
        if (run_op(ctx, &l, op, &s) == CLCNN_OK &&
            clcnn_tensor_read(s.t[outs[0]], buf, count_of(d) * (dtype == CLCNN_F64 ? 8 : 4)) == CLCNN_OK)
            t = bench_now() - t0;
        set_free(&s);
    }
    clcnn_context_destroy(ctx);
    return t;
}
