/* np_random.h - a test-only port of numpy's legacy RandomState (MT19937
 * seeded as np.random.seed(int), random doubles, polar Box-Muller randn), so
 * the tests regenerate the notebook's inputs bit for bit. */
#ifndef CLCNN_TEST_NP_RANDOM_H
#define CLCNN_TEST_NP_RANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t key[624];
    int pos;
    int has_gauss;
    double gauss;
} np_random;

/* np.random.seed(seed): init_genrand, and forget any kept Gaussian. */
void np_random_seed(np_random *r, uint32_t seed);

/* The next 32-bit output of MT19937. */
uint32_t np_random_u32(np_random *r);

/* np.random.random_sample(): ((a >> 5) * 2^26 + (b >> 6)) / 2^53. */
double np_random_double(np_random *r);

/* One np.random.randn() value (polar method; the pair's second value is kept
 * for the next call). */
double np_random_gauss(np_random *r);

/* np.random.randn(d0, d1, ...) into out[count], C order. */
void np_random_randn(np_random *r, double *out, size_t count);

#endif
