/* api_ops.h - what test_api.c and test_api_ops.c share: a host context
 * and the tests of test_api_ops.c, which main (test_api.c) registers. */
#ifndef CLCNN_API_OPS_H
#define CLCNN_API_OPS_H

#include "helpers.h"

/* A new host context, which the test destroys. */
static inline clcnn_context *host(void)
{
    return th_context(CLCNN_BACKEND_HOST);
}

void conv_forward_matches_hand_worked_example(void **state);
void conv_backward_matches_hand_worked_example(void **state);
void last_conv_algos_record_what_each_call_computed(void **state);
void conv_forward_without_bias_equals_zero_bias(void **state);
void outputs_are_overwritten_and_repeatable(void **state);
void max_pool_ties_share_and_overlaps_add(void **state);
void nan_windows_follow_numpy(void **state);
void op_descriptors_agree_with_the_library(void **state);

#endif
