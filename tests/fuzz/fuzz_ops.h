/* fuzz_ops.h - what the files of the libFuzzer target share: the decoded
 * case (fuzz_decode.c), the expected status and the naive oracle
 * (fuzz_oracle.c). fuzz_ops.c, the entry point, says what is checked and
 * how inputs are encoded. */
#ifndef CLCNN_FUZZ_OPS_H
#define CLCNN_FUZZ_OPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

#define MAX_SLOTS 6
#define CAP_ELEMS 4096        /* largest fitting output shape the decoder makes */
#define CAP_PADDED (1L << 18) /* largest padded input a valid conv may need */

enum { OP_PAD, OP_CONV_FWD, OP_CONV_BWD, OP_POOL_FWD, OP_POOL_BWD, OP_CONV_SHAPE, OP_POOL_SHAPE, N_OPS };
enum { F_NONE, F_NULL, F_ALIAS, F_DTYPE, F_CTX, F_NULL_CTX };
enum { V_INT, V_SPECIAL, V_FIXED, V_RAW };

/* The input being decoded: its bytes p[0..n), the next index i, and the
 * xorshift state x that supplies bytes past the end. */
typedef struct {
    const uint8_t *p;
    size_t n, i;
    uint64_t x;
} reader;

/* One decoded case: the op, its backend, dtype, value encoding, fault and
 * scalars, and for ops 0-4 its tensor arguments. */
typedef struct {
    int op, use_cl, vmode, fault, fslot;
    clcnn_dtype dtype;
    int pad, stride, f, algo, mode;
    /* ops 5-6 */
    int adims[4], wdims[4];
    /* ops 0-4: the call's tensor arguments ("slots") */
    int nslots;
    const char *name[MAX_SLOTS];
    int out[MAX_SLOTS], optional[MAX_SLOTS], present[MAX_SLOTS], owner[MAX_SLOTS], foreign[MAX_SLOTS];
    clcnn_dtype dt[MAX_SLOTS];
    int dims[MAX_SLOTS][4];
    double *val[MAX_SLOTS]; /* initial contents of the slots that own a tensor */
} fcase;

/* n*h*w*c; dims may be anything (negative, INT_MAX): saturates. */
static inline long long count4(const int d[4])
{
    __int128 n = (__int128)d[0] * d[1] * d[2] * d[3];
    return n > LLONG_MAX ? LLONG_MAX : n < LLONG_MIN ? LLONG_MIN : (long long)n;
}

static inline void set4(int d[4], int a, int b, int c, int e)
{
    d[0] = a, d[1] = b, d[2] = c, d[3] = e;
}

/* Slot s's shape: that of the tensor it passes (itself, or the one it aliases). */
static inline const int *sh(const fcase *c, int s)
{
    return c->dims[c->owner[s]];
}

static inline int valid_dims(const int d[4])
{
    return d[0] >= 1 && d[1] >= 1 && d[2] >= 1 && d[3] >= 1;
}

static inline int same4(const int a[4], const int b[4])
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* One output element: the exact sum in double of its terms, and what is
 * known about them whatever the order they are added in. */
typedef struct {
    double sum;     /* the terms added in double, in the definition's order */
    double fmag;    /* sum of |finite terms| */
    int k;          /* number of terms */
    int nan;        /* a NaN term: the result is NaN in any order */
    int pinf, ninf; /* an infinite term (from an infinite input) */
    int ovf;        /* a product of finite values overflowed: with other orders or fused
                     * multiply-adds, anything may come out */
} acc;

/* fuzz_decode.c: the case of the input read by r (fuzz_ops.c's header says
 * how), with the initial contents of its tensors, which fuzz_free_case
 * frees. */
void fuzz_decode(reader *r, fcase *c);
void fuzz_free_case(fcase *c);

/* fuzz_oracle.c: the statuses a call may return, and the results it must
 * give. */
void fuzz_conv_out(const int a[4], const int w[4], int stride, int pad, int *inv, int *shp, int z[4],
                   int *have_z);
void fuzz_pool_out(const int a[4], int f, int stride, int *shp, int o[4], int *have_o);
void fuzz_expect_tensor_op(const fcase *c, int *inv, int *shp);
int fuzz_status_allowed(clcnn_status s, int inv, int shp);
void fuzz_oracle(const fcase *c, acc *want[MAX_SLOTS]);
int fuzz_close_enough(double got, double ref, const acc *a, int exact, clcnn_dtype dt);
int fuzz_exact_results(const fcase *c, int s, int against_host);

#endif
