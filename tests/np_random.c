/* np_random.c - numpy's legacy RandomState, as needed by the tests. */
#include "np_random.h"

#include <math.h>

void np_random_seed(np_random *r, uint32_t seed)
{
    for (int i = 0; i < 624; i++) {
        r->key[i] = seed;
        seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)i + 1u;
    }
    r->pos = 624;
    r->has_gauss = 0;
    r->gauss = 0.0;
}

/* Regenerates the 624 words of state (the MT19937 "twist"). */
static void twist(np_random *r)
{
    const uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
    for (int i = 0; i < 624; i++) {
        uint32_t y = (r->key[i] & upper) | (r->key[(i + 1) % 624] & lower);
        r->key[i] = r->key[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    }
    r->pos = 0;
}

uint32_t np_random_u32(np_random *r)
{
    if (r->pos == 624)
        twist(r);
    uint32_t y = r->key[r->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double np_random_double(np_random *r)
{
    uint32_t a = np_random_u32(r) >> 5, b = np_random_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

double np_random_gauss(np_random *r)
{
    if (r->has_gauss) {
        r->has_gauss = 0;
        return r->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * np_random_double(r) - 1.0;
        x2 = 2.0 * np_random_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}

void np_random_randn(np_random *r, double *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = np_random_gauss(r);
}
