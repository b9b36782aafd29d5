/* fixture.c - the tests' one fixture and the cmocka-checked op cases (see
 * helpers.h). */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, setenv */
#include "helpers.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_CONTEXTS = 16, MAX_ENV = 8 };

typedef struct {
    void (*fn)(void *);
    void *arg;
} th_cleanup;

struct th_fixture {
    void *param;
    clcnn_context *host, *device;
    clcnn_context *contexts[MAX_CONTEXTS];
    int n_contexts;
    clcnn_tensor **tensors;
    size_t n_tensors, cap_tensors;
    char temp_dir[64]; /* "" until th_temp_dir */
    const char *env_names[MAX_ENV];
    char *env_saved[MAX_ENV]; /* th_env_swap's, for th_env_restore */
    int n_env;
    th_cleanup *cleanups; /* th_at_teardown's, run newest first */
    size_t n_cleanups, cap_cleanups;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

int th_setup(void **state)
{
    th_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->param = *state;
    *state = f;
    return 0;
}

int th_teardown(void **state)
{
    th_fixture *f = *state;
    if (!f)
        return 0;
    for (size_t i = f->n_tensors; i-- > 0;)
        clcnn_tensor_destroy(f->tensors[i]);
    free(f->tensors);
    for (int i = f->n_contexts; i-- > 0;)
        clcnn_context_destroy(f->contexts[i]);
    clcnn_context_destroy(f->device);
    clcnn_context_destroy(f->host);
    for (size_t i = f->n_cleanups; i-- > 0;)
        f->cleanups[i].fn(f->cleanups[i].arg);
    free(f->cleanups);
    for (int i = f->n_env; i-- > 0;)
        th_env_restore(f->env_names[i], f->env_saved[i]);
    if (f->temp_dir[0])
        nftw(f->temp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    *state = f->param;
    free(f);
    return 0;
}

th_fixture *th_fx(void **state)
{
    return *state;
}

void *th_param(void **state)
{
    return ((th_fixture *)*state)->param;
}

clcnn_context *th_host(th_fixture *f)
{
    if (!f->host)
        f->host = th_context(CLCNN_BACKEND_HOST);
    return f->host;
}

clcnn_context *th_device(th_fixture *f)
{
    if (!f->device)
        f->device = th_context(CLCNN_BACKEND_OPENCL);
    return f->device;
}

const char *th_temp_dir(th_fixture *f)
{
    if (!f->temp_dir[0]) {
        snprintf(f->temp_dir, sizeof f->temp_dir, "/tmp/clcnn-test-XXXXXX");
        if (!mkdtemp(f->temp_dir)) {
            f->temp_dir[0] = '\0';
            fail_msg("mkdtemp failed");
        }
    }
    return f->temp_dir;
}

void th_set_env(th_fixture *f, const char *name, const char *value)
{
    if (f->n_env == MAX_ENV)
        fail_msg("the fixture restores at most %d variables", MAX_ENV);
    f->env_names[f->n_env] = name;
    f->env_saved[f->n_env] = th_env_swap(name, value);
    f->n_env++;
}

void th_at_teardown(th_fixture *f, void (*fn)(void *), void *arg)
{
    if (f->n_cleanups == f->cap_cleanups) {
        size_t cap = f->cap_cleanups ? 2 * f->cap_cleanups : 16;
        th_cleanup *p = realloc(f->cleanups, cap * sizeof *p);
        if (!p) {
            fn(arg);
            fail_msg("out of memory");
        }
        f->cleanups = p, f->cap_cleanups = cap;
    }
    f->cleanups[f->n_cleanups++] = (th_cleanup){fn, arg};
}

void *th_own_mem(th_fixture *f, void *p)
{
    if (!p)
        fail_msg("out of memory");
    th_at_teardown(f, free, p);
    return p;
}

clcnn_context *th_own_context(th_fixture *f, clcnn_context *ctx)
{
    if (f->n_contexts == MAX_CONTEXTS) {
        clcnn_context_destroy(ctx);
        fail_msg("the fixture holds %d contexts already", MAX_CONTEXTS);
    }
    f->contexts[f->n_contexts++] = ctx;
    return ctx;
}

void th_drop_context(th_fixture *f, clcnn_context *ctx)
{
    if (ctx && ctx == f->device) {
        f->device = NULL;
    } else {
        int i = f->n_contexts;
        while (i-- > 0 && f->contexts[i] != ctx)
            ;
        if (i < 0)
            fail_msg("th_drop_context: a context the fixture does not hold");
        f->contexts[i] = f->contexts[--f->n_contexts];
    }
    clcnn_context_destroy(ctx);
}

clcnn_tensor *th_own(th_fixture *f, clcnn_tensor *t)
{
    if (!t)
        return t;
    if (f->n_tensors == f->cap_tensors) {
        size_t cap = f->cap_tensors ? 2 * f->cap_tensors : 64;
        clcnn_tensor **p = realloc(f->tensors, cap * sizeof *p);
        if (!p) {
            clcnn_tensor_destroy(t);
            fail_msg("out of memory");
        }
        f->tensors = p, f->cap_tensors = cap;
    }
    f->tensors[f->n_tensors++] = t;
    return t;
}

clcnn_tensor *th_fx_tensor(th_fixture *f, clcnn_context *ctx, clcnn_dtype dtype, int n, int h, int w, int c,
                           const double *data)
{
    clcnn_tensor *t = NULL;
    clcnn_status s = clcnn_tensor_create(ctx, dtype, n, h, w, c, &t);
    if (s != CLCNN_OK)
        fail_msg("clcnn_tensor_create(%d, %d, %d, %d): %s: %s", n, h, w, c, clcnn_status_string(s),
                 clcnn_last_error(ctx));
    th_own(f, t);
    if (data)
        th_write(t, data);
    return t;
}

void th_drop(th_fixture *f, clcnn_tensor *t)
{
    if (!t)
        return;
    size_t i = f->n_tensors; /* the newest first: cases free what they made last */
    while (i-- > 0 && f->tensors[i] != t)
        ;
    if (i == (size_t)-1)
        fail_msg("th_drop: a tensor the fixture does not hold");
    memmove(f->tensors + i, f->tensors + i + 1, (f->n_tensors - i - 1) * sizeof *f->tensors);
    f->n_tensors--;
    clcnn_tensor_destroy(t);
}

void th_fill(clcnn_tensor *t, double base, double step)
{
    const size_t n = th_count(t);
    double *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = base + step * (double)i;
    th_write(t, v);
    free(v);
}

/* ---- op cases ------------------------------------------------------------- */

void th_case_make(th_fixture *f, clcnn_context *ctx, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                  double *const in[TC_MAX_IN], tc_tensors *t)
{
    clcnn_status st = tc_tensors_make(ctx, op, s, dt, in, t);
    if (st != CLCNN_OK) {
        char desc[256];
        tc_describe(op, s, dt, desc, sizeof desc);
        fail_msg("%s: making its tensors: %s: %s", desc, clcnn_status_string(st), clcnn_last_error(ctx));
    }
    for (int i = 0; i < TC_MAX_IN; i++)
        th_own(f, t->in[i]);
    for (int i = 0; i < TC_MAX_OUT; i++)
        th_own(f, t->out[i]);
}

void th_case_free(th_fixture *f, tc_tensors *t)
{
    for (int i = TC_MAX_OUT; i-- > 0;)
        th_drop(f, t->out[i]);
    for (int i = TC_MAX_IN; i-- > 0;)
        th_drop(f, t->in[i]);
    memset(t->in, 0, sizeof t->in);
    memset(t->out, 0, sizeof t->out);
}

void th_case_run(tc_tensors *t)
{
    clcnn_status st = tc_run(t);
    char desc[256];
    if (st != CLCNN_OK) {
        tc_describe(t->op, &t->s, t->dt, desc, sizeof desc);
        fail_msg("%s: %s: %s", desc, clcnn_status_string(st), clcnn_last_error(t->ctx));
    }
    clcnn_tensor *const all[TC_MAX_IN + TC_MAX_OUT] = {t->in[0],  t->in[1],  t->in[2],
                                                       t->out[0], t->out[1], t->out[2]};
    snprintf(desc, sizeof desc, "after %s", t->op->name);
    th_expect_guards(all, TC_MAX_IN + TC_MAX_OUT, desc);
}

void th_case_reference(th_fixture *f, const tc_op *op, const tc_shape *s, clcnn_dtype dt,
                       double *const in[TC_MAX_IN], tc_tensors *ref)
{
    th_case_make(f, th_host(f), op, s, dt, in, ref);
    th_case_run(ref);
}

void th_case_magnitudes(th_fixture *f, const tc_op *op, const tc_shape *s, double *const in[TC_MAX_IN],
                        double *mag[TC_MAX_OUT])
{
    double *mag_in[TC_MAX_IN];
    assert_int_equal(tc_mag_inputs(op, s, in, mag_in), 0);
    tc_tensors t;
    th_case_make(f, th_host(f), op, s, CLCNN_F64, mag_in, &t);
    tc_inputs_free(mag_in);
    th_case_run(&t);
    for (int o = 0; o < TC_MAX_OUT; o++)
        mag[o] = t.out[o] ? th_read(t.out[o]) : NULL;
    th_case_free(f, &t);
}

void th_case_compare(const tc_tensors *got, const tc_tensors *ref, double *const mag[TC_MAX_OUT],
                     const char *desc)
{
    for (int o = 0; o < got->op->n_out; o++) {
        if (!got->out[o] && !ref->out[o])
            continue;
        assert_true(got->out[o] && ref->out[o]);
        const size_t n = th_count(got->out[o]);
        assert_int_equal(n, th_count(ref->out[o]));
        double *g = th_read(got->out[o]), *r = th_read(ref->out[o]);
        for (size_t i = 0; i < n; i++) {
            const double tol = mag && mag[o] ? tc_tolerance(got->op, &got->s, got->dt, o, mag[o][i]) : 0.0;
            if (!(g[i] == r[i] || fabs(g[i] - r[i]) <= tol)) {
                const double gv = g[i], rv = r[i];
                free(g), free(r);
                fail_msg("%s %s: %s: element %zu: device %.17g, reference %.17g, difference %.3g > "
                         "tolerance %.3g",
                         got->op->name, got->op->out_names[o], desc, i, gv, rv, fabs(gv - rv), tol);
            }
        }
        free(g), free(r);
    }
}
