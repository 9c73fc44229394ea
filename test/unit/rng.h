/* rng.h - the unit tests' random numbers: xorshift64* from a fixed seed,
 * so that every run draws the same sequence and a failure reproduces. */
#ifndef QNNC_UNIT_RNG_H
#define QNNC_UNIT_RNG_H

#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static inline uint64_t rnd64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

#endif /* QNNC_UNIT_RNG_H */
