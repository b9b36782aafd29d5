/* peers.c - the peer column: CLBlast's own convolution (CLBlastSconvgemm)
 * and its SGEMM at the equivalent GEMM size, on clcnn's device and queue,
 * timed like clcnn's ops (profiling markers around the call). */
#include "peers.h"
#include "clcnn_cl.h"
#include "measure.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const bench_layer *l;
    int ho, wo;
    cl_mem im, kernel, result; /* convgemm */
    cl_mem a, b, c;            /* sgemm */
} peer_args;

typedef CLBlastStatusCode (*peer_call)(cl_command_queue *q, const peer_args *p);

static CLBlastStatusCode call_convgemm(cl_command_queue *q, const peer_args *p)
{
    const bench_layer *l = p->l;
    return CLBlastSconvgemm(CLBlastKernelModeCrossCorrelation, (size_t)l->c, (size_t)l->h, (size_t)l->w,
                            (size_t)l->fh, (size_t)l->fw, (size_t)l->pad, (size_t)l->pad, (size_t)l->stride,
                            (size_t)l->stride, 1, 1, (size_t)l->cout, (size_t)l->n, p->im, 0, p->kernel, 0,
                            p->result, 0, q, NULL);
}

static CLBlastStatusCode call_sgemm(cl_command_queue *q, const peer_args *p)
{
    const bench_layer *l = p->l;
    const size_t m = (size_t)l->n * p->ho * p->wo, k = (size_t)l->fh * l->fw * l->c, n = (size_t)l->cout;
    return CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k, 1.0f, p->a, 0,
                        k, p->b, 0, n, 0.0f, p->c, 0, n, q, NULL);
}

static double marker_end(cl_event e)
{
    cl_ulong t = 0;
    clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL);
    return 1e-9 * (double)t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median kernel time of `call` over up to reps runs after a warm-up, timed
 * while the budget lasts (bench_time_more); a negative value on failure,
 * with the CLBlast status in note. */
static double time_peer(cl_command_queue q, peer_call call, const peer_args *p, int reps, double budget_s,
                        char *note, size_t note_len, const char *name)
{
    CLBlastStatusCode st = call(&q, p);
    clFinish(q);
    if (st != CLBlastSuccess) {
        snprintf(note, note_len, "%s failed with CLBlast status %d", name, (int)st);
        return -1.0;
    }
    double times[64];
    const int max_reps = reps < 1 ? 1 : reps > 64 ? 64 : reps;
    const double start = bench_now();
    for (reps = 0; bench_time_more(reps, max_reps, start, budget_s); reps++) {
        cl_event m0, m1;
        clEnqueueMarkerWithWaitList(q, 0, NULL, &m0);
        call(&q, p);
        clEnqueueMarkerWithWaitList(q, 0, NULL, &m1);
        clWaitForEvents(1, &m1);
        times[reps] = marker_end(m1) - marker_end(m0);
        clReleaseEvent(m0);
        clReleaseEvent(m1);
    }
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    return reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
}

static cl_mem buffer(cl_context c, size_t bytes, const void *src)
{
    cl_int err;
    cl_mem m =
        clCreateBuffer(c, CL_MEM_READ_WRITE | (src ? CL_MEM_COPY_HOST_PTR : 0), bytes, (void *)src, &err);
    return err == CL_SUCCESS ? m : NULL;
}

void bench_clblast(clcnn_context *ctx, const bench_layer *l, int ho, int wo, const void *a, const void *w,
                   int reps, double budget_s, bench_row *row)
{
    cl_context c = clcnn_context_cl_context(ctx);
    cl_command_queue q = clcnn_context_cl_queue(ctx);
    cl_device_id dev = clcnn_context_cl_device(ctx);
    if (!c || !q)
        return;
    cl_ulong max_alloc = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    const float *af = a, *wf = w;
    const size_t n_im = (size_t)l->n * l->c * l->h * l->w, n_k = (size_t)l->cout * l->c * l->fh * l->fw;
    const size_t n_out = (size_t)l->n * l->cout * ho * wo;
    const size_t gm = (size_t)l->n * ho * wo, gk = (size_t)l->fh * l->fw * l->c, gn = (size_t)l->cout;
    peer_args p = {l, ho, wo, NULL, NULL, NULL, NULL, NULL, NULL};
    char note[160] = "";

    /* NHWC -> NCHW input, HWIO -> OIHW weights, outside the timed region. */
    float *im = malloc(n_im * sizeof(float)), *kern = malloc(n_k * sizeof(float));
    if (im && kern) {
        for (int i = 0; i < l->n; i++)
            for (int y = 0; y < l->h; y++)
                for (int x = 0; x < l->w; x++)
                    for (int k = 0; k < l->c; k++)
                        im[(((size_t)i * l->c + k) * l->h + y) * l->w + x] =
                            af[(((size_t)i * l->h + y) * l->w + x) * l->c + k];
        for (int y = 0; y < l->fh; y++)
            for (int x = 0; x < l->fw; x++)
                for (int k = 0; k < l->c; k++)
                    for (int o = 0; o < l->cout; o++)
                        kern[(((size_t)o * l->c + k) * l->fh + y) * l->fw + x] =
                            wf[(((size_t)y * l->fw + x) * l->c + k) * l->cout + o];
        p.im = buffer(c, n_im * 4, im);
        p.kernel = buffer(c, n_k * 4, kern);
        p.result = n_out * 4 <= max_alloc ? buffer(c, n_out * 4, NULL) : NULL;
    }
    free(im);
    free(kern);
    if (p.im && p.kernel && p.result) {
        double t = time_peer(q, call_convgemm, &p, reps, budget_s, note, sizeof note, "CLBlastSconvgemm");
        if (t >= 0)
            row->clblast_convgemm_s = t;
    } else {
        snprintf(note, sizeof note, "CLBlastSconvgemm skipped: buffers did not fit the device");
    }

    if (gm * gk * 4 <= max_alloc && gm * gn * 4 <= max_alloc) {
        p.a = buffer(c, gm * gk * 4, NULL);
        p.b = buffer(c, gk * gn * 4, NULL);
        p.c = buffer(c, gm * gn * 4, NULL);
    }
    if (p.a && p.b && p.c) {
        const float one = 1.0f;
        clEnqueueFillBuffer(q, p.a, &one, sizeof one, 0, gm * gk * 4, 0, NULL, NULL);
        clEnqueueFillBuffer(q, p.b, &one, sizeof one, 0, gk * gn * 4, 0, NULL, NULL);
        double t = time_peer(q, call_sgemm, &p, reps, budget_s, note, sizeof note, "CLBlastSgemm");
        if (t >= 0)
            row->clblast_sgemm_s = t;
    } else if (!note[0]) {
        snprintf(note, sizeof note, "CLBlastSgemm skipped: the GEMM operands did not fit the device");
    }
    cl_mem all[] = {p.im, p.kernel, p.result, p.a, p.b, p.c};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    if (note[0] && !row->error[0])
        snprintf(row->error, sizeof row->error, "%s", note);
}
