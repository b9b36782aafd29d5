/* suites.c - the layers clcnn-bench measures: the notebook's shapes (seed),
 * ResNet-50's (resnet), the peer comparison set (peers), and one layer given
 * on the command line (--shape); and each (layer, op) as a case of the op
 * descriptors (tests/ops.h), which clcnn-bench and clcnn-ab run. */
#include "suites.h"

#include <stdio.h>
#include <string.h>

static bench_layer conv(const char *suite, const char *name, int n, int h, int w, int c, int cout, int fh,
                        int fw, int stride, int pad)
{
    bench_layer l;
    memset(&l, 0, sizeof l);
    snprintf(l.suite, sizeof l.suite, "%s", suite);
    snprintf(l.name, sizeof l.name, "%s", name);
    l.kind = LAYER_CONV;
    l.n = n, l.h = h, l.w = w, l.c = c, l.cout = cout, l.fh = fh, l.fw = fw, l.stride = stride, l.pad = pad;
    return l;
}

static bench_layer pool(const char *suite, const char *name, int n, int h, int w, int c, int f, int stride,
                        clcnn_pool_mode mode)
{
    bench_layer l;
    memset(&l, 0, sizeof l);
    snprintf(l.suite, sizeof l.suite, "%s", suite);
    snprintf(l.name, sizeof l.name, "%s", name);
    l.kind = LAYER_POOL;
    l.n = n, l.h = h, l.w = w, l.c = c, l.f = f, l.stride = stride, l.mode = mode;
    return l;
}

int bench_suite_layers(const char *suite, int batch, bench_layer *out, int max)
{
    bench_layer l[16];
    int n = 0;
    if (strcmp(suite, "seed") == 0) {
        /* conv_single_step, conv_forward, conv_backward; pool_forward cases
         * 1 and 2; pool_backward (max and average). */
        l[n++] = conv("seed", "single_step", 1, 4, 4, 3, 1, 4, 4, 1, 0);
        l[n++] = conv("seed", "conv_forward", 10, 5, 7, 4, 8, 3, 3, 2, 1);
        l[n++] = conv("seed", "conv_backward", 10, 4, 4, 3, 8, 2, 2, 2, 2);
        l[n++] = pool("seed", "pool_max_s1", 2, 5, 5, 3, 3, 1, CLCNN_POOL_MAX);
        l[n++] = pool("seed", "pool_avg_s1", 2, 5, 5, 3, 3, 1, CLCNN_POOL_AVG);
        l[n++] = pool("seed", "pool_max_s2", 2, 5, 5, 3, 3, 2, CLCNN_POOL_MAX);
        l[n++] = pool("seed", "pool_avg_s2", 2, 5, 5, 3, 3, 2, CLCNN_POOL_AVG);
        l[n++] = pool("seed", "pool_backward", 5, 5, 3, 2, 2, 1, CLCNN_POOL_MAX);
    } else if (strcmp(suite, "resnet") == 0) {
        const int b = 32;
        l[n++] = conv("resnet", "conv1", b, 224, 224, 3, 64, 7, 7, 2, 3);
        l[n++] = pool("resnet", "pool1_max", b, 112, 112, 64, 3, 2, CLCNN_POOL_MAX);
        l[n++] = conv("resnet", "res2_1x1_64", b, 56, 56, 64, 64, 1, 1, 1, 0);
        l[n++] = conv("resnet", "res2_3x3_64", b, 56, 56, 64, 64, 3, 3, 1, 1);
        l[n++] = conv("resnet", "res2_1x1_256", b, 56, 56, 64, 256, 1, 1, 1, 0);
        l[n++] = conv("resnet", "res2_1x1_256to64", b, 56, 56, 256, 64, 1, 1, 1, 0);
        l[n++] = conv("resnet", "res3_3x3_128", b, 28, 28, 128, 128, 3, 3, 1, 1);
        l[n++] = conv("resnet", "res3_1x1_512", b, 28, 28, 128, 512, 1, 1, 1, 0);
        l[n++] = conv("resnet", "res4_3x3_256", b, 14, 14, 256, 256, 3, 3, 1, 1);
        l[n++] = conv("resnet", "res4_1x1_1024", b, 14, 14, 256, 1024, 1, 1, 1, 0);
        l[n++] = conv("resnet", "res5_3x3_512", b, 7, 7, 512, 512, 3, 3, 1, 1);
        l[n++] = conv("resnet", "res5_1x1_2048", b, 7, 7, 512, 2048, 1, 1, 1, 0);
        l[n++] = pool("resnet", "pool5_avg", b, 7, 7, 2048, 7, 1, CLCNN_POOL_AVG);
    } else if (strcmp(suite, "peers") == 0) {
        l[n++] = conv("peers", "a", 64, 56, 56, 64, 64, 3, 3, 1, 1);
        l[n++] = conv("peers", "b", 32, 28, 28, 128, 128, 3, 3, 1, 1);
        l[n++] = conv("peers", "c", 32, 14, 14, 256, 256, 3, 3, 1, 1);
        l[n++] = conv("peers", "d", 64, 224, 224, 3, 64, 7, 7, 2, 3);
        l[n++] = conv("peers", "e", 128, 28, 28, 192, 32, 1, 1, 1, 0);
        l[n++] = pool("peers", "pool_max", 64, 112, 112, 64, 3, 2, CLCNN_POOL_MAX);
        l[n++] = pool("peers", "pool_avg", 64, 112, 112, 64, 2, 2, CLCNN_POOL_AVG);
    } else {
        return -1;
    }
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        if (batch > 0)
            l[i].n = batch;
        out[i] = l[i];
    }
    return n;
}

int bench_parse_shape(const char *spec, bench_layer *out)
{
    int v[9], used = 0;
    char mode[8] = "";
    if (sscanf(spec, "conv:%d,%d,%d,%d,%d,%d,%d,%d,%d%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7], &v[8], &used) == 9 &&
        spec[used] == '\0') {
        *out = conv("shape", "custom", v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
    } else if (sscanf(spec, "pool:%3[a-z]:%d,%d,%d,%d,%d,%d%n", mode, &v[0], &v[1], &v[2], &v[3], &v[4],
                      &v[5], &used) == 7 &&
               spec[used] == '\0' && (strcmp(mode, "max") == 0 || strcmp(mode, "avg") == 0)) {
        *out = pool("shape", "custom", v[0], v[1], v[2], v[3], v[4], v[5],
                    strcmp(mode, "max") == 0 ? CLCNN_POOL_MAX : CLCNN_POOL_AVG);
    } else {
        return -1;
    }
    const int dims[4] = {out->n, out->h, out->w, out->c};
    for (int i = 0; i < 4; i++)
        if (dims[i] < 1)
            return -1;
    return 0;
}

const tc_op *bench_case(const bench_layer *l, bench_op op, tc_shape *s)
{
    static const tc_op_id ids[OP_COUNT] = {
        [OP_PAD] = TC_ZERO_PAD,
        [OP_CONV_FWD] = TC_CONV_FORWARD,
        [OP_CONV_BWD_DATA] = TC_CONV_BACKWARD,
        [OP_CONV_BWD_FILTER] = TC_CONV_BACKWARD,
        [OP_POOL_FWD] = TC_POOL_FORWARD,
        [OP_POOL_BWD] = TC_POOL_BACKWARD,
    };
    memset(s, 0, sizeof *s);
    s->n = l->n, s->h = l->h, s->w = l->w, s->c = l->c, s->stride = l->stride;
    s->mode = l->mode, s->algo = CLCNN_CONV_AUTO;
    if (l->kind == LAYER_CONV) {
        s->cout = l->cout, s->fh = l->fh, s->fw = l->fw, s->pad = l->pad;
        s->bias = op == OP_CONV_FWD;
        s->omit = op == OP_CONV_BWD_DATA ? 2 | 4 : op == OP_CONV_BWD_FILTER ? 1 : 0;
    } else {
        s->fh = s->fw = l->f;
    }
    return tc_op_of((unsigned)op < OP_COUNT ? ids[op] : TC_OP_COUNT);
}

clcnn_status bench_call(clcnn_context *ctx, const bench_layer *l, bench_op op, clcnn_tensor *const set[],
                        const int slots[TC_MAX_IN + TC_MAX_OUT])
{
    tc_shape c;
    const tc_op *o = bench_case(l, op, &c);
    clcnn_tensor *in[TC_MAX_IN] = {NULL}, *out[TC_MAX_OUT] = {NULL};
    for (int slot = 0; slot < o->n_in + o->n_out; slot++) {
        int d[4];
        if (!tc_dims(o, &c, slot, d))
            continue;
        if (slot < o->n_in)
            in[slot] = set[slots[slot]];
        else
            out[slot - o->n_in] = set[slots[slot]];
    }
    return o->run(ctx, &c, in, out);
}

void bench_out_size(const bench_layer *l, int *ho, int *wo)
{
    tc_shape s;
    const tc_op *op = bench_case(l, l->kind == LAYER_CONV ? OP_CONV_FWD : OP_POOL_FWD, &s);
    int d[4];
    tc_dims(op, &s, op->n_in, d); /* the first output: z, or a */
    *ho = d[1], *wo = d[2];
}
