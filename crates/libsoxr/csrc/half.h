/* musicgenre: libsoxr's HQ 2:1 decimation, several blocks at a time.
 *
 * For a 2:1 ratio at HQ, libsoxr 0.1.3 runs one DFT stage: each block of
 * dft_length input samples (blocks advance by dft_length - num_taps + 1) is
 * taken to the frequency domain by PFFFT's ordered real transform, the lower
 * half of its spectrum is multiplied by the filter's, and a half-length
 * ordered inverse transform gives the block's output samples (cr.c,
 * dft_stage_fn). half_lanes.c does exactly those operations for LANES blocks
 * at once: each 128-bit lane of a wide vector runs the operation sequence
 * PFFFT's SSE code runs on one block, so every output sample has the bits
 * libsoxr gives. The filter, twiddles and factorisations are libsoxr's own,
 * read from a live resampler (half.c). Licence: LGPL v2.1, as libsoxr;
 * PFFFT's parts are under its BSD-like licence (vendor/LICENSE-PFFFT.txt). */
#ifndef MUSICGENRE_HALF_H
#define MUSICGENRE_HALF_H

/* What a PFFFT real transform of N points needs (pffft.c, PFFFT_Setup). */
typedef struct {
  int N, Ncvec, ifac[15];
  const float *e;       /* 4 floats per vector, as PFFFT stores them */
  const float *twiddle;
} musicgenre_pffft_tables;

typedef struct {
  const float *coefs;   /* dft_length floats: the filter's ordered spectrum */
  int dft_length, num_taps, post_peak;
  musicgenre_pffft_tables fwd; /* dft_length points */
  musicgenre_pffft_tables bwd; /* dft_length / 2 points */
} musicgenre_half_tables;

#endif
