/* test_device_special.c - the device on special values and limits:
 * non-finite weights, gradients and pooling inputs (the reference's NaN,
 * infinities and signed zeros), strides near INT_MAX, and a device without
 * cl_khr_fp64. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "device_fixture.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A device without cl_khr_fp64 (simulated with CLCNN_DISABLE_FP64) refuses
 * F64 operations with CLCNN_ERR_UNSUPPORTED and a sentence, touches no
 * output, and still runs F32. */
void f64_without_cl_khr_fp64_is_unsupported(void **state)
{
    (void)state;
    setenv("CLCNN_DISABLE_FP64", "1", 1);
    clcnn_context *ctx = th_context(CLCNN_BACKEND_OPENCL);
    unsetenv("CLCNN_DISABLE_FP64");
    const double x[4] = {1, 2, 3, 4};
    clcnn_tensor *a = th_tensor(ctx, CLCNN_F64, 1, 2, 2, 1, x),
                 *z = th_tensor(ctx, CLCNN_F64, 1, 4, 4, 1, NULL);
    const double seven[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    assert_int_equal(clcnn_tensor_write(z, seven, sizeof seven), CLCNN_OK);
    size_t nbytes;
    unsigned char *before = th_snapshot(z, &nbytes);
    assert_int_equal(clcnn_zero_pad(ctx, a, 1, z), CLCNN_ERR_UNSUPPORTED);
    assert_non_null(strstr(clcnn_last_error(ctx), "clcnn_zero_pad"));
    assert_non_null(strstr(clcnn_last_error(ctx), "cl_khr_fp64"));
    th_expect_unchanged(z, before, nbytes, "x_pad");
    clcnn_tensor *a32 = th_tensor(ctx, CLCNN_F32, 1, 2, 2, 1, x),
                 *z32 = th_tensor(ctx, CLCNN_F32, 1, 4, 4, 1, NULL);
    assert_int_equal(clcnn_zero_pad(ctx, a32, 1, z32), CLCNN_OK);
    double *r = th_read(z32);
    assert_true(r[5] == 1 && r[6] == 2 && r[9] == 3 && r[10] == 4 && r[0] == 0);
    free(r);
    free(before);
    clcnn_tensor_destroy(a), clcnn_tensor_destroy(z), clcnn_tensor_destroy(a32), clcnn_tensor_destroy(z32);
    clcnn_context_destroy(ctx);
}

/* Non-finite weights, then non-finite dz: every direction and algorithm
 * gives NaN and infinities exactly where the reference does (padding is
 * multiplied in forward and backward filter, as the notebook's padded array
 * is, so an infinite dz whose window reaches into the padding makes NaN in
 * dw; backward data sums only products of real dz elements). The fuzzer found
 * backward data, computed as a forward convolution of padded dz, putting
 * 0 * inf terms where the reference has none. Filters 3x2 and 3x3: on
 * CPUs, backward data with a square filter reads a zero-padded copy of dz
 * unless a weight is not finite (conv_forward_<N>'s a_slack), so the 3x3
 * case checks that this flag is set and obeyed. */
void non_finite_weights_spread_like_the_reference(void **state)
{
    th_fixture *f = th_fx(state);
    static const char *const algos[] = {"direct", "gemm"};
    double a[2 * 5 * 4 * 3], w[3 * 3 * 3 * 2], dz[2 * 5 * 5 * 2];
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        a[i] = (double)((int)(i % 7) - 3);
    for (int g = 0; g < 8; g++) {
        const int fw = 2 + (g / 2) % 2, wo = 4 + 2 - fw + 1; /* pad 1, stride 1 */
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
            w[i] = (double)((int)(i % 5) - 2);
        for (size_t i = 0; i < sizeof dz / sizeof dz[0]; i++)
            dz[i] = (double)((int)(i % 3) - 1);
        if (g < 4)
            w[0] = INFINITY, w[7] = -INFINITY, w[11] = NAN;
        else /* the first and last outputs' windows reach into the padding */
            dz[0] = INFINITY, dz[2 * 5 * wo * 2 - 1] = -INFINITY;
        clcnn_context *ctxs[2] = {context_with(f, "CLCNN_CONV_ALGO", algos[g % 2]), th_host(f)};
        const tc_shape s = conv_shape(2, 5, 4, 3, 3, fw, 2, 1, 1, 0, CLCNN_CONV_AUTO);
        for (int dir = 0; dir < 2; dir++) {
            const tc_op *op = tc_op_of(dir ? TC_CONV_BACKWARD : TC_CONV_FORWARD);
            double *const fwd_in[TC_MAX_IN] = {a, w, NULL}, *const bwd_in[TC_MAX_IN] = {dz, a, w};
            tc_tensors t[2];
            for (int on = 0; on < 2; on++) {
                th_case_make(f, ctxs[on], op, &s, CLCNN_F32, dir ? bwd_in : fwd_in, &t[on]);
                run_case(&t[on]);
            }
            for (int o = 0; o < op->n_out; o++) {
                double *dev = th_read(t[0].out[o]), *ref = th_read(t[1].out[o]);
                for (size_t i = 0; i < th_count(t[0].out[o]); i++)
                    if (!(dev[i] == ref[i] || (isnan(dev[i]) && isnan(ref[i]))))
                        fail_msg("%s, 3x%d filter, non-finite %s, %s element %zu: device %g, reference %g",
                                 algos[g % 2], fw, g < 4 ? "w" : "dz", op->out_names[o], i, dev[i], ref[i]);
                free(dev), free(ref);
            }
            th_case_free(f, &t[0]), th_case_free(f, &t[1]);
        }
        th_drop_context(f, ctxs[0]);
    }
}

/* Pooling of data holding NaN, infinities, signed zeros and ties gives the
 * reference's bits, in both modes and directions, for channel counts that
 * take each path of the kernels (on CPUs: several channel blocks a
 * work-item, ILP blocks at once and a tail) and windows that overlap (3x3
 * with stride 1 too, whose average gradient divides each window once,
 * beforehand), tile or skip pixels. Max follows np.max (the first NaN of a window, in
 * row-major order); the max-pool gradient goes to every element equal to
 * its window's max. One exception to exact bits: an F32 average gradient
 * with f*f not a power of two sums F32 quotients da / (f*f), the reference
 * rounds its F64 sum once: at most 4 terms of magnitude <= 4/9 here, so
 * within 4 * 2^-24 * 2 < 1e-6. F64 gradients are fractional, so that a
 * quotient computed any other way than da / (f*f) (a product with the
 * reciprocal, say) shows in the last bit. */
static int same_value(double x, double y)
{
    return (isnan(x) && isnan(y)) || (x == y && signbit(x) == signbit(y));
}

/* A quiet NaN whose payload k sits in the bits that a conversion to float
 * keeps (the top 22 of the mantissa's 51 below the quiet bit). */
static double nan_with_payload(unsigned k)
{
    const uint64_t bits = UINT64_C(0x7ff8000000000000) | (uint64_t)k << 40;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static int same_bits(double x, double y)
{
    return memcmp(&x, &y, sizeof x) == 0;
}

void non_finite_pool_inputs_match_the_reference(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctxs[2] = {th_device(f), th_host(f)};
    static const int channels[] = {64, 20, 12, 3}, windows[][2] = {{3, 2}, {2, 2}, {2, 1}, {2, 3}, {3, 1}};
    static const clcnn_dtype dtypes[2] = {CLCNN_F32, CLCNN_F64};
    enum { N = 2, H = 9, W = 11 };
    for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
            for (int d = 0; d < 2; d++)
                for (int mode = 0; mode < 2; mode++) {
                    const int ch = channels[ci], fw = windows[wi][0], stride = windows[wi][1];
                    const tc_shape s =
                        pool_shape(N, H, W, ch, fw, stride, mode ? CLCNN_POOL_AVG : CLCNN_POOL_MAX);
                    int out[4];
                    tc_dims(tc_op_of(TC_POOL_FORWARD), &s, 1, out);
                    const size_t n_in = (size_t)N * H * W * (size_t)ch, n_out = tc_count(out);
                    double *a = malloc(n_in * sizeof *a), *da = malloc(n_out * sizeof *da);
                    assert_non_null(a), assert_non_null(da);
                    for (size_t i = 0; i < n_in; i++) {
                        a[i] = (double)((int)((i * 7) % 5) - 2); /* ties */
                        if (i % 13 == 5) /* NaNs of three payloads: a max is the window's first NaN */
                            a[i] = nan_with_payload((unsigned)(i / 13 % 3) + 1);
                        else if (i % 17 == 3)
                            a[i] = INFINITY;
                        else if (i % 19 == 7)
                            a[i] = -INFINITY;
                        else if (i % 11 == 2)
                            a[i] = -0.0;
                    }
                    /* F64: fractions too, whose quotients by f*f differ from a product with the
                     * reciprocal in the last bit, which only an exact comparison sees */
                    for (size_t i = 0; i < n_out; i++)
                        da[i] = i % 29 == 4
                                    ? INFINITY
                                    : (double)((int)(i % 9) - 4) + (d ? (double)(i % 7) * 0.0137 : 0.0);
                    const int inexact = mode && dtypes[d] == CLCNN_F32 && ((fw * fw) & (fw * fw - 1)) != 0;
                    double *res[2][2];
                    for (int o = 0; o < 2; o++) {
                        const tc_op *op = tc_op_of(o ? TC_POOL_BACKWARD : TC_POOL_FORWARD);
                        double *const fwd_in[TC_MAX_IN] = {a, NULL, NULL}, *const bwd_in[TC_MAX_IN] = {da, a,
                                                                                                       NULL};
                        for (int on = 0; on < 2; on++) {
                            tc_tensors t;
                            th_case_make(f, ctxs[on], op, &s, dtypes[d], o ? bwd_in : fwd_in, &t);
                            th_case_run(&t);
                            res[on][o] = th_read(t.out[0]);
                            th_case_free(f, &t);
                        }
                    }
                    for (int o = 0; o < 2; o++)
                        for (size_t i = 0; i < (o ? n_in : n_out); i++)
                            if ((!same_value(res[0][o][i], res[1][o][i]) &&
                                 !(inexact && o == 1 && isfinite(res[1][o][i]) &&
                                   fabs(res[0][o][i] - res[1][o][i]) < 1e-6)) ||
                                (!mode && !o && !same_bits(res[0][o][i], res[1][o][i])))
                                fail_msg("%s %s pool f %d s %d, %d channels, %s element %zu: device %g, "
                                         "reference %g",
                                         th_dtype_name(dtypes[d]), mode ? "average" : "max", fw, stride, ch,
                                         o ? "da_prev" : "a", i, res[0][o][i], res[1][o][i]);
                    for (int on = 0; on < 2; on++)
                        free(res[on][0]), free(res[on][1]);
                    free(a), free(da);
                }
}

/* A stride close to INT_MAX is valid (the output is 1 wide) and must not
 * overflow the kernels' window arithmetic: backward-data and pool-backward
 * against the reference on a 16-row input. */
void huge_strides_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const int strides[2] = {INT_MAX - 5, INT_MAX};
    double a[16], one[1] = {3.0}, w[1] = {2.0};
    for (int i = 0; i < 16; i++)
        a[i] = i + 1;
    for (int k = 0; k < 2; k++) {
        tc_shape s[3];
        s[0] = conv_shape(1, 16, 1, 1, 1, 1, 1, strides[k], 0, 0, CLCNN_CONV_AUTO);
        s[0].omit = 2 | 4; /* da_prev alone */
        s[1] = pool_shape(1, 16, 1, 1, 1, strides[k], CLCNN_POOL_MAX);
        s[2] = pool_shape(1, 16, 1, 1, 1, strides[k], CLCNN_POOL_AVG);
        for (int i = 0; i < 3; i++) {
            const tc_op *op = tc_op_of(i ? TC_POOL_BACKWARD : TC_CONV_BACKWARD);
            double *const conv_in[TC_MAX_IN] = {one, a, w}, *const pool_in[TC_MAX_IN] = {one, a, NULL};
            tc_tensors got, ref;
            th_case_make(f, th_device(f), op, &s[i], CLCNN_F32, i ? pool_in : conv_in, &got);
            th_case_make(f, th_host(f), op, &s[i], CLCNN_F32, i ? pool_in : conv_in, &ref);
            th_case_run(&got);
            th_case_run(&ref);
            th_case_compare(&got, &ref, NULL, "(stride near INT_MAX)");
            th_case_free(f, &got), th_case_free(f, &ref);
        }
    }
}
