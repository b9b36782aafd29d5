/* fault.c - the counters of fault injection (fault.h): which site is
 * reached, and whether it must fail. Atomic, so that the other tests may
 * run threads in a fault build; only one test arms faults, single-threaded. */
#include "fault.h"

#ifdef CLCNN_FAULT_INJECTION

#include <stdatomic.h>
#include <stddef.h>

static atomic_long counts[CLCNN_FAULT_KINDS];
static atomic_long total;
static atomic_int armed_kind = CLCNN_FAULT_ANY;
static atomic_long armed_n;
static const char *_Atomic failed_what;
static atomic_int failed_code;
static atomic_int gemm_code; /* 0: CLBlastOpenCLOutOfResources (-5) */

void clcnn_fault_set_gemm_code(int code)
{
    atomic_store(&gemm_code, code);
}

static atomic_int tune_pick; /* 0: the faster */

void clcnn_fault_set_tune_pick(int algo)
{
    atomic_store(&tune_pick, algo);
}

int clcnn__fault_tune_pick(void)
{
    return atomic_load(&tune_pick);
}

int clcnn__fault_gemm_code(void)
{
    const int c = atomic_load(&gemm_code);
    return c ? c : -5; /* CLBlastOpenCLOutOfResources == CL_OUT_OF_RESOURCES */
}

void clcnn_fault_reset(void)
{
    clcnn_fault_arm(CLCNN_FAULT_ANY, 0);
}

void clcnn_fault_arm(int kind, long n)
{
    atomic_store(&armed_n, 0);
    for (int k = 0; k < CLCNN_FAULT_KINDS; k++)
        atomic_store(&counts[k], 0);
    atomic_store(&total, 0);
    atomic_store(&failed_what, NULL);
    atomic_store(&failed_code, 0);
    atomic_store(&armed_kind, kind);
    atomic_store(&armed_n, n > 0 ? n : 0);
}

long clcnn_fault_count(int kind)
{
    if (kind == CLCNN_FAULT_ANY)
        return atomic_load(&total);
    return kind >= 0 && kind < CLCNN_FAULT_KINDS ? atomic_load(&counts[kind]) : 0;
}

const char *clcnn_fault_failed(int *code)
{
    if (code)
        *code = atomic_load(&failed_code);
    return atomic_load(&failed_what);
}

int clcnn__fault_hit(clcnn_fault_kind kind, const char *what, int code)
{
    const long nk = atomic_fetch_add(&counts[kind], 1) + 1, na = atomic_fetch_add(&total, 1) + 1;
    const long n = atomic_load(&armed_n);
    const int ak = atomic_load(&armed_kind);
    if (n == 0 || (ak == CLCNN_FAULT_ANY ? na : ak == (int)kind ? nk : 0) != n)
        return 0;
    atomic_store(&failed_what, what);
    atomic_store(&failed_code, code);
    return 1;
}

#endif /* CLCNN_FAULT_INJECTION */
