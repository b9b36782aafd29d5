/* interop.h - what the files of test_interop share: the caller's own OpenCL
 * objects, held by the fixture, and the checks their cases use.
 *
 *   test_interop.c        contexts on the caller's objects, a tensor's
 *                         cl_mem in the caller's kernel, and main
 *   test_interop_errors.c clcnn_context_create_cl's errors, and a tensor
 *                         larger than the device allocates in one buffer
 *   test_kernel_dir.c     kernel sources read from $CLCNN_KERNEL_DIR, and
 *                         the build failures of broken or missing ones
 *
 * Every case runs between th_setup and th_teardown, which own all it makes
 * (clcnn contexts and tensors, the caller's cl_context, queues, buffers and
 * programs, host buffers, the kernel folder and the variables it sets), so
 * that nothing leaks even when a case fails part-way (valgrind). */
#ifndef CLCNN_TEST_INTEROP_H
#define CLCNN_TEST_INTEROP_H

#include "helpers.h"

#include "clcnn_cl.h"

#define F32 CLCNN_F32
#define F64 CLCNN_F64

enum { CALLER_MAX_MEMS = 4 };

/* The caller's objects: the first device of the first platform, its own
 * cl_context and an in-order queue; the rest made by the cases that need
 * them. All released at teardown. */
typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context clctx;
    cl_command_queue queue;  /* in-order, on clctx */
    cl_context clctx2;       /* a second cl_context, for "queue of another context" */
    cl_command_queue queue2; /* in-order, on clctx2 */
    cl_command_queue ooo;    /* out-of-order, on clctx (when the device allows it) */
    cl_mem mems[CALLER_MAX_MEMS];
    int n_mems;
    cl_program program;
    cl_kernel kernel;
} caller_cl;

/* The caller's objects, made with the plain OpenCL API and held by f. */
caller_cl *open_caller_cl(th_fixture *f);

void check_cl(cl_int err, const char *what);

cl_uint context_refs(cl_context c);
cl_uint queue_refs(cl_command_queue q);

/* clcnn_context_create_cl on c's context, device and queue, owned by f. */
clcnn_context *create_cl_ok(th_fixture *f, const caller_cl *c);

void expect_contains(const char *hay, const char *needle, const char *what);

/* Seeded standard normal values rounded to float, so that F32 and F64
 * tensors made from them hold the same numbers; owned by f. */
double *randn_f32(th_fixture *f, np_random *r, size_t count);

/* th_read, owned by f. */
double *read_all(th_fixture *f, const clcnn_tensor *t);

/* The cases, in the order main runs them. */
void context_on_caller_objects_matches_host_and_leaves_them_usable(void **state);
void tensor_cl_mem_feeds_a_caller_kernel_on_the_same_queue(void **state);
void create_cl_rejects_each_null_argument(void **state);
void create_cl_rejects_queue_of_another_cl_context(void **state);
void create_cl_rejects_out_of_order_queue(void **state);
void kernel_dir_of_the_source_tree_gives_the_embedded_result(void **state);
void kernel_dir_with_broken_pad_gives_build_error_with_log(void **state);
void kernel_dir_without_pad_gives_build_error_cannot_read(void **state);
void conv_tile_setting_reaches_the_tiled_build(void **state);
void tensor_larger_than_max_alloc_is_out_of_memory(void **state);

#endif
