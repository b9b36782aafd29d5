/* onednn_peer.h - the CPU peer column: oneDNN's own primitives on the same
 * layers (F32), the CPU reference point for clcnn's figures. Built
 * when CMake finds oneDNN (Debian's libdnnl-dev); otherwise every call here
 * reports that it is not there (onednn_none.c). */
#ifndef CLCNN_BENCH_ONEDNN_PEER_H
#define CLCNN_BENCH_ONEDNN_PEER_H

#include "bench.h"

#include <stddef.h>

/* A layer's data as clcnn-bench holds it (F32): inputs a (NHWC), w (HWIO),
 * b ([cout]) and dout (NHWC, the gradient of the op's output), and clcnn's
 * own results of the op to check oneDNN against: z, da_prev, dw and db, the
 * pooled output or da_prev (expected[1] is db for conv_bwd_filter, else
 * NULL). An expected NULL skips the check. */
typedef struct {
    const float *a, *w, *b, *dout;
    const float *expected[2];
} onednn_data;

/* "oneDNN 2.6.3 on the CPU" or why there is none, into buf. 1 when the peer
 * can run. */
int bench_onednn_describe(char *buf, size_t len);

/* Times oneDNN's primitive for op on layer l (output ho x wo) over up to
 * reps calls after one warm-up, within budget_s seconds: row->onednn_s and
 * onednn_min_s (host clock, execute to completion) and onednn_rel_err (max
 * abs difference from clcnn's result / max |clcnn's result|). A failure
 * leaves them BENCH_NONE and says why in row->error unless it holds a note
 * already. Not for OP_PAD (oneDNN has no padding op). */
void bench_onednn(const bench_layer *l, bench_op op, int ho, int wo, const onednn_data *d, int reps,
                  double budget_s, bench_row *row);

/* Releases the engine and stream the first call made. */
void bench_onednn_release(void);

#endif
