/* rng.h — the simulator's own random numbers: xoshiro256** seeded by
 * splitmix64 (Blackman & Vigna, https://prng.di.unimi.it/).
 *
 * Not rand(): the C library's generator differs between libcs, and the
 * simulator promises the same table for the same seed on every machine.
 * All draws are integer arithmetic, so they are bit-identical everywhere. */
#ifndef VND_SIM_RNG_H
#define VND_SIM_RNG_H

#include <stdint.h>

struct vnd_rng {
    uint64_t s[4];
};

/* The next splitmix64 output; advances *state. */
uint64_t vnd_splitmix64(uint64_t *state);

/* Seeds the four words of xoshiro256** from splitmix64(seed), as its
 * authors recommend (never all zero). */
void vnd_rng_seed(struct vnd_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t vnd_rng_next(struct vnd_rng *r);

/* A uniform integer in [lo, hi] (inclusive, lo <= hi), without modulo
 * bias: draws above the largest multiple of the range are redrawn. */
int64_t vnd_rng_range(struct vnd_rng *r, int64_t lo, int64_t hi);

#endif
