/* cl_tune.c - the measured choice of a convolution variant (algorithm and
 * work-item order, cl_backend.h) per shape, when tuning is on (CLCNN_TUNE=1
 * or clcnn_context_set_tuning): the first CLCNN_CONV_AUTO call of a
 * (device, dtype, direction, shape) runs each candidate once to warm it up
 * (program builds, CLBlast's compilation) and then times it, within a
 * budget, and keeps the fastest; the choice is remembered in the context
 * and appended to <cache folder>/tune-v1.txt, so later contexts and
 * processes on the same device and driver reuse it without measuring.
 *
 * The file holds one line per choice, "<16 hex digits> <variant>\n", the
 * variant a number 1 .. CLCNN_VARIANT_END - 1, the digits
 * being the FNV-1a hash of the key (device name, driver version, clcnn
 * version, dtype, direction, every extent of the shape). Lines are appended
 * with one write() on a file opened with O_APPEND, so processes tuning at
 * once do not tear each other's lines; a malformed line is skipped, and when
 * a key appears twice the last line wins. An unreadable or unwritable file
 * only costs measuring again. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open, clock_gettime */
#endif

#include "cl_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

#define TUNE_FILE "tune-v1.txt"

uint64_t clcnn__cl_tune_key(const clcnn_context *ctx, int direction, const clcnn_conv_shape *cs,
                            clcnn_dtype dt)
{
    const struct clcnn_cl *cl = ctx->cl;
    uint64_t h = clcnn__fnv1a(CLCNN_FNV_OFFSET, ctx->device_name, strlen(ctx->device_name) + 1);
    h = clcnn__fnv1a(h, cl->driver_version, strlen(cl->driver_version) + 1);
    h = clcnn__fnv1a(h, clcnn_version(), strlen(clcnn_version()) + 1);
    const int fields[] = {(int)dt, direction, cs->n,  cs->h,  cs->w,      cs->cin,   cs->fh,
                          cs->fw,  cs->cout,  cs->ho, cs->wo, cs->stride, cs->pad_h, cs->pad_w};
    return clcnn__fnv1a(h, fields, sizeof fields);
}

/* Adds (key, variant) to ctx's table, or updates it; 0 when out of memory. */
static int remember(struct clcnn_cl *cl, uint64_t key, int variant)
{
    for (size_t i = 0; i < cl->n_tuned; i++)
        if (cl->tuned[i].key == key) {
            cl->tuned[i].variant = variant;
            return 1;
        }
    if (cl->n_tuned == cl->cap_tuned) {
        const size_t cap = cl->cap_tuned ? 2 * cl->cap_tuned : 16;
        clcnn_tune_entry *t = clcnn__malloc(cap * sizeof *t);
        if (!t)
            return 0;
        if (cl->n_tuned)
            memcpy(t, cl->tuned, cl->n_tuned * sizeof *t);
        clcnn__free(cl->tuned);
        cl->tuned = t;
        cl->cap_tuned = cap;
    }
    cl->tuned[cl->n_tuned++] = (clcnn_tune_entry){key, variant};
    return 1;
}

/* Reads the tune file of the cache folder into ctx's table (once). */
static void load_file(struct clcnn_cl *cl)
{
    cl->tune_loaded = 1;
    char dir[4096], path[4096 + 32];
    if (!clcnn__cl_cache_folder(dir, sizeof dir))
        return;
    snprintf(path, sizeof path, "%s/" TUNE_FILE, dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        unsigned long long key;
        int variant;
        char end;
        if (sscanf(line, "%16llx %d%c", &key, &variant, &end) == 3 && end == '\n' &&
            variant >= CLCNN_VARIANT_DIRECT && variant < CLCNN_VARIANT_END)
            remember(cl, (uint64_t)key, variant);
    }
    fclose(f);
}

int clcnn__cl_tune_lookup(clcnn_context *ctx, uint64_t key)
{
    struct clcnn_cl *cl = ctx->cl;
    if (!cl->tune_loaded)
        load_file(cl);
    for (size_t i = 0; i < cl->n_tuned; i++)
        if (cl->tuned[i].key == key)
            return cl->tuned[i].variant;
    return -1;
}

/* Appends the line for (key, variant) to the tune file. */
static void append_line(uint64_t key, int variant)
{
#if !defined(_WIN32)
    char dir[4096], path[4096 + 32], line[64];
    if (!clcnn__cl_cache_folder(dir, sizeof dir))
        return;
    snprintf(path, sizeof path, "%s/" TUNE_FILE, dir);
    const int n = snprintf(line, sizeof line, "%016llx %d\n", (unsigned long long)key, variant);
    const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n) {
        /* a short write leaves a malformed line, which readers skip */
    }
    close(fd);
#else
    (void)key, (void)variant;
#endif
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds one run of a variant takes (queue drained before and after). */
static clcnn_status time_run(clcnn_context *ctx, clcnn__cl_tune_run run, void *args, int variant,
                             double *seconds)
{
    /* The run's workspaces count as the call's while it runs, and are idle
     * once it is done, for the next run to release if the limit asks it;
     * the call's own (its saved outputs) stay its own (cl_backend.h). */
    const clcnn_cl_call outer = ctx->cl->call;
    clcnn_status s = clcnn__cl_finish(ctx);
    const double t0 = now_s();
    if (!s)
        s = run(ctx, variant, args);
    if (!s)
        s = clcnn__cl_finish(ctx);
    *seconds = now_s() - t0;
    ctx->cl->call = outer;
    return s;
}

clcnn_status clcnn__cl_tune(clcnn_context *ctx, uint64_t key, clcnn__cl_tune_run run, void *args,
                            const int *candidates, int n, int *chosen)
{
    const double budget = ctx->tune_budget_s, start = now_s();
    double best = -1.0;
    *chosen = candidates[0];
    for (int c = 0; c < n; c++) {
        double warm, t, fastest;
        clcnn_status s = time_run(ctx, run, args, candidates[c], &warm); /* builds, first-touch */
        if (s)
            return s;
        fastest = warm;
        /* up to 3 timed runs, while within the budget */
        for (int r = 0; r < 3 && now_s() - start + fastest < budget; r++) {
            if ((s = time_run(ctx, run, args, candidates[c], &t)))
                return s;
            if (t < fastest)
                fastest = t;
        }
        if (best < 0 || fastest < best) {
            best = fastest;
            *chosen = candidates[c];
        }
    }
#ifdef CLCNN_FAULT_INJECTION
    if (clcnn__fault_tune_pick())
        *chosen = clcnn__fault_tune_pick();
#endif
    if (remember(ctx->cl, key, *chosen))
        append_line(key, *chosen);
    return CLCNN_OK;
}
