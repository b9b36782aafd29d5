/* helpers.c - shared test helpers (see helpers.h). */
#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *th_dtype_name(clcnn_dtype dtype)
{
    return dtype == CLCNN_F64 ? "f64" : "f32";
}

const char *th_backend_name(clcnn_backend backend)
{
    switch (backend) {
    case CLCNN_BACKEND_OPENCL: return "opencl";
    case CLCNN_BACKEND_HOST: return "host";
    default: return "auto";
    }
}

clcnn_context *th_context(clcnn_backend backend)
{
    /* The device tests follow CLCNN_DEVICE, so they can be pointed at a GPU. */
    clcnn_options o = {backend, backend == CLCNN_BACKEND_OPENCL ? getenv("CLCNN_DEVICE") : NULL};
    clcnn_context *ctx = NULL;
    clcnn_status s = clcnn_context_create(&o, &ctx);
    if (s != CLCNN_OK)
        fail_msg("clcnn_context_create(%s): %s: %s", th_backend_name(backend), clcnn_status_string(s),
                 clcnn_last_error(NULL));
    assert_int_equal(clcnn_context_backend(ctx), backend);
    return ctx;
}

size_t th_count(const clcnn_tensor *t)
{
    int d[4];
    clcnn_tensor_shape(t, d);
    return (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3];
}

static size_t elem_size(clcnn_dtype dtype)
{
    return dtype == CLCNN_F64 ? sizeof(double) : sizeof(float);
}

void th_write(clcnn_tensor *t, const double *data)
{
    const clcnn_dtype dtype = clcnn_tensor_dtype(t);
    const size_t count = th_count(t);
    void *buf = malloc(count * elem_size(dtype));
    assert_non_null(buf);
    for (size_t i = 0; i < count; i++) {
        if (dtype == CLCNN_F64)
            ((double *)buf)[i] = data[i];
        else
            ((float *)buf)[i] = (float)data[i];
    }
    clcnn_status s = clcnn_tensor_write(t, buf, count * elem_size(dtype));
    free(buf);
    if (s != CLCNN_OK)
        fail_msg("clcnn_tensor_write: %s", clcnn_status_string(s));
}

clcnn_tensor *th_tensor(clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c, const double *data)
{
    clcnn_tensor *t = NULL;
    clcnn_status s = clcnn_tensor_create(ctx, dtype, n, h, w, c, &t);
    if (s != CLCNN_OK)
        fail_msg("clcnn_tensor_create(%d, %d, %d, %d): %s: %s", n, h, w, c, clcnn_status_string(s),
                 clcnn_last_error(ctx));
    if (data)
        th_write(t, data);
    return t;
}

double *th_read(const clcnn_tensor *t)
{
    size_t count = th_count(t), nbytes = count * elem_size(clcnn_tensor_dtype(t));
    void *buf = malloc(nbytes);
    double *out = malloc(count * sizeof(double));
    assert_non_null(buf);
    assert_non_null(out);
    clcnn_status s = clcnn_tensor_read(t, buf, nbytes);
    if (s != CLCNN_OK)
        fail_msg("clcnn_tensor_read: %s", clcnn_status_string(s));
    for (size_t i = 0; i < count; i++)
        out[i] = clcnn_tensor_dtype(t) == CLCNN_F64 ? ((double *)buf)[i] : (double)((float *)buf)[i];
    free(buf);
    return out;
}

unsigned char *th_snapshot(const clcnn_tensor *t, size_t *nbytes)
{
    *nbytes = th_count(t) * elem_size(clcnn_tensor_dtype(t));
    unsigned char *buf = malloc(*nbytes);
    assert_non_null(buf);
    assert_int_equal(clcnn_tensor_read(t, buf, *nbytes), CLCNN_OK);
    return buf;
}

void th_expect_unchanged(const clcnn_tensor *t, const unsigned char *snap, size_t nbytes, const char *what)
{
    size_t now_n;
    unsigned char *now = th_snapshot(t, &now_n);
    int same = now_n == nbytes && memcmp(now, snap, nbytes) == 0;
    free(now);
    if (!same)
        fail_msg("%s was changed by a failing call", what);
}

/* Parses a printed number: its value and the weight of its last printed
 * digit (10^-decimals, scaled by the exponent). */
static double parse_printed(const char *s, double *unit, int *is_zero_literal)
{
    char *end;
    double v = strtod(s, &end);
    const char *dot = strchr(s, '.');
    const char *e = strpbrk(s, "eE");
    int decimals = 0;
    if (dot && (!e || dot < e))
        decimals = (int)((e ? e : s + strlen(s)) - dot - 1);
    int exponent = e ? atoi(e + 1) : 0;
    if (!e && decimals < 8)
        decimals = 8; /* numpy arrays print 8 decimals and drop trailing zeros */
    *unit = pow(10.0, exponent - decimals);
    *is_zero_literal = v == 0.0;
    return v;
}

/* F32 tolerance: within 1e-5 of the value relative to `scale` (the value's
 * magnitude, or the largest magnitude of the printed array it belongs to).
 * An F32 result is the exact result of inputs rounded to float (relative
 * error 2^-24 each), so its error scales with the magnitude of the terms, not
 * with a result that cancels to near zero (e.g. an average of -3.5e-4 from
 * values of order 1); 1e-5 leaves a factor of over 100 on 2^-24. */
static void expect_printed_scaled(double got, const char *printed, clcnn_dtype dtype, const char *what,
                                  double scale)
{
    double unit;
    int zero;
    double want = parse_printed(printed, &unit, &zero);
    int ok;
    if (dtype == CLCNN_F64) {
        /* Half a unit in the last printed place, widened by the error of
         * writing that decimal bound in binary. */
        ok = zero ? got == 0.0 : fabs(got - want) <= 0.5 * unit * (1.0 + 1e-9);
    } else {
        /* F32: 1e-5 relative; a printed exact zero must stay exactly zero. */
        ok = zero ? got == 0.0 : fabs(got - want) <= 1e-5 * fmax(fabs(want), scale);
    }
    if (!ok)
        fail_msg("%s (%s): got %.17g, the notebook printed %s", what, th_dtype_name(dtype), got, printed);
}

void th_expect_printed(double got, const char *printed, clcnn_dtype dtype, const char *what)
{
    expect_printed_scaled(got, printed, dtype, what, 0.0);
}

void th_expect_printed_list(const double *got, size_t n, const char *printed, clcnn_dtype dtype,
                            const char *what)
{
    size_t i = 0;
    const char *p = printed;
    char token[64], label[160];
    double scale = 0.0; /* the largest printed magnitude */
    for (const char *q = printed; *q;) {
        size_t skip = strspn(q, "[] \n\t,");
        q += skip;
        if (!*q)
            break;
        char *end;
        double v = strtod(q, &end);
        scale = fmax(scale, fabs(v));
        q = end > q ? end : q + 1;
    }
    while (*p) {
        if (strchr("[] \n\t,", *p)) {
            p++;
            continue;
        }
        size_t len = strcspn(p, "[] \n\t,");
        assert_true(len < sizeof token);
        memcpy(token, p, len);
        token[len] = '\0';
        p += len;
        if (i >= n)
            fail_msg("%s: the notebook printed more than %zu values", what, n);
        snprintf(label, sizeof label, "%s[%zu]", what, i);
        expect_printed_scaled(got[i], token, dtype, label, scale);
        i++;
    }
    if (i != n)
        fail_msg("%s: the notebook printed %zu values, the test compares %zu", what, i, n);
}

double th_mean(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

void th_expect_guards(clcnn_tensor *const *ts, size_t n, const char *what)
{
#ifdef CLCNN_CANARIES
    char report[512];
    for (size_t i = 0; i < n; i++)
        if (ts[i] && clcnn__tensor_guards_ok(ts[i], report, sizeof report) != 1)
            fail_msg("%s: tensor %zu of %zu: %s", what, i, n, report);
#else
    (void)ts, (void)n, (void)what;
#endif
}

char *th_env_swap(const char *name, const char *value)
{
    const char *old = getenv(name);
    char *saved = old ? strdup(old) : NULL;
    assert_true(!old || saved);
    if (value)
        assert_int_equal(setenv(name, value, 1), 0);
    else
        unsetenv(name);
    return saved;
}

void th_env_restore(const char *name, char *saved)
{
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}
