/* test_device_conv.c - convolution layouts and paths against the host
 * reference: wide and pointwise layers, where the CPU defaults change
 * layout; the tiled kernels against the direct ones, bit for bit; and the
 * GEMM path's sub-buffer views past CLBlast's int index. */
#include "device_fixture.h"

#include <stdlib.h>
#include <string.h>

/* Layers wider than the random shapes (at most 17 channels), where the
 * CPU defaults change layout: the backward filter reads blocked copies of
 * a_prev and dz (128+ input channels; 130 leaves a partial block), and the
 * forward runs pixel-major (weights of 256 KB and more: 3x3x130x512 F32).
 * Random data within the tolerance, and integer data exactly; then again
 * with a 20 KiB workspace limit, where the second layer's a_prev copy (10.6
 * KB) fits and its dz copy (40 KB) does not, and the first layer's (44 and
 * 21.5 KB) neither: the filter then reads the tensors themselves. */
void wide_layers_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[2] = {
        conv_shape(2, 6, 7, 130, 3, 3, 64, 1, 1, 1, CLCNN_CONV_AUTO),
        conv_shape(1, 5, 4, 130, 3, 3, 512, 1, 1, 0, CLCNN_CONV_AUTO),
    };
    for (int limited = 0; limited < 2; limited++) {
        clcnn_context *dev = context_with(f, NULL, NULL);
        if (limited)
            assert_int_equal(clcnn_context_set_workspace_limit(dev, 20 << 10), CLCNN_OK);
        np_random r;
        np_random_seed(&r, 4242);
        check_cases(f, dev, &r, cases, 2, 0);
    }
}

/* 1x1, stride-1, unpadded layers whose rows are not a multiple of the
 * forward's pixel block: the direct forward (and stride-1 backward data)
 * takes all n*h*w pixels as one row, the last block partial (cl_conv.c,
 * flatten_pointwise), so that neighbouring images and rows share blocks;
 * and, with CLCNN_CONV_FLAT=0, row by row as before. Random data within
 * the tolerance and integer data exactly, F32 and F64, with and without
 * bias. */
void pointwise_layers_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[4] = {
        conv_shape(3, 5, 7, 9, 1, 1, 16, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(2, 7, 7, 20, 1, 1, 8, 1, 0, 0, CLCNN_CONV_DIRECT),
        conv_shape(1, 2, 13, 32, 1, 1, 12, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(4, 3, 6, 5, 1, 1, 32, 1, 0, 0, CLCNN_CONV_AUTO),
    };
    for (int rows = 0; rows < 2; rows++) {
        clcnn_context *dev = context_with(f, "CLCNN_CONV_FLAT", rows ? "0" : NULL);
        np_random r;
        np_random_seed(&r, 1414);
        check_cases(f, dev, &r, cases, 4, 1);
    }
}

/* A context with CLCNN_CONV_TILED=1 and CLCNN_CONV_TILE=`tile` (NULL: as
 * the environment has it). */
static clcnn_context *tiled_context(th_fixture *f, const char *tile)
{
    char *saved = tile ? th_env_swap("CLCNN_CONV_TILE", tile) : NULL;
    clcnn_context *ctx = context_with(f, "CLCNN_CONV_TILED", "1");
    if (tile)
        th_env_restore("CLCNN_CONV_TILE", saved);
    return ctx;
}

/* The tiled kernels (conv_forward_tiled, conv_backward_filter_tiled) sum
 * the same terms in the same order as the kernels they stand in for, so
 * tuning may switch between them (variant 5 and the direct kernels) without
 * changing a bit, and so do the tile sizes and the way a work-item reads
 * the staged tiles (TILE_VEC): random F32 and F64 data through a context
 * with CLCNN_CONV_TILED=0 and three with 1 (the environment's tiles, and
 * 32x16 and 64x64 tiles with vector reads), z, da_prev, dw and db compared
 * byte for byte (3x3 padded, 1x1, 5x3 with stride 2 and pad 2, whose
 * backward data takes no tiled kernel; several runs of rows for dw; a 2x17
 * filter, wider than a step of the K walk, over 2 channels, so that one
 * step's terms wrap past the end of a row of taps; rows and columns of
 * 17-18 outputs, more than a step of dW's walk over the positions, which
 * wrap from row to row and image to image in steps of one; 24 images of
 * 1x2 outputs, where a step passes several images). */
void tiled_kernels_give_the_direct_kernels_bits(void **state)
{
    th_fixture *f = th_fx(state);
    const tc_shape cases[6] = {
        conv_shape(2, 9, 11, 12, 3, 3, 20, 1, 1, 1, CLCNN_CONV_DIRECT),
        conv_shape(3, 7, 7, 24, 1, 1, 40, 1, 0, 1, CLCNN_CONV_DIRECT),
        conv_shape(2, 13, 10, 5, 5, 3, 6, 2, 2, 0, CLCNN_CONV_DIRECT),
        conv_shape(1, 6, 20, 2, 2, 17, 9, 1, 1, 1, CLCNN_CONV_DIRECT),
        conv_shape(3, 17, 18, 3, 3, 3, 8, 1, 1, 0, CLCNN_CONV_DIRECT),
        conv_shape(24, 3, 4, 2, 3, 3, 8, 1, 0, 0, CLCNN_CONV_DIRECT),
    };
    enum { CONTEXTS = 4 };
    static const char *const tiles[CONTEXTS] = {"direct", "environment's tiles", "32:16:8:4:2:1",
                                                "64:64:16:4:4:1"};
    clcnn_context *ctx[CONTEXTS] = {context_with(f, "CLCNN_CONV_TILED", "0"), tiled_context(f, NULL),
                                    tiled_context(f, tiles[2]), tiled_context(f, tiles[3])};
    np_random r;
    np_random_seed(&r, 5150);
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 6; i++)
            for (int dir = 0; dir < 2; dir++) {
                const tc_op *op = tc_op_of(dir ? TC_CONV_BACKWARD : TC_CONV_FORWARD);
                const clcnn_dtype dt = d ? CLCNN_F64 : CLCNN_F32;
                double *in[TC_MAX_IN];
                assert_int_equal(tc_inputs(op, &cases[i], TC_NORMAL, &r, in), 0);
                tc_tensors t[CONTEXTS];
                for (int on = 0; on < CONTEXTS; on++) {
                    th_case_make(f, ctx[on], op, &cases[i], dt, in, &t[on]);
                    run_case(&t[on]);
                }
                for (int on = 1; on < CONTEXTS; on++)
                    for (int o = 0; o < op->n_out; o++) {
                        size_t n0, n1;
                        unsigned char *x = th_snapshot(t[0].out[o], &n0), *y = th_snapshot(t[on].out[o], &n1);
                        const int same = n0 == n1 && memcmp(x, y, n0) == 0;
                        free(x), free(y);
                        if (!same)
                            fail_msg(
                                "%s case %d: %s differs between the direct kernels and the tiled ones (%s)",
                                th_dtype_name(dt), i, op->out_names[o], tiles[on]);
                    }
                for (int on = 0; on < CONTEXTS; on++)
                    th_case_free(f, &t[on]);
                tc_inputs_free(in);
            }
}

/* ------------------------------------------------------- GEMM views --- */

/* CLBlast indexes in int, so the GEMM path hands a tensor past 2^31
 * elements over as sub-buffer views and cuts chunks so that no matrix spans
 * more (cl_gemm.c). CLCNN_GEMM_INDEX_LIMIT=1024 lowers that bound for the
 * context, so that layers of a few thousand elements take those paths:
 * z and dz (2352 elements: views past 1024), a pointwise layer in place
 * (a_prev 6480, z 8640; weights of 768 elements, within the bound less a
 * 512-byte alignment), a strided one; random data within the tolerance
 * and integer data exactly, F32 and F64; and shapes the path cannot take
 * under the bound, which run DIRECT. clcnn_context_last_conv_algos says
 * which algorithm each direction ran. */
void gemm_views_past_the_index_limit_match_reference(void **state)
{
    th_fixture *f = th_fx(state);
    clcnn_context *dev = context_with(f, "CLCNN_GEMM_INDEX_LIMIT", "1024");
    /* the default workspace limit (ctest runs this suite with a 2 KiB one
     * too), so that which algorithm runs depends on the index bound alone */
    assert_int_equal(clcnn_context_set_workspace_limit(dev, (size_t)256 << 20), CLCNN_OK);
    const tc_shape cases[3] = {
        conv_shape(6, 7, 7, 2, 3, 3, 8, 1, 1, 1, CLCNN_CONV_GEMM),
        conv_shape(3, 9, 10, 24, 1, 1, 32, 1, 0, 1, CLCNN_CONV_GEMM),
        conv_shape(8, 9, 9, 3, 3, 3, 10, 2, 1, 0, CLCNN_CONV_GEMM),
    };
    np_random r;
    np_random_seed(&r, 2718);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_GEMM;
    check_cases(f, dev, &r, cases, 3, 1);

    /* Forced GEMM where a matrix would pass the bound runs DIRECT (as where
     * the workspace limit fits no chunk): w (3,3,16,8) has 1152 elements;
     * one 12x12 image has 2592 columns for backward data. */
    const tc_shape past[2] = {
        conv_shape(1, 4, 4, 16, 3, 3, 8, 1, 1, 1, CLCNN_CONV_GEMM),
        conv_shape(1, 12, 12, 2, 3, 3, 4, 1, 1, 0, CLCNN_CONV_GEMM),
    };
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_DIRECT;
    check_cases(f, dev, &r, past, 1, 0);
    expect_ran[0] = expect_ran[2] = CLCNN_CONV_GEMM; /* the forward and dW fit; one image's columns do not */
    check_cases(f, dev, &r, past + 1, 1, 0);
    expect_ran[0] = expect_ran[1] = expect_ran[2] = CLCNN_CONV_AUTO;
}
