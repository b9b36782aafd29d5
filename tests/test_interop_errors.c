/* test_interop_errors.c - the errors of clcnn_context_create_cl (each NULL
 * argument, a queue of another cl_context, an out-of-order queue), which
 * take no reference on the caller's objects, and a tensor larger than the
 * device allocates in one buffer (part of test_interop, see interop.h). */
#include "interop.h"

#include <stdio.h>
#include <string.h>

/* Leaves a distinctive message in this thread's last error, so that a case
 * whose call forgets to record one cannot pass on a stale message. */
static void mark_thread_error(void)
{
    const int d[4] = {1, 1, 1, 1};
    int o[4];
    (void)clcnn_conv2d_output_shape(d, d, (clcnn_conv_params){-12345, 0, CLCNN_CONV_AUTO}, o);
    assert_non_null(strstr(clcnn_last_error(NULL), "-12345"));
}

static char sentinel_storage;
#define SENTINEL ((clcnn_context *)&sentinel_storage)

/* Fails unless create_cl(cc, d, q, out) returns INVALID_ARGUMENT with a
 * message naming the function and containing `needle`, leaves *out alone and
 * takes no reference on the caller's objects. */
static void expect_create_cl_rejects(const caller_cl *c, cl_context cc, cl_device_id d, cl_command_queue q,
                                     int pass_out, const char *needle)
{
    const cl_uint cr = context_refs(c->clctx), qr = queue_refs(c->queue);
    mark_thread_error();
    clcnn_context *out = SENTINEL;
    clcnn_status s = clcnn_context_create_cl(cc, d, q, pass_out ? &out : NULL);
    if (s != CLCNN_ERR_INVALID_ARGUMENT)
        fail_msg(
            "clcnn_context_create_cl (expecting \"%s\") returned %s, expected CLCNN_ERR_INVALID_ARGUMENT",
            needle, clcnn_status_string(s));
    assert_ptr_equal(out, SENTINEL);
    expect_contains(clcnn_last_error(NULL), "clcnn_context_create_cl", needle);
    expect_contains(clcnn_last_error(NULL), needle, needle);
    assert_int_equal(context_refs(c->clctx), cr);
    assert_int_equal(queue_refs(c->queue), qr);
}

void create_cl_rejects_each_null_argument(void **state)
{
    caller_cl *c = open_caller_cl(th_fx(state));
    expect_create_cl_rejects(c, c->clctx, c->device, c->queue, 0, "out is NULL");
    expect_create_cl_rejects(c, NULL, c->device, c->queue, 1, "context is NULL");
    expect_create_cl_rejects(c, c->clctx, NULL, c->queue, 1, "device is NULL");
    expect_create_cl_rejects(c, c->clctx, c->device, NULL, 1, "queue is NULL");
}

void create_cl_rejects_queue_of_another_cl_context(void **state)
{
    caller_cl *c = open_caller_cl(th_fx(state));
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)c->platform, 0};
    cl_int err;
    c->clctx2 = clCreateContext(props, 1, &c->device, NULL, NULL, &err);
    check_cl(err, "clCreateContext (second)");
    c->queue2 = clCreateCommandQueue(c->clctx2, c->device, 0, &err);
    check_cl(err, "clCreateCommandQueue (second)");
    const cl_uint c2 = context_refs(c->clctx2), q2 = queue_refs(c->queue2);
    expect_create_cl_rejects(c, c->clctx, c->device, c->queue2, 1, "another cl_context");
    expect_create_cl_rejects(c, c->clctx2, c->device, c->queue, 1, "another cl_context");
    assert_int_equal(context_refs(c->clctx2), c2);
    assert_int_equal(queue_refs(c->queue2), q2);
}

void create_cl_rejects_out_of_order_queue(void **state)
{
    caller_cl *c = open_caller_cl(th_fx(state));
    cl_int err;
    c->ooo = clCreateCommandQueue(c->clctx, c->device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_SUCCESS) {
        c->ooo = NULL;
        cl_command_queue_properties supported = 0;
        check_cl(clGetDeviceInfo(c->device, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported, &supported, NULL),
                 "CL_DEVICE_QUEUE_PROPERTIES");
        printf(
            "NOTE: the device refuses out-of-order queues (OpenCL error %d); the out-of-order rejection of "
            "clcnn_context_create_cl is NOT checked here\n",
            (int)err);
        /* What can still be checked: the refusal is the documented one, and
         * consistent with what the device says it supports. */
        assert_int_equal(err, CL_INVALID_QUEUE_PROPERTIES);
        assert_false(supported & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
        return;
    }
    cl_command_queue_properties qp = 0;
    check_cl(clGetCommandQueueInfo(c->ooo, CL_QUEUE_PROPERTIES, sizeof qp, &qp, NULL), "CL_QUEUE_PROPERTIES");
    assert_true(qp & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
    const cl_uint r = queue_refs(c->ooo);
    expect_create_cl_rejects(c, c->clctx, c->device, c->ooo, 1, "in-order");
    assert_int_equal(queue_refs(c->ooo), r);
}

/* A tensor larger than the device allocates in one buffer is
 * CLCNN_ERR_OUT_OF_MEMORY with a sentence naming CL_DEVICE_MAX_MEM_ALLOC_SIZE,
 * refused before any allocation; *out is untouched and the context works.
 * The shape is (1, 1, 1, k) F32 with 4k just above the limit, or, when k
 * would not fit an int, (1, 1, d, e) with d*e*4 above it. */
void tensor_larger_than_max_alloc_is_out_of_memory(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *ctx = th_device(f);
    cl_ulong max_alloc = 0;
    check_cl(clGetDeviceInfo(clcnn_context_cl_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                             &max_alloc, NULL),
             "clGetDeviceInfo(CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
    const cl_ulong elems = max_alloc / 4 + 1; /* one element more than fits */
    int d = 1, e = (int)elems;
    if (elems > 0x7fffffffULL) {
        d = (int)((elems + 0x7ffffffeULL) / 0x7fffffffULL);
        e = (int)((elems + (cl_ulong)d - 1) / (cl_ulong)d);
    }
    clcnn_tensor *t = (clcnn_tensor *)&max_alloc; /* a sentinel the call must not touch */
    clcnn_tensor *const before = t;
    assert_int_equal(clcnn_tensor_create(ctx, CLCNN_F32, 1, 1, d, e, &t), CLCNN_ERR_OUT_OF_MEMORY);
    assert_ptr_equal(t, before);
    expect_contains(clcnn_last_error(ctx), "clcnn_tensor_create", "message");
    expect_contains(clcnn_last_error(ctx), "CL_DEVICE_MAX_MEM_ALLOC_SIZE", "message");
    th_fx_tensor(f, ctx, CLCNN_F32, 1, 2, 2, 1, NULL); /* the context still works */
}
