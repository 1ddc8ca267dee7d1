/* musicgenre: reads the filter and PFFFT set-ups of a libsoxr HQ 2:1
 * resampler (see half.h). Licence: LGPL v2.1, as libsoxr. */
#include <string.h>

#include "soxr-config.h"
#include "internal.h"
#include "cr.h"
#include "half.h"

/* pffft.c's PFFFT_Setup, field for field. */
struct pffft_setup_mirror {
  int N;
  int Ncvec;
  int ifac[15];
  int transform;
  void *data;
  float *e;
  float *twiddle;
};

void musicgenre_soxr_internals(void *soxr, void **rate, void **shared);

static int tables_of(void const *setup, int n, musicgenre_pffft_tables *t)
{
  struct pffft_setup_mirror const *s = setup;
  int k, m;
  if (!s || s->N != n || s->Ncvec != n / 8 || s->transform != 0)
    return 0;
  /* Only the radices half_lanes.c carries (libsoxr's PFFFT has 2 and 4 only). */
  for (k = 0, m = 1; k < s->ifac[1]; ++k) {
    if (s->ifac[2 + k] != 2 && s->ifac[2 + k] != 4)
      return 0;
    m *= s->ifac[2 + k];
  }
  if (m != n / 4)
    return 0;
  t->N = s->N;
  t->Ncvec = s->Ncvec;
  memcpy(t->ifac, s->ifac, sizeof t->ifac);
  t->e = s->e;
  t->twiddle = s->twiddle;
  return 1;
}

/* Fills `out` from `soxr`, a mono float32 HQ resampler made for a 2:1 ratio
 * with the cr32s engine. Returns 1, or 0 if its stages are not the single
 * F-domain DFT stage half_lanes.c reproduces (then nothing may be assumed). */
int musicgenre_half_tables_of(void *soxr, musicgenre_half_tables *out)
{
  void *rate_v = 0, *shared_v = 0;
  rate_t const *rate;
  rate_shared_t const *shared;
  stage_t const *s;
  dft_filter_t const *f;

  musicgenre_soxr_internals(soxr, &rate_v, &shared_v);
  rate = rate_v, shared = shared_v;
  if (!rate || !shared || rate->io_ratio != 2 || rate->num_stages != 1)
    return 0;
  s = &rate->stages[0];
  if (s->L != 1 || s->step.integer != -1 || s->dft_filter_num != 0 ||
      !(s->core_flags & CORE_SIMD_DFT) || (s->core_flags & CORE_DBL) ||
      s->at.integer != 0)
    return 0;
  f = &shared->dft_filter[0];
  if (f->dft_length < 64 || (f->dft_length & (f->dft_length - 1)) ||
      f->num_taps < 1 || f->num_taps >= f->dft_length / 2 ||
      s->preload != f->post_peak || !f->coefs)
    return 0;
  if (!tables_of(f->dft_forward_setup, f->dft_length, &out->fwd) ||
      !tables_of(f->dft_backward_setup, f->dft_length / 2, &out->bwd))
    return 0;
  out->coefs = f->coefs;
  out->dft_length = f->dft_length;
  out->num_taps = f->num_taps;
  out->post_peak = f->post_peak;
  return 1;
}
