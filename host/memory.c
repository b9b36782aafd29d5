/* memory.c - the library's host allocation and size arithmetic. Every
 * allocation goes through clcnn__malloc so that it can be counted or failed
 * on purpose in one place. */
#include "fault.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>

void *clcnn__malloc(size_t nbytes)
{
#ifdef CLCNN_FAULT_INJECTION
    if (clcnn__fault_hit(CLCNN_FAULT_ALLOC, "malloc", 0))
        return NULL;
#endif
    return malloc(nbytes ? nbytes : 1);
}

void clcnn__free(void *p)
{
    free(p);
}

size_t clcnn__dtype_size(clcnn_dtype dtype)
{
    switch (dtype) {
    case CLCNN_F32: return 4;
    case CLCNN_F64: return 8;
    }
    return 0;
}

int clcnn__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}
