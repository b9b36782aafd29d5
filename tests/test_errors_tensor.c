/* test_errors_tensor.c - the bad arguments of clcnn_tensor_create,
 * clcnn_tensor_write and clcnn_tensor_read. */
#define ERRORS_FILE_RANK 2
#include "errors_fixture.h"

#include <limits.h>
#include <string.h>

/* The needles below spell INT_MIN's value. */
_Static_assert(INT_MIN == -2147483647 - 1, "int is not 32 bits");

/* ------------------------------------------------------------------------ */
/* clcnn_tensor_create                                                         */
/* ------------------------------------------------------------------------ */

/* clcnn_tensor_create(ctx, dtype, n, h, w, c, &out) on f->ctx (NULL with
 * null_ctx), &out NULL with null_out, fails with want, naming the function
 * and the needles in the context's message (NULL's with null_ctx), and
 * leaves out alone. */
typedef struct {
    const char *name;
    int null_ctx, null_out;
    clcnn_dtype dtype;
    int n, h, w, c;
    clcnn_status want;
    const char *needle1, *needle2;
} create_row;

static const create_row create_rows[] = {
    {"tensor_create_rejects_null_ctx", 1, 0, F32, 1, 2, 3, 4, INVALID, "ctx is NULL", "ctx"},
    {"tensor_create_rejects_null_out", 0, 1, F32, 1, 2, 3, 4, INVALID, "out is NULL", NULL},
    {"tensor_create_rejects_n_0", 0, 0, F32, 0, 2, 3, 4, INVALID, "n is 0", ">= 1"},
    {"tensor_create_rejects_h_0", 0, 0, F32, 1, 0, 3, 4, INVALID, "h is 0", ">= 1"},
    {"tensor_create_rejects_w_negative", 0, 0, F64, 1, 2, -3, 4, INVALID, "w is -3", ">= 1"},
    {"tensor_create_rejects_c_int_min", 0, 0, F32, 1, 2, 3, INT_MIN, INVALID, "c is -2147483648", ">= 1"},
    {"tensor_create_rejects_unknown_dtype", 0, 0, (clcnn_dtype)7, 1, 2, 3, 4, INVALID, "dtype is 7",
     "clcnn_dtype"},
    {"tensor_create_rejects_count_overflowing_size_t", 0, 0, F32, INT_MAX, INT_MAX, INT_MAX, INT_MAX, INVALID,
     "(2147483647, 2147483647, 2147483647, 2147483647)", "size_t"},
    /* 2^62 elements fit a 64-bit size_t, their 2^64 bytes as F32 do not. */
    {"tensor_create_rejects_f32_byte_count_overflowing_size_t", 0, 0, F32, 65536, 65536, 65536, 16384,
     INVALID, "(65536, 65536, 65536, 16384)", "size_t"},
    /* 2^61 elements, 2^64 bytes as F64. */
    {"tensor_create_rejects_f64_byte_count_overflowing_size_t", 0, 0, F64, 65536, 65536, 65536, 8192, INVALID,
     "(65536, 65536, 65536, 8192)", "size_t"},
};

static void create_run(void **state)
{
    FX;
    const create_row *r = f->row;
    clcnn_context *ctx = r->null_ctx ? NULL : f->ctx;
    clcnn_tensor *out = SENTINEL_TENSOR;
    clcnn_status s = clcnn_tensor_create(ctx, r->dtype, r->n, r->h, r->w, r->c, r->null_out ? NULL : &out);
    if (s == CLCNN_OK && out != SENTINEL_TENSOR)
        own(f, out); /* not expected: keep it from leaking */
    EXPECT_FAIL(f, s, r->want, ctx, "clcnn_tensor_create", r->needle1, r->needle2);
    assert_ptr_equal(out, SENTINEL_TENSOR);
}
CASE_TABLE(create_run, create_rows);

/* ------------------------------------------------------------------------ */
/* clcnn_tensor_write, clcnn_tensor_read                                       */
/* ------------------------------------------------------------------------ */

/* clcnn_tensor_write (or with read, clcnn_tensor_read) of nbytes on t, a
 * tensor (2, 3, 4, 1) of dtype (NULL with null_t), with a buffer of zeros
 * to write or of 0x5A to read (NULL with null_buf): it fails naming the
 * function and the needles, in t's context's message (NULL's with null_t),
 * and a read leaves its buffer alone. */
typedef struct {
    const char *name;
    int read;
    clcnn_dtype dtype;
    int null_t, null_buf;
    size_t nbytes;
    const char *needle1, *needle2;
} io_row;

static const io_row io_rows[] = {
    {"tensor_write_rejects_null_t", 0, F32, 1, 0, 16, "t is NULL", NULL},
    {"tensor_write_rejects_null_src", 0, F32, 0, 1, 96, "src is NULL", NULL},
    {"tensor_write_rejects_wrong_nbytes", 0, F32, 0, 0, 95, "nbytes is 95", "96 bytes"},
    {"tensor_write_rejects_nbytes_one_long", 0, F32, 0, 0, 97, "nbytes is 97", "96 bytes"},
    /* The F32 size of an F64 tensor: a count of elements is not a count of bytes. */
    {"tensor_write_rejects_f32_size_for_f64_tensor", 0, F64, 0, 0, 96, "nbytes is 96", "192 bytes"},
    {"tensor_write_rejects_element_count_as_nbytes", 0, F32, 0, 0, 24, "nbytes is 24", "96 bytes"},
    {"tensor_read_rejects_null_t", 1, F32, 1, 0, 16, "t is NULL", NULL},
    {"tensor_read_rejects_null_dst", 1, F32, 0, 1, 96, "dst is NULL", NULL},
    {"tensor_read_rejects_wrong_nbytes", 1, F32, 0, 0, 100, "nbytes is 100", "96 bytes"},
    {"tensor_read_rejects_zero_nbytes", 1, F64, 0, 0, 0, "nbytes is 0", "192 bytes"},
};

static void io_run(void **state)
{
    FX;
    const io_row *r = f->row;
    clcnn_tensor *t = r->null_t ? NULL : mk(f, f->ctx, r->dtype, 2, 3, 4, 1, "t");
    unsigned char buf[256], before[256];
    memset(buf, r->read ? 0x5A : 0, sizeof buf);
    memcpy(before, buf, sizeof buf);
    unsigned char *b = r->null_buf ? NULL : buf;
    clcnn_status s = r->read ? clcnn_tensor_read(t, b, r->nbytes) : clcnn_tensor_write(t, b, r->nbytes);
    EXPECT_FAIL(f, s, CLCNN_ERR_INVALID_ARGUMENT, t ? f->ctx : NULL,
                r->read ? "clcnn_tensor_read" : "clcnn_tensor_write", r->needle1, r->needle2);
    assert_memory_equal(buf, before, sizeof buf);
}
CASE_TABLE(io_run, io_rows);
