/* SPDX-License-Identifier: MIT */
/* rng.c: xoshiro256** seeded through splitmix64 (Blackman & Vigna). Our own,
 * so the same seed gives the same weights and shuffles on every machine. */
#include "cgrad.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void cg_rng_seed(cg_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t cg_rng_next(cg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cg_rng_uniform(cg_rng *r)
{
    /* 53 random bits: every double in [0, 1) on a 2^-53 grid. */
    return (double)(cg_rng_next(r) >> 11) * 0x1.0p-53;
}

double cg_rng_normal(cg_rng *r)
{
    double u1 = 1.0 - cg_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = cg_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t cg_rng_below(cg_rng *r, uint64_t n)
{
    /* Rejection avoids the modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = cg_rng_next(r); while (x >= limit);
    return x % n;
}

void cg_rng_shuffle(cg_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cg_rng_below(r, (uint64_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
