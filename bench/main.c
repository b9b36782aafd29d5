/* main.c - clcnn-bench: every op and direction of clcnn on an OpenCL device,
 * against the host reference path and against CLBlast on the same device.
 * See `clcnn-bench --help` and the README's "Reading the benchmark". */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "bench.h"
#include "clcnn_cl.h"
#include "measure.h"
#include "onednn_peer.h"
#include "suites.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_LAYERS = 64 };

/* The batch of resnet and peers layers on a CPU device unless --batch says
 * otherwise, so that the default run stays within a few minutes there. */
enum { CPU_DEFAULT_BATCH = 4 };

static void usage(FILE *f)
{
    fputs(
        "usage: clcnn-bench [options]\n"
        "  --suite LIST     comma-separated suites: seed, resnet, peers (default: seed,resnet)\n"
        "  --shape SPEC     one custom layer instead of suites:\n"
        "                   conv:N,H,W,C,COUT,FH,FW,STRIDE,PAD or pool:max|avg:N,H,W,C,F,STRIDE\n"
        "  --device SPEC    OpenCL device: gpu, cpu, an index, or part of its name (default: CLCNN_DEVICE,\n"
        "                   else the best device)\n"
        "  --dtype f32|f64  element type (default f32; CLBlast runs for f32 only)\n"
        "  --algo A         convolution algorithm: auto, direct or gemm (default auto; sets\n"
        "                   CLCNN_CONV_ALGO, which is what AUTO means)\n"
        "  --batch N        batch of every layer (default: each suite's, e.g. 32 for resnet; on a CPU\n"
        "                   device resnet and peers layers default to batch 4)\n"
        "  --reps N         timed repetitions after one warm-up (default 5)\n"
        "  --budget S       seconds the run aims at: each row gets an equal share for the host reference\n"
        "                   (beyond it the host runs a sub-batch and is extrapolated) and for the device\n"
        "                   repetitions (default 150)\n"
        "  --no-clblast     skip the CLBlast peer\n"
        "  --no-onednn      skip the oneDNN peer (the CPU, F32; present when built with libdnnl-dev)\n"
        "  --csv FILE, --json FILE, --svg FILE   write every figure as CSV, JSON, or a bar chart\n",
        f);
}

static int parse_int(const char *s, int lo, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *suites = "seed,resnet", *shape = NULL, *device = getenv("CLCNN_DEVICE");
    const char *csv = NULL, *json = NULL, *svg = NULL, *algo = getenv("CLCNN_CONV_ALGO");
    int batch = 0, reps = 5, clblast = 1, onednn = 1;
    double budget = 150.0;
    clcnn_dtype dtype = CLCNN_F32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0, takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-clblast") == 0) {
            clblast = 0, takes = 0;
        } else if (strcmp(a, "--no-onednn") == 0) {
            onednn = 0, takes = 0;
        } else if (!v) {
            bad = 1;
        } else if (strcmp(a, "--suite") == 0) {
            suites = v;
        } else if (strcmp(a, "--shape") == 0) {
            shape = v;
        } else if (strcmp(a, "--device") == 0) {
            device = v;
        } else if (strcmp(a, "--dtype") == 0) {
            bad = strcmp(v, "f32") != 0 && strcmp(v, "f64") != 0;
            dtype = strcmp(v, "f64") == 0 ? CLCNN_F64 : CLCNN_F32;
        } else if (strcmp(a, "--algo") == 0) {
            bad = strcmp(v, "auto") != 0 && strcmp(v, "direct") != 0 && strcmp(v, "gemm") != 0;
            algo = v;
        } else if (strcmp(a, "--batch") == 0) {
            bad = parse_int(v, 1, &batch);
        } else if (strcmp(a, "--reps") == 0) {
            bad = parse_int(v, 1, &reps);
        } else if (strcmp(a, "--budget") == 0) {
            char *end;
            budget = strtod(v, &end);
            bad = *end != '\0' || !(budget > 0);
        } else if (strcmp(a, "--csv") == 0) {
            csv = v;
        } else if (strcmp(a, "--json") == 0) {
            json = v;
        } else if (strcmp(a, "--svg") == 0) {
            svg = v;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "clcnn-bench: bad option %s%s%s\n", a, v && takes ? " " : "",
                    v && takes ? v : "");
            usage(stderr);
            return 2;
        }
        i += takes;
    }

    bench_layer layers[MAX_LAYERS];
    int n_layers = 0;
    if (shape) {
        if (bench_parse_shape(shape, &layers[0]) != 0) {
            fprintf(stderr,
                    "clcnn-bench: --shape \"%s\" is not conv:N,H,W,C,COUT,FH,FW,STRIDE,PAD or "
                    "pool:max|avg:N,H,W,C,F,STRIDE\n",
                    shape);
            return 2;
        }
        if (batch > 0)
            layers[0].n = batch;
        n_layers = 1;
    } else {
        char list[128];
        snprintf(list, sizeof list, "%s", suites);
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
            int got = bench_suite_layers(s, batch, layers + n_layers, MAX_LAYERS - n_layers);
            if (got < 0) {
                fprintf(stderr, "clcnn-bench: unknown suite \"%s\" (seed, resnet, peers)\n", s);
                return 2;
            }
            n_layers += got;
        }
    }

    /* The device; its type sets the default batch. The algorithm reaches
     * the library as what CLCNN_CONV_AUTO means for the device context. */
    if (!algo || !*algo)
        algo = "auto";
    setenv("CLCNN_CONV_ALGO", algo, 1);
    /* PoCL's worker threads pinned one per core, unless the environment
     * says otherwise: unpinned, the scheduler moved them about and the same
     * kernel's time varied up to 2x from one process to the next (README,
     * "Measuring on PoCL"). Other OpenCL platforms ignore the variable. */
    setenv("POCL_AFFINITY", "1", 0);
    bench_env env = {NULL, NULL, dtype, reps, 0.0, clblast, onednn};
    clcnn_options dev_opts = {CLCNN_BACKEND_OPENCL, device}, host_opts = {CLCNN_BACKEND_HOST, NULL};
    if (clcnn_context_create(&dev_opts, &env.dev) != CLCNN_OK) {
        fprintf(stderr, "clcnn-bench: no OpenCL device to benchmark: %s\n", clcnn_last_error(NULL));
        return 1;
    }
    if (clcnn_context_create(&host_opts, &env.host) != CLCNN_OK) {
        fprintf(stderr, "clcnn-bench: %s\n", clcnn_last_error(NULL));
        clcnn_context_destroy(env.dev);
        return 1;
    }
    cl_device_type type = 0;
    clGetDeviceInfo(clcnn_context_cl_device(env.dev), CL_DEVICE_TYPE, sizeof type, &type, NULL);
    int cpu_batch = 0;
    if (batch == 0 && !shape && (type & CL_DEVICE_TYPE_CPU)) {
        cpu_batch = CPU_DEFAULT_BATCH;
        for (int k = 0; k < n_layers; k++)
            if (strcmp(layers[k].suite, "seed") != 0 && layers[k].n > cpu_batch)
                layers[k].n = cpu_batch;
        fprintf(stderr,
                "clcnn-bench: CPU device: resnet and peers layers run at batch %d by default "
                "(--batch N sets every layer's batch)\n",
                cpu_batch);
    }

    bench_run run;
    memset(&run, 0, sizeof run);
    run.dtype = dtype == CLCNN_F64 ? "f64" : "f32";
    run.algo = algo;
    run.reps = reps;
    run.budget_s = budget;
    time_t now = time(NULL);
    strftime(run.date, sizeof run.date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    for (int i = 0, w = 0; i < argc && w >= 0 && (size_t)w < sizeof run.command; i++)
        w += snprintf(run.command + w, sizeof run.command - (size_t)w, "%s%s", i ? " " : "", argv[i]);

    /* First calls: fresh contexts, before anything else builds programs. */
    static const char *families[3] = {"pad", "conv", "pool"};
    for (int i = 0; i < 3; i++) {
        run.first[i].family = families[i];
        run.first[i].seconds = bench_first_call_seconds(families[i], device, dtype);
    }

    snprintf(run.device, sizeof run.device, "%s", clcnn_context_device_name(env.dev));
    if (!onednn)
        snprintf(run.onednn, sizeof run.onednn, "skipped (--no-onednn)");
    else if (dtype != CLCNN_F32)
        env.onednn = 0, snprintf(run.onednn, sizeof run.onednn, "skipped (F32 only)");
    else if (!bench_onednn_describe(run.onednn, sizeof run.onednn))
        env.onednn = 0;

    size_t total_rows = 0;
    for (int i = 0; i < n_layers; i++) {
        bench_op ops[4];
        total_rows += (size_t)bench_layer_ops(&layers[i], ops);
    }
    env.row_budget_s = budget / 2.0 / (double)(total_rows ? total_rows : 1);
    run.rows = calloc(total_rows ? total_rows : 1, sizeof *run.rows);
    if (!run.rows) {
        fprintf(stderr, "clcnn-bench: out of memory\n");
        return 1;
    }
    fprintf(stderr, "clcnn-bench: %d layers, %zu rows on \"%s\", %s\n", n_layers, total_rows, run.device,
            run.dtype);
    const double start = bench_now();
    for (int i = 0; i < n_layers; i++) {
        const bench_layer *l = &layers[i];
        const double elapsed = bench_now() - start;
        if (i > 0)
            fprintf(stderr, "[layer %d of %d] %s %s, %.0f s elapsed, about %.0f s left\n", i + 1, n_layers,
                    l->suite, l->name, elapsed, elapsed / i * (n_layers - i));
        else
            fprintf(stderr, "[layer 1 of %d] %s %s\n", n_layers, l->suite, l->name);
        run.n_rows += (size_t)bench_measure_layer(&env, l, run.rows + run.n_rows);
    }
    fprintf(stderr, "clcnn-bench: done in %.0f s\n", bench_now() - start);

    bench_print_table(&run);
    int status = 0;
    const struct {
        const char *path;
        int (*write)(const bench_run *, const char *);
    } outs[] = {{csv, bench_write_csv}, {json, bench_write_json}, {svg, bench_write_svg}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i].path && outs[i].write(&run, outs[i].path) != 0) {
            fprintf(stderr, "clcnn-bench: cannot write %s: %s\n", outs[i].path, strerror(errno));
            status = 1;
        }
    free(run.rows);
    bench_onednn_release();
    clcnn_context_destroy(env.dev);
    clcnn_context_destroy(env.host);
    return status;
}
