/* report.c - clcnn-bench's outputs: the aligned table on stdout, and the CSV
 * and JSON files holding every figure. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *bench_op_name(bench_op op)
{
    static const char *const names[OP_COUNT] = {"pad",      "conv_fwd", "conv_bwd_data", "conv_bwd_filter",
                                                "pool_fwd", "pool_bwd"};
    return op < OP_COUNT ? names[op] : "?";
}

double bench_gflops(double flops, double seconds)
{
    return flops > 0 && seconds > 0 ? flops / seconds * 1e-9 : BENCH_NONE;
}

double bench_gbs(double bytes, double seconds)
{
    return bytes > 0 && seconds > 0 ? bytes / seconds * 1e-9 : BENCH_NONE;
}

static const char *mode_name(const bench_row *r)
{
    if (r->layer.kind != LAYER_POOL)
        return NULL;
    return r->layer.mode == CLCNN_POOL_MAX ? "max" : "avg";
}

/* The device time a throughput is quoted at: kernel median, else wall. */
static double device_s(const bench_row *r)
{
    return r->dev_kernel_median_s > 0 ? r->dev_kernel_median_s : r->dev_wall_median_s;
}

static void shape_text(const bench_row *r, char *buf, size_t len)
{
    const bench_layer *l = &r->layer;
    if (l->kind == LAYER_CONV)
        snprintf(buf, len, "%dx%dx%dx%d>%d %dx%d s%d p%d", l->n, l->h, l->w, l->c, l->cout, l->fh, l->fw,
                 l->stride, l->pad);
    else
        snprintf(buf, len, "%dx%dx%dx%d %s f%d s%d", l->n, l->h, l->w, l->c, mode_name(r), l->f, l->stride);
}

/* A number in a fixed-width cell, or "-" when missing. */
static void cell(char *buf, size_t len, const char *fmt, double v)
{
    if (v < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, fmt, v);
}

void bench_print_table(const bench_run *run)
{
    printf("clcnn-bench on \"%s\", %s, conv algorithm %s, %s, up to %d reps after a warm-up\n", run->device,
           run->dtype, run->algo, run->date, run->reps);
    printf("first call (context creation to first result, no program built in this process yet):");
    for (int i = 0; i < 3; i++)
        printf(" %s %.3f s%s", run->first[i].family, run->first[i].seconds, i < 2 ? "," : "\n");
    printf("oneDNN peer: %s\n", run->onednn[0] ? run->onednn : "not run");
    printf("\n%-7s %-17s %-15s %-24s %4s %10s %10s %10s %9s %11s %9s %8s %9s %9s %9s %9s %9s\n", "suite",
           "layer", "op", "shape", "reps", "kern med", "kern min", "wall med", "dev rate", "host",
           "host rate", "speedup", "max abs", "max rel", "convgemm", "sgemm", "oneDNN");
    printf("%-7s %-17s %-15s %-24s %4s %10s %10s %10s %9s %11s %9s %8s %9s %9s %9s %9s %9s\n", "", "", "", "",
           "", "ms", "ms", "ms", "GF|GB/s", "ms", "GF|GB/s", "x", "error", "error", "GFLOP/s", "GFLOP/s",
           "GF|GB/s");
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        char shape[64], km[16], kn[16], wm[16], dr[16], hs[16], hr[16], sp[16], ea[16], er[16], cg[16],
            sg[16], od[16];
        shape_text(r, shape, sizeof shape);
        const int conv = r->flops > 0;
        const double dev = device_s(r);
        cell(km, sizeof km, "%.3f", r->dev_kernel_median_s < 0 ? -1 : r->dev_kernel_median_s * 1e3);
        cell(kn, sizeof kn, "%.3f", r->dev_kernel_min_s < 0 ? -1 : r->dev_kernel_min_s * 1e3);
        cell(wm, sizeof wm, "%.3f", r->dev_wall_median_s < 0 ? -1 : r->dev_wall_median_s * 1e3);
        cell(dr, sizeof dr, "%.2f", conv ? bench_gflops(r->flops, dev) : bench_gbs(r->bytes, dev));
        if (r->host_s >= 0)
            snprintf(hs, sizeof hs, "%.1f%s", r->host_s * 1e3, r->host_extrapolated ? "*" : "");
        else
            snprintf(hs, sizeof hs, "-");
        cell(hr, sizeof hr, "%.3f",
             conv ? bench_gflops(r->flops, r->host_s) : bench_gbs(r->bytes, r->host_s));
        cell(sp, sizeof sp, "%.1f",
             r->host_s > 0 && r->dev_wall_median_s > 0 ? r->host_s / r->dev_wall_median_s : -1);
        cell(ea, sizeof ea, "%.1e", r->max_abs_err);
        cell(er, sizeof er, "%.1e", r->max_rel_err);
        cell(cg, sizeof cg, "%.2f", bench_gflops(r->flops, r->clblast_convgemm_s));
        cell(sg, sizeof sg, "%.2f", bench_gflops(r->flops, r->clblast_sgemm_s));
        cell(od, sizeof od, "%.2f",
             conv ? bench_gflops(r->flops, r->onednn_s) : bench_gbs(r->bytes, r->onednn_s));
        printf("%-7s %-17s %-15s %-24s %4d %10s %10s %10s %9s %11s %9s %8s %9s %9s %9s %9s %9s\n",
               r->layer.suite, r->layer.name, bench_op_name(r->op), shape, r->reps, km, kn, wm, dr, hs, hr,
               sp, ea, er, cg, sg, od);
        if (r->error[0])
            printf("        note: %s\n", r->error);
    }
    printf(
        "\nkern: device time between two profiling markers around the call; wall: enqueue to completion.\n"
        "dev rate: GFLOP/s for convolutions (2 N Ho Wo Cout fh fw Cin per direction), GB/s for pad and\n"
        "pooling (the bytes the op must read and write: average-pool backward reads da only, max-pool\n"
        "backward da and a_prev), at the kernel median. host *: measured on a sub-batch and scaled to the "
        "full\n"
        "batch. speedup: host time / device wall median. errors: device against host on the host's batch;\n"
        "max rel = max abs / max |host|. convgemm, sgemm: CLBlast on the same device (sgemm at M = N Ho Wo,\n"
        "K = fh fw Cin, N = Cout). oneDNN: its primitive for the same op on the CPU, F32, NHWC activations,\n"
        "median of host-clock times from execute to completion (its result checked against the device's).\n");
}

static void csv_num(FILE *f, double v, const char *fmt)
{
    if (v >= 0)
        fprintf(f, fmt, v);
    fputc(',', f);
}

int bench_write_csv(const bench_run *run, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(
        f,
        "device,dtype,date,suite,layer,kind,op,mode,n,h,w,c,fh,fw,cout,f,stride,pad,ho,wo,flops,bytes,reps,"
        "device_kernel_median_s,device_kernel_min_s,device_wall_median_s,device_wall_min_s,device_gflops,"
        "device_gbs,host_s,host_batch,host_extrapolated,host_gflops,host_gbs,speedup,max_abs_err,max_rel_err,"
        "clblast_convgemm_s,clblast_convgemm_gflops,clblast_sgemm_s,clblast_sgemm_gflops,onednn_median_s,"
        "onednn_min_s,onednn_gflops,onednn_gbs,onednn_max_rel_err,algo_ran,note\n");
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        const bench_layer *l = &r->layer;
        const double dev = device_s(r);
        fprintf(f, "\"%s\",%s,%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.0f,%.0f,%d,",
                run->device, run->dtype, run->date, l->suite, l->name,
                l->kind == LAYER_CONV ? "conv" : "pool", bench_op_name(r->op),
                mode_name(r) ? mode_name(r) : "", l->n, l->h, l->w, l->c, l->fh, l->fw, l->cout, l->f,
                l->stride, l->pad, r->ho, r->wo, r->flops, r->bytes, r->reps);
        csv_num(f, r->dev_kernel_median_s, "%.9g");
        csv_num(f, r->dev_kernel_min_s, "%.9g");
        csv_num(f, r->dev_wall_median_s, "%.9g");
        csv_num(f, r->dev_wall_min_s, "%.9g");
        csv_num(f, bench_gflops(r->flops, dev), "%.6g");
        csv_num(f, bench_gbs(r->bytes, dev), "%.6g");
        csv_num(f, r->host_s, "%.9g");
        fprintf(f, "%d,%d,", r->host_batch, r->host_extrapolated);
        csv_num(f, bench_gflops(r->flops, r->host_s), "%.6g");
        csv_num(f, bench_gbs(r->bytes, r->host_s), "%.6g");
        csv_num(f, r->host_s > 0 && r->dev_wall_median_s > 0 ? r->host_s / r->dev_wall_median_s : -1, "%.6g");
        csv_num(f, r->max_abs_err, "%.6g");
        csv_num(f, r->max_rel_err, "%.6g");
        csv_num(f, r->clblast_convgemm_s, "%.9g");
        csv_num(f, bench_gflops(r->flops, r->clblast_convgemm_s), "%.6g");
        csv_num(f, r->clblast_sgemm_s, "%.9g");
        csv_num(f, bench_gflops(r->flops, r->clblast_sgemm_s), "%.6g");
        csv_num(f, r->onednn_s, "%.9g");
        csv_num(f, r->onednn_min_s, "%.9g");
        csv_num(f, bench_gflops(r->flops, r->onednn_s), "%.6g");
        csv_num(f, bench_gbs(r->bytes, r->onednn_s), "%.6g");
        csv_num(f, r->onednn_rel_err, "%.6g");
        fprintf(f, "%s,", r->algo_ran ? r->algo_ran : "");
        fputc('"', f);
        for (const char *c = r->error; *c; c++)
            fputs(*c == '"' ? "\"\"" : (char[2]){*c, 0}, f);
        fputs("\"\n", f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, const char *key, double v, int last)
{
    fprintf(f, "\"%s\": ", key);
    if (v >= 0)
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
    fputs(last ? "" : ", ", f);
}

int bench_write_json(const bench_run *run, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"tool\": \"clcnn-bench\", \"version\": ");
    json_str(f, clcnn_version());
    fputs(", \"date\": ", f);
    json_str(f, run->date);
    fputs(", \"device\": ", f);
    json_str(f, run->device);
    fputs(", \"dtype\": ", f);
    json_str(f, run->dtype);
    fputs(", \"algo\": ", f);
    json_str(f, run->algo);
    fputs(", \"command\": ", f);
    json_str(f, run->command);
    fputs(", \"onednn\": ", f);
    json_str(f, run->onednn);
    fprintf(f, ", \"reps\": %d, \"budget_s\": %g,\n  \"first_call\": [", run->reps, run->budget_s);
    for (int i = 0; i < 3; i++) {
        fprintf(f, "{\"family\": \"%s\", ", run->first[i].family);
        json_num(f, "seconds", run->first[i].seconds, 1);
        fputs(i < 2 ? "}, " : "}],\n  \"rows\": [\n", f);
    }
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        const bench_layer *l = &r->layer;
        const double dev = device_s(r);
        fputs("    {\"suite\": ", f);
        json_str(f, l->suite);
        fputs(", \"layer\": ", f);
        json_str(f, l->name);
        fprintf(f, ", \"kind\": \"%s\", \"op\": \"%s\", \"mode\": ", l->kind == LAYER_CONV ? "conv" : "pool",
                bench_op_name(r->op));
        if (mode_name(r))
            json_str(f, mode_name(r));
        else
            fputs("null", f);
        fprintf(
            f,
            ", \"n\": %d, \"h\": %d, \"w\": %d, \"c\": %d, \"fh\": %d, \"fw\": %d, \"cout\": %d, \"f\": %d, "
            "\"stride\": %d, \"pad\": %d, \"ho\": %d, \"wo\": %d, \"flops\": %.0f, \"bytes\": %.0f, "
            "\"reps\": %d, ",
            l->n, l->h, l->w, l->c, l->fh, l->fw, l->cout, l->f, l->stride, l->pad, r->ho, r->wo, r->flops,
            r->bytes, r->reps);
        json_num(f, "device_kernel_median_s", r->dev_kernel_median_s, 0);
        json_num(f, "device_kernel_min_s", r->dev_kernel_min_s, 0);
        json_num(f, "device_wall_median_s", r->dev_wall_median_s, 0);
        json_num(f, "device_wall_min_s", r->dev_wall_min_s, 0);
        json_num(f, "device_gflops", bench_gflops(r->flops, dev), 0);
        json_num(f, "device_gbs", bench_gbs(r->bytes, dev), 0);
        json_num(f, "host_s", r->host_s, 0);
        fprintf(f, "\"host_batch\": %d, \"host_extrapolated\": %s, ", r->host_batch,
                r->host_extrapolated ? "true" : "false");
        json_num(f, "host_gflops", bench_gflops(r->flops, r->host_s), 0);
        json_num(f, "host_gbs", bench_gbs(r->bytes, r->host_s), 0);
        json_num(f, "speedup",
                 r->host_s > 0 && r->dev_wall_median_s > 0 ? r->host_s / r->dev_wall_median_s : -1, 0);
        json_num(f, "max_abs_err", r->max_abs_err, 0);
        json_num(f, "max_rel_err", r->max_rel_err, 0);
        json_num(f, "clblast_convgemm_s", r->clblast_convgemm_s, 0);
        json_num(f, "clblast_convgemm_gflops", bench_gflops(r->flops, r->clblast_convgemm_s), 0);
        json_num(f, "clblast_sgemm_s", r->clblast_sgemm_s, 0);
        json_num(f, "clblast_sgemm_gflops", bench_gflops(r->flops, r->clblast_sgemm_s), 0);
        json_num(f, "onednn_median_s", r->onednn_s, 0);
        json_num(f, "onednn_min_s", r->onednn_min_s, 0);
        json_num(f, "onednn_gflops", bench_gflops(r->flops, r->onednn_s), 0);
        json_num(f, "onednn_gbs", bench_gbs(r->bytes, r->onednn_s), 0);
        json_num(f, "onednn_max_rel_err", r->onednn_rel_err, 0);
        fputs("\"algo_ran\": ", f);
        json_str(f, r->algo_ran ? r->algo_ran : "");
        fputs(", \"note\": ", f);
        json_str(f, r->error);
        fputs(i + 1 < run->n_rows ? "},\n" : "}\n", f);
    }
    fputs("  ]\n}\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}
