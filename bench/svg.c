/* svg.c - bench_write_svg: a horizontal grouped bar chart, as plain SVG text on
 * a logarithmic axis, of GFLOP/s per convolution row (device, host, CLBlast,
 * oneDNN). */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Geometry, in pixels. Text widths are estimated from a character count, as
 * there are no font metrics here: about 0.58 em per character of sans-serif. */
#define SVG_WIDTH 960
#define MARGIN 12
#define BAR_H 14      /* one bar */
#define BAR_STEP 17   /* one bar and the gap below it */
#define GROUP_PAD 9   /* between the bars of two rows */
#define LABEL_FONT 12 /* row labels */
#define VALUE_FONT 10 /* numbers at the ends of the bars */
#define LABEL_MAX_CHARS 44
#define VALUE_ROOM 84 /* right of the plot, for the numbers */
#define PLOT_TOP 124  /* below the title, legend and top tick labels */

#define N_SERIES 4
enum { S_DEVICE, S_HOST, S_CLBLAST, S_ONEDNN };

static const char *const series_name[N_SERIES] = {"device (OpenCL kernel median)", "host reference",
                                                  "CLBlast convgemm (conv fwd only)",
                                                  "oneDNN (CPU, wall clock)"};
static const char *const series_fill[N_SERIES] = {"#3b75af", "#ef8636", "#519e3e", "#8c63a8"};

/* One row's bars: the available figures in series order. */
typedef struct {
    int n;
    int series[N_SERIES];
    double gflops[N_SERIES];
    double seconds[N_SERIES];
    int wall; /* the device bar uses the wall-clock median */
} row_bars;

/* Where things go. The axis spans 10^dec_lo .. 10^dec_hi GFLOP/s. */
typedef struct {
    int width, height;
    int x0, x1; /* plot area, left and right */
    int y0, y1; /* plot area, top and bottom */
    int dec_lo, dec_hi;
} layout;

static int is_conv_row(const bench_row *r)
{
    return (r->op == OP_CONV_FWD || r->op == OP_CONV_BWD_DATA || r->op == OP_CONV_BWD_FILTER) && r->flops > 0;
}

static const char *op_label(bench_op op)
{
    switch (op) {
    case OP_CONV_FWD: return "fwd";
    case OP_CONV_BWD_DATA: return "bwd data";
    case OP_CONV_BWD_FILTER: return "bwd filter";
    default: return "?";
    }
}

/* Adds a bar when the time gives a usable throughput. */
static void add_bar(row_bars *b, int series, double flops, double seconds)
{
    if (seconds == BENCH_NONE || !(seconds > 0))
        return;
    double g = bench_gflops(flops, seconds);
    if (g == BENCH_NONE || !(g > 0) || !isfinite(g))
        return;
    b->series[b->n] = series;
    b->gflops[b->n] = g;
    b->seconds[b->n] = seconds;
    b->n++;
}

static row_bars bars_of(const bench_row *r)
{
    row_bars b;
    memset(&b, 0, sizeof b);
    double dev = r->dev_kernel_median_s;
    if (dev == BENCH_NONE || !(dev > 0)) {
        dev = r->dev_wall_median_s;
        b.wall = 1;
    }
    add_bar(&b, S_DEVICE, r->flops, dev);
    if (b.n == 0)
        b.wall = 0;
    add_bar(&b, S_HOST, r->flops, r->host_s);
    if (r->op == OP_CONV_FWD)
        add_bar(&b, S_CLBLAST, r->flops, r->clblast_convgemm_s);
    add_bar(&b, S_ONEDNN, r->flops, r->onednn_s);
    return b;
}

/* A row takes room for its bars, or for one line saying it has none. */
static int group_height(const row_bars *b)
{
    return (b->n > 0 ? b->n : 1) * BAR_STEP + GROUP_PAD;
}

/* Length in bytes of the valid UTF-8 sequence at s, or 0 when it is not one
 * (so that a stray byte in a device name cannot make the XML ill-formed). */
static int utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    int n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Characters in s, counting a byte that is not valid UTF-8 as one. */
static size_t text_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        int len = utf8_len(p);
        p += len > 0 ? len : 1;
        n++;
    }
    return n;
}

/* Writes s as XML character data: the special characters escaped, control
 * characters as spaces, invalid UTF-8 bytes as '?', and no more than max
 * characters (the last three then "..."). */
static void put_text(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t keep = text_chars(s) > max ? (max > 3 ? max - 3 : 0) : (size_t)-1;
    for (size_t i = 0; *p && i < keep; i++) {
        int len = utf8_len(p);
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (len == 0)
                fputc('?', f);
            else if (*p < 0x20 || *p == 0x7f)
                fputc(' ', f);
            else
                fwrite(p, 1, (size_t)len, f);
        }
        p += len > 0 ? len : 1;
    }
    if (keep != (size_t)-1)
        fputs("...", f);
}

/* v with 3 significant digits, without an exponent from 0.001 up: 0.00123,
 * 1.23, 123, 1230; below that 1.23e-04. */
static void format3(char *buf, size_t size, double v)
{
    char e[32];
    snprintf(e, sizeof e, "%.2e", v); /* rounds once, correctly */
    const char *x = strchr(e, 'e');
    int exp10 = x ? atoi(x + 1) : 0;
    int decimals = exp10 < 2 ? 2 - exp10 : 0;
    if (exp10 < -3)
        snprintf(buf, size, "%s", e);
    else
        snprintf(buf, size, "%.*f", decimals, strtod(e, NULL));
}

/* A decade's tick label: 0.001 .. 100000, else 1e6 and the like. */
static void format_decade(char *buf, size_t size, int d)
{
    if (d >= -4 && d <= 5)
        snprintf(buf, size, "%.*f", d < 0 ? -d : 0, pow(10.0, d));
    else
        snprintf(buf, size, "1e%d", d);
}

static int estimate_width(size_t chars, int font_px)
{
    return (int)(chars * font_px * 0.58 + 0.5);
}

/* The row's label, "suite/name op", unescaped. */
static void row_label(char *buf, size_t size, const bench_row *r)
{
    snprintf(buf, size, "%s/%s %s", r->layer.suite, r->layer.name, op_label(r->op));
}

static int x_of(const layout *L, double gflops)
{
    double t = (log10(gflops) - L->dec_lo) / (L->dec_hi - L->dec_lo);
    if (t < 0)
        t = 0;
    return L->x0 + (int)lround(t * (L->x1 - L->x0));
}

/* Sizes the chart to its rows and its axis to the range of the figures. */
static layout plan(const bench_run *run)
{
    layout L = {SVG_WIDTH, 0, 0, 0, PLOT_TOP, PLOT_TOP, 0, 1};
    double lo = HUGE_VAL, hi = 0;
    size_t label_chars = 8;
    char label[128];
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        if (!is_conv_row(r))
            continue;
        row_bars b = bars_of(r);
        for (int k = 0; k < b.n; k++) {
            lo = fmin(lo, b.gflops[k]);
            hi = fmax(hi, b.gflops[k]);
        }
        row_label(label, sizeof label, r);
        size_t n = text_chars(label);
        label_chars = n > label_chars ? n : label_chars;
        L.y1 += group_height(&b);
    }
    if (hi > 0) {
        L.dec_lo = (int)floor(log10(lo));
        L.dec_hi = (int)ceil(log10(hi));
        if (L.dec_hi <= L.dec_lo)
            L.dec_hi = L.dec_lo + 1;
    }
    if (label_chars > LABEL_MAX_CHARS)
        label_chars = LABEL_MAX_CHARS;
    L.x0 = MARGIN + estimate_width(label_chars, LABEL_FONT) + 10;
    L.x1 = L.width - VALUE_ROOM;
    L.height = L.y1 + 56;
    return L;
}

static void put_header(FILE *f, const bench_run *run, int width, int height)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\">\n",
            width, height, width, height);
    fprintf(f,
            "<defs><pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
            "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f9cfae\"/>"
            "<rect width=\"3\" height=\"6\" fill=\"%s\"/></pattern></defs>\n",
            series_fill[S_HOST]);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    /* Title: the device; below it the dtype, the date and the repetitions. */
    size_t room = (size_t)((width - 2 * MARGIN) / (16 * 0.6)) - 28;
    fprintf(f,
            "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">"
            "Convolution throughput on ",
            MARGIN);
    put_text(f, run->device[0] ? run->device : "unknown device", room);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"44\" font-size=\"12\" fill=\"#444\">dtype ", MARGIN);
    put_text(f, run->dtype ? run->dtype : "?", 8);
    fputs(", ", f);
    put_text(f, run->date[0] ? run->date : "undated", 32);
    if (run->reps > 0)
        fprintf(f, ", medians of %d timed repetitions", run->reps);
    fputs(", clcnn-bench</text>\n", f);
}

static void put_swatch(FILE *f, int x, int y, const char *fill)
{
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x, y, fill);
}

/* The three series on one line, the marks explained on the next. */
static void put_legend(FILE *f)
{
    int x = MARGIN, y = 58;
    for (int s = 0; s < N_SERIES; s++) {
        put_swatch(f, x, y, series_fill[s]);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", x + 17, y + 10, series_name[s]);
        x += 17 + estimate_width(strlen(series_name[s]), 12) + 24;
    }
    y += 20;
    put_swatch(f, MARGIN, y, "url(#hatch)");
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#444\">hatched, value marked *: host time "
            "extrapolated from a smaller batch;  (wall): device wall-clock median, no kernel timing</text>\n",
            MARGIN + 17, y + 10);
}

/* Grid lines at each decade (and fainter at 2..9 times it), tick labels
 * above and below the plot, and the axis title. */
static void put_axis(FILE *f, const layout *L)
{
    char tick[32];
    for (int d = L->dec_lo; d < L->dec_hi; d++)
        for (int m = 2; m <= 9; m++) {
            int x = x_of(L, m * pow(10.0, d));
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n", x, L->y0, x,
                    L->y1);
        }
    for (int d = L->dec_lo; d <= L->dec_hi; d++) {
        int x = x_of(L, pow(10.0, d));
        format_decade(tick, sizeof tick, d);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#aaa\"/>\n", x, L->y0 - 4, x,
                L->y1 + 4);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x,
                L->y0 - 7, tick);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x,
                L->y1 + 17, tick);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", L->x0, L->y0, L->x0,
            L->y1);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", L->x0, L->y1, L->x1,
            L->y1);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">GFLOP/s (logarithmic scale, "
            "higher is better)</text>\n",
            (L->x0 + L->x1) / 2, L->y1 + 38);
}

/* One bar, its tooltip and its number. */
static void put_bar(FILE *f, const layout *L, const bench_row *r, const row_bars *b, int k, int y)
{
    int s = b->series[k];
    int marked = s == S_HOST && r->host_extrapolated;
    int w = x_of(L, b->gflops[k]) - L->x0;
    char value[48], label[128];
    format3(value, sizeof value, b->gflops[k]);
    row_label(label, sizeof label, r);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"", L->x0, y, w > 1 ? w : 1,
            BAR_H, marked ? "url(#hatch)" : series_fill[s]);
    if (marked)
        fprintf(f, " stroke=\"%s\"", series_fill[s]);
    fputs("><title>", f);
    put_text(f, label, sizeof label);
    fprintf(f, ", %s: %s GFLOP/s (%.3g s)%s</title></rect>\n", series_name[s], value, b->seconds[k],
            marked ? ", extrapolated" : (s == S_DEVICE && b->wall ? ", wall clock" : ""));
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"%d\">%s%s%s</text>\n", L->x0 + w + 4, y + BAR_H - 3,
            VALUE_FONT, value, marked ? "*" : "", s == S_DEVICE && b->wall ? " (wall)" : "");
}

/* A row: its label, centred on its bars, and the bars. */
static void put_group(FILE *f, const layout *L, const bench_row *r, int y)
{
    row_bars b = bars_of(r);
    int h = group_height(&b);
    int bars_h = h - GROUP_PAD - (BAR_STEP - BAR_H); /* from the first bar's top to the last's bottom */
    char label[128];
    row_label(label, sizeof label, r);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"%d\" text-anchor=\"end\">", L->x0 - 8,
            y + GROUP_PAD / 2 + bars_h / 2 + LABEL_FONT / 3, LABEL_FONT);
    put_text(f, label, LABEL_MAX_CHARS);
    fputs("</text>\n", f);
    if (b.n == 0)
        fprintf(f,
                "<text x=\"%d\" y=\"%d\" font-size=\"%d\" fill=\"#888\" font-style=\"italic\">"
                "no figures</text>\n",
                L->x0 + 6, y + GROUP_PAD / 2 + BAR_H - 3, VALUE_FONT);
    for (int k = 0; k < b.n; k++)
        put_bar(f, L, r, &b, k, y + GROUP_PAD / 2 + k * BAR_STEP);
}

/* Stripes first (behind the grid), then the grid, then labels and bars. */
static void put_chart(FILE *f, const bench_run *run, const layout *L)
{
    int y = L->y0, index = 0;
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        if (!is_conv_row(r))
            continue;
        row_bars b = bars_of(r);
        if (index++ % 2)
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f3f3f3\"/>\n", MARGIN, y,
                    L->x1 - MARGIN, group_height(&b));
        y += group_height(&b);
    }
    put_axis(f, L);
    y = L->y0;
    for (size_t i = 0; i < run->n_rows; i++) {
        const bench_row *r = &run->rows[i];
        if (!is_conv_row(r))
            continue;
        row_bars b = bars_of(r);
        put_group(f, L, r, y);
        y += group_height(&b);
    }
}

int bench_write_svg(const bench_run *run, const char *path)
{
    if (!run || !path) {
        errno = EINVAL;
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    errno = 0;
    layout L = plan(run);
    if (L.y1 == L.y0) {
        put_header(f, run, 640, 110);
        fprintf(f, "<text x=\"%d\" y=\"86\" font-size=\"14\" fill=\"#666\">no convolution rows</text>\n",
                MARGIN);
    } else {
        put_header(f, run, L.width, L.height);
        put_legend(f);
        put_chart(f, run, &L);
    }
    fputs("</svg>\n", f);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
