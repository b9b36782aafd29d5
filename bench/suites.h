/* suites.h - the layer lists of clcnn-bench's suites and --shape. */
#ifndef CLCNN_BENCH_SUITES_H
#define CLCNN_BENCH_SUITES_H

#include "bench.h"
#include "ops.h"

/* Writes the layers of suite ("seed", "resnet", "peers") into out (at most
 * max), with every batch set to `batch` when it is > 0; returns their count,
 * or -1 for an unknown suite. */
int bench_suite_layers(const char *suite, int batch, bench_layer *out, int max);

/* Parses "conv:N,H,W,C,COUT,FH,FW,STRIDE,PAD" or "pool:max|avg:N,H,W,C,F,STRIDE";
 * 0, or -1 when spec is malformed. */
int bench_parse_shape(const char *spec, bench_layer *out);

/* The op descriptor (tests/ops.h) and case of op on layer l: the tests'
 * definition of each op, from which the bench takes its call, tensor
 * shapes, FLOPs and bytes. conv_bwd_data asks for da_prev only,
 * conv_bwd_filter for dw and db; convolutions run CLCNN_CONV_AUTO. */
const tc_op *bench_case(const bench_layer *l, bench_op op, tc_shape *s);

/* The descriptor's call of op on l, whose slot i (ops.h: the inputs, then
 * the outputs) is the tensor set[slots[i]]; a slot absent from the case (an
 * output op does not ask for) gets NULL. */
clcnn_status bench_call(clcnn_context *ctx, const bench_layer *l, bench_op op, clcnn_tensor *const set[],
                        const int slots[TC_MAX_IN + TC_MAX_OUT]);

/* The output height and width of l: the convolution's or the pooling's. */
void bench_out_size(const bench_layer *l, int *ho, int *wo);

#endif
