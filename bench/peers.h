/* peers.h - CLBlast, timed on the same device and queue as clcnn. */
#ifndef CLCNN_BENCH_PEERS_H
#define CLCNN_BENCH_PEERS_H

#include "bench.h"

/* Times CLBlastSconvgemm (NCHW, the layer's data converted outside the timed
 * region) and CLBlastSgemm at the convolution's GEMM size (M = N Ho Wo,
 * K = fh fw Cin, N = Cout) on ctx's device, into row's clblast_* fields.
 * a and w are the layer's F32 NHWC input and HWIO weights. */
void bench_clblast(clcnn_context *ctx, const bench_layer *l, int ho, int wo, const void *a, const void *w,
                   int reps, double budget_s, bench_row *row);

#endif
