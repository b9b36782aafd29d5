/* ab.c - clcnn-ab: compares two settings of one operation in one process.
 *
 *   clcnn-ab SPEC OP A B [ROUNDS [BURST]]
 *
 * SPEC is a layer as clcnn-bench --shape takes it; OP is fwd, data or
 * filter for a convolution (forward with bias; backward da_prev only; dw
 * and db), fwd or bwd for a pooling; A and B are comma-separated
 * VAR=VALUE lists of environment variables ("-" for none). Each setting
 * gets its own context and tensors, created with its variables set; then
 * the two are called in turn, ROUNDS times each (default 20) after two
 * warm-up rounds, each call timed from enqueue to clcnn_finish, with the
 * setting's variables set again before every call (so that variables read
 * at a call, such as CLCNN_KERNEL_DIR on a first build, apply too). It
 * prints each setting's fastest call and the speed ratio B / A.
 *
 * With BURST > 1 each turn is BURST calls in a row, the first one untimed:
 * the two settings' tensors together can exceed the last-level cache
 * (a 4x112x112x64 max-pool backward touches 32 MB a side), so that strict
 * alternation measures each call from DRAM, while clcnn-bench repeats one
 * call and measures it from cache. A burst's later calls find their data
 * where clcnn-bench would.
 *
 * Alternating in one process keeps both settings on the same machine
 * state: on a shared machine the same kernel can run 30% slower in one
 * process than in the next, which separate processes confound with the
 * change being measured. */
#define _POSIX_C_SOURCE 200809L
#include "clcnn.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_VARS = 8 };

typedef struct {
    char names[MAX_VARS][64];
    char values[MAX_VARS][192];
    int n;
} setting;

typedef struct {
    clcnn_context *ctx;
    clcnn_tensor *t[8]; /* conv: a, w, b, z/dz, da, dw, db; pool: a, out, dout, da */
    double best;
} side;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parses "VAR=V,VAR=V" (or "-") into *s; -1 when malformed. */
static int parse_setting(const char *text, setting *s)
{
    s->n = 0;
    if (strcmp(text, "-") == 0)
        return 0;
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || s->n == MAX_VARS || (size_t)(eq - item) >= sizeof s->names[0] ||
            strlen(eq + 1) >= sizeof s->values[0])
            return -1;
        *eq = '\0';
        strcpy(s->names[s->n], item);
        strcpy(s->values[s->n], eq + 1);
        s->n++;
    }
    return 0;
}

/* Unsets every variable either setting names, then sets s's. */
static void apply(const setting *s, const setting both[2])
{
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < both[k].n; i++)
            unsetenv(both[k].names[i]);
    for (int i = 0; i < s->n; i++)
        setenv(s->names[i], s->values[i], 1);
}

/* A tensor of the given shape filled with values in [-0.5, 0.5). */
static clcnn_tensor *filled(clcnn_context *ctx, int n, int h, int w, int c, unsigned *seed)
{
    clcnn_tensor *t = NULL;
    const size_t count = (size_t)n * (size_t)h * (size_t)w * (size_t)c;
    float *v = malloc(count * sizeof *v);
    if (v && clcnn_tensor_create(ctx, CLCNN_F32, n, h, w, c, &t) == CLCNN_OK) {
        for (size_t i = 0; i < count; i++) {
            *seed = *seed * 1103515245u + 12345u;
            v[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
        }
        if (clcnn_tensor_write(t, v, count * sizeof *v) != CLCNN_OK) {
            clcnn_tensor_destroy(t);
            t = NULL;
        }
    }
    free(v);
    return t;
}

/* A side's tensors, each named by the descriptor slot (ops.h) that gives
 * its shape: conv a, w, b, z (also dz), da, dw, db; pool a, out, dout, da. */
typedef struct {
    bench_op op;
    int slot;
} tensor_slot;

static const tensor_slot conv_tensors[] = {
    {OP_CONV_FWD, 0},      {OP_CONV_FWD, 1},        {OP_CONV_FWD, 2},       {OP_CONV_FWD, 3},
    {OP_CONV_BWD_DATA, 3}, {OP_CONV_BWD_FILTER, 4}, {OP_CONV_BWD_FILTER, 5}};
static const tensor_slot pool_tensors[] = {
    {OP_POOL_FWD, 0}, {OP_POOL_FWD, 1}, {OP_POOL_BWD, 0}, {OP_POOL_BWD, 2}};

/* Where each descriptor slot of an op lies in a side's tensors. */
static const int side_slots[OP_COUNT][TC_MAX_IN + TC_MAX_OUT] = {
    [OP_CONV_FWD] = {0, 1, 2, 3},
    [OP_CONV_BWD_DATA] = {3, 0, 1, 4, 5, 6},
    [OP_CONV_BWD_FILTER] = {3, 0, 1, 4, 5, 6},
    [OP_POOL_FWD] = {0, 1},
    [OP_POOL_BWD] = {2, 0, 3},
};

static int make_side(const bench_layer *l, side *sd)
{
    unsigned seed = 1;
    memset(sd->t, 0, sizeof sd->t);
    sd->best = -1;
    sd->ctx = NULL;
    if (clcnn_context_create(NULL, &sd->ctx) != CLCNN_OK)
        return -1;
    const int conv = l->kind == LAYER_CONV;
    const tensor_slot *ts = conv ? conv_tensors : pool_tensors;
    const int n = conv ? 7 : 4;
    for (int i = 0; i < n; i++) {
        tc_shape s;
        int d[4];
        tc_dims(bench_case(l, ts[i].op, &s), &s, ts[i].slot, d);
        if (!(sd->t[i] = filled(sd->ctx, d[0], d[1], d[2], d[3], &seed)))
            return -1;
    }
    return 0;
}

static void free_side(side *sd)
{
    for (int i = 0; i < 8; i++)
        clcnn_tensor_destroy(sd->t[i]);
    clcnn_context_destroy(sd->ctx);
}

int main(int argc, char **argv)
{
    bench_layer l;
    setting set[2];
    const int rounds = argc > 5 ? atoi(argv[5]) : 20, burst = argc > 6 ? atoi(argv[6]) : 1;
    const char *op = argc > 2 ? argv[2] : "";
    if (argc < 5 || argc > 7 || bench_parse_shape(argv[1], &l) != 0 || parse_setting(argv[3], &set[0]) ||
        parse_setting(argv[4], &set[1]) || rounds < 1 || burst < 1 || burst > 100 ||
        !(strcmp(op, "fwd") == 0 ||
          (l.kind == LAYER_CONV && (strcmp(op, "data") == 0 || strcmp(op, "filter") == 0)) ||
          (l.kind == LAYER_POOL && strcmp(op, "bwd") == 0))) {
        fprintf(stderr, "usage: clcnn-ab SPEC OP A B [ROUNDS [BURST]]\n"
                        "  SPEC  conv:N,H,W,C,COUT,FH,FW,STRIDE,PAD or pool:max|avg:N,H,W,C,F,STRIDE\n"
                        "  OP    fwd, data or filter (convolution); fwd or bwd (pooling)\n"
                        "  A, B  environment settings, VAR=VALUE[,VAR=VALUE...] or - for none\n"
                        "  ROUNDS  turns of each (default 20), after two warm-up turns\n"
                        "  BURST   calls per turn (default 1); past one, a turn's first call is not timed\n");
        return 2;
    }
    setenv("POCL_AFFINITY", "1", 0); /* as clcnn-bench: pinned PoCL threads vary less */
    int ho, wo;
    bench_out_size(&l, &ho, &wo);
    if (ho < 1 || wo < 1) {
        fprintf(stderr, "clcnn-ab: the window is larger than the padded input\n");
        return 2;
    }
    const bench_op bop = strcmp(op, "data") == 0     ? OP_CONV_BWD_DATA
                         : strcmp(op, "filter") == 0 ? OP_CONV_BWD_FILTER
                         : strcmp(op, "bwd") == 0    ? OP_POOL_BWD
                         : l.kind == LAYER_CONV      ? OP_CONV_FWD
                                                     : OP_POOL_FWD;
    side sides[2];
    for (int k = 0; k < 2; k++) {
        apply(&set[k], set);
        if (make_side(&l, &sides[k]) != 0) {
            fprintf(stderr, "clcnn-ab: setting %c: %s\n", 'A' + k, clcnn_last_error(sides[k].ctx));
            return 1;
        }
    }
    for (int r = 0; r < rounds + 2; r++)
        for (int turn = 0; turn < 2 * burst; turn++) {
            const int k = turn / burst, b = turn % burst; /* side k's b-th call of this round */
            side *sd = &sides[k];
            apply(&set[k], set);
            clcnn_finish(sd->ctx);
            const double t0 = now();
            const clcnn_status s = bench_call(sd->ctx, &l, bop, sd->t, side_slots[bop]);
            if (s == CLCNN_OK)
                clcnn_finish(sd->ctx);
            const double t = now() - t0;
            if (s != CLCNN_OK) {
                fprintf(stderr, "clcnn-ab: setting %c: %s\n", 'A' + k, clcnn_last_error(sd->ctx));
                return 1;
            }
            if (r >= 2 && (burst == 1 || b > 0) && (sd->best < 0 || t < sd->best))
                sd->best = t;
        }
    tc_shape s;
    const double flops = tc_flops(bench_case(&l, bop, &s), &s); /* 0 for pooling */
    for (int k = 0; k < 2; k++) {
        printf("%c %-40s %9.3f ms", 'A' + k, argv[3 + k], sides[k].best * 1e3);
        if (flops > 0)
            printf(" %8.1f GFLOP/s", flops / sides[k].best * 1e-9);
        printf("\n");
    }
    printf("speed B/A %.3f (fastest of %d calls each, alternating", sides[0].best / sides[1].best,
           rounds * (burst > 1 ? burst - 1 : 1));
    printf(burst > 1 ? " in bursts of %d)\n" : ")\n", burst);
    for (int k = 0; k < 2; k++)
        free_side(&sides[k]);
    return 0;
}
