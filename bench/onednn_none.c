/* onednn_none.c - the oneDNN peer when clcnn-bench is built without oneDNN
 * (CMake did not find Debian's libdnnl-dev): the column stays empty. */
#include "onednn_peer.h"

#include <stdio.h>

int bench_onednn_describe(char *buf, size_t len)
{
    snprintf(buf, len, "not built (install libdnnl-dev and reconfigure)");
    return 0;
}

void bench_onednn(const bench_layer *l, bench_op op, int ho, int wo, const onednn_data *d, int reps,
                  double budget_s, bench_row *row)
{
    (void)l, (void)op, (void)ho, (void)wo, (void)d, (void)reps, (void)budget_s;
    row->onednn_s = row->onednn_min_s = row->onednn_rel_err = BENCH_NONE;
}

void bench_onednn_release(void)
{
}
