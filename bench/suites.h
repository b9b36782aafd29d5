/* suites.h - the layer lists of clcnn-bench's suites and --shape. */
#ifndef CLCNN_BENCH_SUITES_H
#define CLCNN_BENCH_SUITES_H

#include "bench.h"

/* Writes the layers of suite ("seed", "resnet", "peers") into out (at most
 * max), with every batch set to `batch` when it is > 0; returns their count,
 * or -1 for an unknown suite. */
int bench_suite_layers(const char *suite, int batch, bench_layer *out, int max);

/* Parses "conv:N,H,W,C,COUT,FH,FW,STRIDE,PAD" or "pool:max|avg:N,H,W,C,F,STRIDE";
 * 0, or -1 when spec is malformed. */
int bench_parse_shape(const char *spec, bench_layer *out);

#endif
