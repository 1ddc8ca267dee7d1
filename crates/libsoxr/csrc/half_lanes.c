/* musicgenre: libsoxr's HQ 2:1 DFT stage on LANES blocks at once (see half.h).
 *
 * Compiled once per width: LANES 1 (SSE: PFFFT's own vectors, for the tests),
 * 2 (AVX) and 4 (AVX-512F). A wide vector holds LANES PFFFT vectors, one per
 * 128-bit lane, each from its own block. The transforms below are PFFFT's
 * (vendor/src/pffft.c, real transforms, radices 2 and 4), written on these
 * wide vectors: additions, subtractions and multiplications act lane by lane,
 * and every shuffle PFFFT uses (unpack, shuffle_ps, 64-bit unpack) has a wide
 * form that works within each 128-bit lane, so each lane computes what PFFFT
 * computes on its block, operation for operation. The few scalar steps PFFFT
 * takes through a union are done once per lane, in the same order. Must be
 * compiled with -ffp-contract=off: a fused multiply-add would round
 * differently from libsoxr's SSE build, which has none.
 *
 * PFFFT: Copyright (c) 2013 Julien Pommier; based on FFTPACKv4 (c) 2004 UCAR;
 * see vendor/LICENSE-PFFFT.txt. The rest: LGPL v2.1, as libsoxr. */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "half.h"

#if LANES == 1
typedef __m128 vx;
#define VMUL(a, b) _mm_mul_ps(a, b)
#define VADD(a, b) _mm_add_ps(a, b)
#define VSUB(a, b) _mm_sub_ps(a, b)
#define LD_PS1(p) _mm_set1_ps(p)
#define UNPACKLO(a, b) _mm_unpacklo_ps(a, b)
#define UNPACKHI(a, b) _mm_unpackhi_ps(a, b)
#define SHUFFLE(a, b, imm) _mm_shuffle_ps(a, b, imm)
#define UNPACKLO_PD(a, b) _mm_castpd_ps(_mm_unpacklo_pd(_mm_castps_pd(a), _mm_castps_pd(b)))
#define UNPACKHI_PD(a, b) _mm_castpd_ps(_mm_unpackhi_pd(_mm_castps_pd(a), _mm_castps_pd(b)))
#define LD_V4(p) _mm_load_ps(p)
#define FN(name) musicgenre_##name##_x1
#elif LANES == 2
typedef __m256 vx;
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define LD_PS1(p) _mm256_set1_ps(p)
#define UNPACKLO(a, b) _mm256_unpacklo_ps(a, b)
#define UNPACKHI(a, b) _mm256_unpackhi_ps(a, b)
#define SHUFFLE(a, b, imm) _mm256_shuffle_ps(a, b, imm)
#define UNPACKLO_PD(a, b) _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
#define UNPACKHI_PD(a, b) _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
#define LD_V4(p) _mm256_broadcast_ps((__m128 const *)(p))
#define FN(name) musicgenre_##name##_x2
#elif LANES == 4
typedef __m512 vx;
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define LD_PS1(p) _mm512_set1_ps(p)
#define UNPACKLO(a, b) _mm512_unpacklo_ps(a, b)
#define UNPACKHI(a, b) _mm512_unpackhi_ps(a, b)
#define SHUFFLE(a, b, imm) _mm512_shuffle_ps(a, b, imm)
#define UNPACKLO_PD(a, b) _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define UNPACKHI_PD(a, b) _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define LD_V4(p) _mm512_broadcast_f32x4(_mm_load_ps(p))
#define FN(name) musicgenre_##name##_x4
#else
#error "LANES must be 1, 2 or 4"
#endif

/* PFFFT's SSE macros (pffft.c), lane by lane. */
#define VMADD(a, b, c) VADD(VMUL(a, b), c)
#define SVMUL(f, v) VMUL(LD_PS1(f), v)
#define INTERLEAVE2(in1, in2, out1, out2) { vx tmp__ = UNPACKLO(in1, in2); out2 = UNPACKHI(in1, in2); out1 = tmp__; }
#define UNINTERLEAVE2(in1, in2, out1, out2) { vx tmp__ = SHUFFLE(in1, in2, _MM_SHUFFLE(2,0,2,0)); out2 = SHUFFLE(in1, in2, _MM_SHUFFLE(3,1,3,1)); out1 = tmp__; }
/* _MM_TRANSPOSE4_PS: movelh/movehl are the 64-bit unpacks. */
#define VTRANSPOSE4(r0, r1, r2, r3) { \
    vx t0__ = UNPACKLO(r0, r1), t1__ = UNPACKLO(r2, r3); \
    vx t2__ = UNPACKHI(r0, r1), t3__ = UNPACKHI(r2, r3); \
    r0 = UNPACKLO_PD(t0__, t1__); r1 = UNPACKHI_PD(t0__, t1__); \
    r2 = UNPACKLO_PD(t2__, t3__); r3 = UNPACKHI_PD(t2__, t3__); }
#define VSWAPHL(a, b) SHUFFLE(b, a, _MM_SHUFFLE(3,2,1,0))
#define VCPLXMUL(ar,ai,br,bi) { vx tmp; tmp=VMUL(ar,bi); ar=VMUL(ar,br); ar=VSUB(ar,VMUL(ai,bi)); ai=VMUL(ai,br); ai=VADD(ai,tmp); }
#define VCPLXMULCONJ(ar,ai,br,bi) { vx tmp; tmp=VMUL(ar,bi); ar=VMUL(ar,br); ar=VADD(ar,VMUL(ai,bi)); ai=VMUL(ai,br); ai=VSUB(ai,tmp); }
/* PFFFT's vector k of the twiddles `e`, the same in every lane. */
#define E(e, k) LD_V4((e) + 4 * (k))
/* Float j of one block's PFFFT vector array `p`, in lane t. */
#define AT(p, j, t) (((float *)(p))[((j) / 4) * 4 * LANES + 4 * (t) + (j) % 4])

/* Vector k of LANES blocks: floats k..k+3 of each, lane by lane (built in
 * registers: four 16-byte stores then a wide load would stall). */
#if LANES == 1
#define GATHER(p, k) _mm_loadu_ps((p)[0] + (k))
#define SCATTER(p, k, v) _mm_storeu_ps((p)[0] + (k), v)
#elif LANES == 2
#define GATHER(p, k) _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps((p)[0] + (k))), _mm_loadu_ps((p)[1] + (k)), 1)
#define SCATTER(p, k, v) { _mm_storeu_ps((p)[0] + (k), _mm256_castps256_ps128(v)); _mm_storeu_ps((p)[1] + (k), _mm256_extractf128_ps(v, 1)); }
#else
#define GATHER(p, k) _mm512_insertf32x4(_mm512_insertf32x4(_mm512_insertf32x4( \
    _mm512_castps128_ps512(_mm_loadu_ps((p)[0] + (k))), _mm_loadu_ps((p)[1] + (k)), 1), \
    _mm_loadu_ps((p)[2] + (k)), 2), _mm_loadu_ps((p)[3] + (k)), 3)
#define SCATTER(p, k, v) { _mm_storeu_ps((p)[0] + (k), _mm512_castps512_ps128(v)); \
    _mm_storeu_ps((p)[1] + (k), _mm512_extractf32x4_ps(v, 1)); \
    _mm_storeu_ps((p)[2] + (k), _mm512_extractf32x4_ps(v, 2)); \
    _mm_storeu_ps((p)[3] + (k), _mm512_extractf32x4_ps(v, 3)); }
#endif

#define RESTRICT __restrict
#define NEVER_INLINE(t) static t __attribute__((noinline))
#define ALWAYS_INLINE(t) static inline t __attribute__((always_inline))

NEVER_INLINE(void) radf2_ps(int ido, int l1, const vx *RESTRICT cc, vx *RESTRICT ch, const float *wa1) {
  static const float minus_one = -1.f;
  int i, k, l1ido = l1*ido;
  for (k=0; k < l1ido; k += ido) {
    vx a = cc[k], b = cc[k + l1ido];
    ch[2*k] = VADD(a, b);
    ch[2*(k+ido)-1] = VSUB(a, b);
  }
  if (ido < 2) return;
  if (ido != 2) {
    for (k=0; k < l1ido; k += ido) {
      for (i=2; i<ido; i+=2) {
        vx tr2 = cc[i - 1 + k + l1ido], ti2 = cc[i + k + l1ido];
        vx br = cc[i - 1 + k], bi = cc[i + k];
        VCPLXMULCONJ(tr2, ti2, LD_PS1(wa1[i - 2]), LD_PS1(wa1[i - 1]));
        ch[i + 2*k] = VADD(bi, ti2);
        ch[2*(k+ido) - i] = VSUB(ti2, bi);
        ch[i - 1 + 2*k] = VADD(br, tr2);
        ch[2*(k+ido) - i -1] = VSUB(br, tr2);
      }
    }
    if (ido % 2 == 1) return;
  }
  for (k=0; k < l1ido; k += ido) {
    ch[2*k + ido] = SVMUL(minus_one, cc[ido-1 + k + l1ido]);
    ch[2*k + ido-1] = cc[k + ido-1];
  }
}

NEVER_INLINE(void) radb2_ps(int ido, int l1, const vx *cc, vx *ch, const float *wa1) {
  static const float minus_two=-2;
  int i, k, l1ido = l1*ido;
  vx a,b,c,d, tr2, ti2;
  for (k=0; k < l1ido; k += ido) {
    a = cc[2*k]; b = cc[2*(k+ido) - 1];
    ch[k] = VADD(a, b);
    ch[k + l1ido] =VSUB(a, b);
  }
  if (ido < 2) return;
  if (ido != 2) {
    for (k = 0; k < l1ido; k += ido) {
      for (i = 2; i < ido; i += 2) {
        a = cc[i-1 + 2*k]; b = cc[2*(k + ido) - i - 1];
        c = cc[i+0 + 2*k]; d = cc[2*(k + ido) - i + 0];
        ch[i-1 + k] = VADD(a, b);
        tr2 = VSUB(a, b);
        ch[i+0 + k] = VSUB(c, d);
        ti2 = VADD(c, d);
        VCPLXMUL(tr2, ti2, LD_PS1(wa1[i - 2]), LD_PS1(wa1[i - 1]));
        ch[i-1 + k + l1ido] = tr2;
        ch[i+0 + k + l1ido] = ti2;
      }
    }
    if (ido % 2 == 1) return;
  }
  for (k = 0; k < l1ido; k += ido) {
    a = cc[2*k + ido-1]; b = cc[2*k + ido];
    ch[k + ido-1] = VADD(a,a);
    ch[k + ido-1 + l1ido] = SVMUL(minus_two, b);
  }
}

NEVER_INLINE(void) radf4_ps(int ido, int l1, const vx *RESTRICT cc, vx * RESTRICT ch,
                            const float * RESTRICT wa1, const float * RESTRICT wa2, const float * RESTRICT wa3)
{
  static const float minus_hsqt2 = (float)-0.7071067811865475;
  int i, k, l1ido = l1*ido;
  {
    const vx *RESTRICT cc_ = cc, * RESTRICT cc_end = cc + l1ido;
    vx * RESTRICT ch_ = ch;
    while (cc < cc_end) {
      vx a0 = cc[0], a1 = cc[l1ido];
      vx a2 = cc[2*l1ido], a3 = cc[3*l1ido];
      vx tr1 = VADD(a1, a3);
      vx tr2 = VADD(a0, a2);
      ch[2*ido-1] = VSUB(a0, a2);
      ch[2*ido  ] = VSUB(a3, a1);
      ch[0      ] = VADD(tr1, tr2);
      ch[4*ido-1] = VSUB(tr2, tr1);
      cc += ido; ch += 4*ido;
    }
    cc = cc_; ch = ch_;
  }
  if (ido < 2) return;
  if (ido != 2) {
    for (k = 0; k < l1ido; k += ido) {
      const vx * RESTRICT pc = (vx*)(cc + 1 + k);
      for (i=2; i<ido; i += 2, pc += 2) {
        int ic = ido - i;
        vx wr, wi, cr2, ci2, cr3, ci3, cr4, ci4;
        vx tr1, ti1, tr2, ti2, tr3, ti3, tr4, ti4;

        cr2 = pc[1*l1ido+0];
        ci2 = pc[1*l1ido+1];
        wr=LD_PS1(wa1[i - 2]);
        wi=LD_PS1(wa1[i - 1]);
        VCPLXMULCONJ(cr2,ci2,wr,wi);

        cr3 = pc[2*l1ido+0];
        ci3 = pc[2*l1ido+1];
        wr = LD_PS1(wa2[i-2]);
        wi = LD_PS1(wa2[i-1]);
        VCPLXMULCONJ(cr3, ci3, wr, wi);

        cr4 = pc[3*l1ido];
        ci4 = pc[3*l1ido+1];
        wr = LD_PS1(wa3[i-2]);
        wi = LD_PS1(wa3[i-1]);
        VCPLXMULCONJ(cr4, ci4, wr, wi);

        tr1 = VADD(cr2,cr4);
        tr4 = VSUB(cr4,cr2);
        tr2 = VADD(pc[0],cr3);
        tr3 = VSUB(pc[0],cr3);
        ch[i - 1 + 4*k] = VADD(tr1,tr2);
        ch[ic - 1 + 4*k + 3*ido] = VSUB(tr2,tr1);
        ti1 = VADD(ci2,ci4);
        ti4 = VSUB(ci2,ci4);
        ch[i - 1 + 4*k + 2*ido] = VADD(ti4,tr3);
        ch[ic - 1 + 4*k + 1*ido] = VSUB(tr3,ti4);
        ti2 = VADD(pc[1],ci3);
        ti3 = VSUB(pc[1],ci3);
        ch[i + 4*k] = VADD(ti1, ti2);
        ch[ic + 4*k + 3*ido] = VSUB(ti1, ti2);
        ch[i + 4*k + 2*ido] = VADD(tr4, ti3);
        ch[ic + 4*k + 1*ido] = VSUB(tr4, ti3);
      }
    }
    if (ido % 2 == 1) return;
  }
  for (k=0; k<l1ido; k += ido) {
    vx a = cc[ido-1 + k + l1ido], b = cc[ido-1 + k + 3*l1ido];
    vx c = cc[ido-1 + k], d = cc[ido-1 + k + 2*l1ido];
    vx ti1 = SVMUL(minus_hsqt2, VADD(a, b));
    vx tr1 = SVMUL(minus_hsqt2, VSUB(b, a));
    ch[ido-1 + 4*k] = VADD(tr1, c);
    ch[ido-1 + 4*k + 2*ido] = VSUB(c, tr1);
    ch[4*k + 1*ido] = VSUB(ti1, d);
    ch[4*k + 3*ido] = VADD(ti1, d);
  }
}

NEVER_INLINE(void) radb4_ps(int ido, int l1, const vx * RESTRICT cc, vx * RESTRICT ch,
                            const float * RESTRICT wa1, const float * RESTRICT wa2, const float *RESTRICT wa3)
{
  static const float minus_sqrt2 = (float)-1.414213562373095;
  static const float two = 2.f;
  int i, k, l1ido = l1*ido;
  vx ci2, ci3, ci4, cr2, cr3, cr4, ti1, ti2, ti3, ti4, tr1, tr2, tr3, tr4;
  {
    const vx *RESTRICT cc_ = cc, * RESTRICT ch_end = ch + l1ido;
    vx *ch_ = ch;
    while (ch < ch_end) {
      vx a = cc[0], b = cc[4*ido-1];
      vx c = cc[2*ido], d = cc[2*ido-1];
      tr3 = SVMUL(two,d);
      tr2 = VADD(a,b);
      tr1 = VSUB(a,b);
      tr4 = SVMUL(two,c);
      ch[0*l1ido] = VADD(tr2, tr3);
      ch[2*l1ido] = VSUB(tr2, tr3);
      ch[1*l1ido] = VSUB(tr1, tr4);
      ch[3*l1ido] = VADD(tr1, tr4);

      cc += 4*ido; ch += ido;
    }
    cc = cc_; ch = ch_;
  }
  if (ido < 2) return;
  if (ido != 2) {
    for (k = 0; k < l1ido; k += ido) {
      const vx * RESTRICT pc = (vx*)(cc - 1 + 4*k);
      vx * RESTRICT ph = (vx*)(ch + k + 1);
      for (i = 2; i < ido; i += 2) {

        tr1 = VSUB(pc[i], pc[4*ido - i]);
        tr2 = VADD(pc[i], pc[4*ido - i]);
        ti4 = VSUB(pc[2*ido + i], pc[2*ido - i]);
        tr3 = VADD(pc[2*ido + i], pc[2*ido - i]);
        ph[0] = VADD(tr2, tr3);
        cr3 = VSUB(tr2, tr3);

        ti3 = VSUB(pc[2*ido + i + 1], pc[2*ido - i + 1]);
        tr4 = VADD(pc[2*ido + i + 1], pc[2*ido - i + 1]);
        cr2 = VSUB(tr1, tr4);
        cr4 = VADD(tr1, tr4);

        ti1 = VADD(pc[i + 1], pc[4*ido - i + 1]);
        ti2 = VSUB(pc[i + 1], pc[4*ido - i + 1]);

        ph[1] = VADD(ti2, ti3); ph += l1ido;
        ci3 = VSUB(ti2, ti3);
        ci2 = VADD(ti1, ti4);
        ci4 = VSUB(ti1, ti4);
        VCPLXMUL(cr2, ci2, LD_PS1(wa1[i-2]), LD_PS1(wa1[i-1]));
        ph[0] = cr2;
        ph[1] = ci2; ph += l1ido;
        VCPLXMUL(cr3, ci3, LD_PS1(wa2[i-2]), LD_PS1(wa2[i-1]));
        ph[0] = cr3;
        ph[1] = ci3; ph += l1ido;
        VCPLXMUL(cr4, ci4, LD_PS1(wa3[i-2]), LD_PS1(wa3[i-1]));
        ph[0] = cr4;
        ph[1] = ci4; ph = ph - 3*l1ido + 2;
      }
    }
    if (ido % 2 == 1) return;
  }
  for (k=0; k < l1ido; k+=ido) {
    int i0 = 4*k + ido;
    vx c = cc[i0-1], d = cc[i0 + 2*ido-1];
    vx a = cc[i0+0], b = cc[i0 + 2*ido+0];
    tr1 = VSUB(c,d);
    tr2 = VADD(c,d);
    ti1 = VADD(b,a);
    ti2 = VSUB(b,a);
    ch[ido-1 + k + 0*l1ido] = VADD(tr2,tr2);
    ch[ido-1 + k + 1*l1ido] = SVMUL(minus_sqrt2, VSUB(ti1, tr1));
    ch[ido-1 + k + 2*l1ido] = VADD(ti2, ti2);
    ch[ido-1 + k + 3*l1ido] = SVMUL(minus_sqrt2, VADD(ti1, tr1));
  }
}

NEVER_INLINE(vx *) rfftf1_ps(int n, const vx *input_readonly, vx *work1, vx *work2,
                             const float *wa, const int *ifac) {
  vx *in  = (vx*)input_readonly;
  vx *out = (in == work2 ? work1 : work2);
  int nf = ifac[1], k1;
  int l2 = n;
  int iw = n-1;
  for (k1 = 1; k1 <= nf; ++k1) {
    int kh = nf - k1;
    int ip = ifac[kh + 2];
    int l1 = l2 / ip;
    int ido = n / l2;
    iw -= (ip - 1)*ido;
    if (ip == 4) {
      int ix2 = iw + ido;
      int ix3 = ix2 + ido;
      radf4_ps(ido, l1, in, out, &wa[iw], &wa[ix2], &wa[ix3]);
    } else {
      radf2_ps(ido, l1, in, out, &wa[iw]);
    }
    l2 = l1;
    if (out == work2) {
      out = work1; in = work2;
    } else {
      out = work2; in = work1;
    }
  }
  return in;
}

NEVER_INLINE(vx *) rfftb1_ps(int n, const vx *input_readonly, vx *work1, vx *work2,
                             const float *wa, const int *ifac) {
  vx *in  = (vx*)input_readonly;
  vx *out = (in == work2 ? work1 : work2);
  int nf = ifac[1], k1;
  int l1 = 1;
  int iw = 0;
  for (k1=1; k1<=nf; k1++) {
    int ip = ifac[k1 + 1];
    int l2 = ip*l1;
    int ido = n / l2;
    if (ip == 4) {
      int ix2 = iw + ido;
      int ix3 = ix2 + ido;
      radb4_ps(ido, l1, in, out, &wa[iw], &wa[ix2], &wa[ix3]);
    } else {
      radb2_ps(ido, l1, in, out, &wa[iw]);
    }
    l1 = l2;
    iw += (ip - 1)*ido;

    if (out == work2) {
      out = work1; in = work2;
    } else {
      out = work2; in = work1;
    }
  }
  return in;
}

static void reversed_copy(int N, const vx *in, int in_stride, vx *out) {
  vx g0, g1;
  int k;
  INTERLEAVE2(in[0], in[1], g0, g1); in += in_stride;

  *--out = VSWAPHL(g0, g1);
  for (k=1; k < N; ++k) {
    vx h0, h1;
    INTERLEAVE2(in[0], in[1], h0, h1); in += in_stride;
    *--out = VSWAPHL(g1, h0);
    *--out = VSWAPHL(h0, h1);
    g1 = h1;
  }
  *--out = VSWAPHL(g1, g0);
}

static void unreversed_copy(int N, const vx *in, vx *out, int out_stride) {
  vx g0, g1, h0, h1;
  int k;
  g0 = g1 = in[0]; ++in;
  for (k=1; k < N; ++k) {
    h0 = *in++; h1 = *in++;
    g1 = VSWAPHL(g1, h0);
    h0 = VSWAPHL(h0, h1);
    UNINTERLEAVE2(h0, g1, out[0], out[1]); out += out_stride;
    g1 = h1;
  }
  h0 = *in++; h1 = g0;
  g1 = VSWAPHL(g1, h0);
  h0 = VSWAPHL(h0, h1);
  UNINTERLEAVE2(h0, g1, out[0], out[1]);
}

/* pffft_zreorder for real transforms; PFFFT's float offsets into `in` and
 * `out` (N/2, N, N/4, ...) are vector offsets N/8, N/4, N/16, ... here. */
static void zreorder(int N, const vx *vin, vx *vout, int forward) {
  int k, dk = N/32;
  if (forward) {
    for (k=0; k < dk; ++k) {
      INTERLEAVE2(vin[k*8 + 0], vin[k*8 + 1], vout[2*(0*dk + k) + 0], vout[2*(0*dk + k) + 1]);
      INTERLEAVE2(vin[k*8 + 4], vin[k*8 + 5], vout[2*(2*dk + k) + 0], vout[2*(2*dk + k) + 1]);
    }
    reversed_copy(dk, vin+2, 8, vout + N/8);
    reversed_copy(dk, vin+6, 8, vout + N/4);
  } else {
    for (k=0; k < dk; ++k) {
      UNINTERLEAVE2(vin[2*(0*dk + k) + 0], vin[2*(0*dk + k) + 1], vout[k*8 + 0], vout[k*8 + 1]);
      UNINTERLEAVE2(vin[2*(2*dk + k) + 0], vin[2*(2*dk + k) + 1], vout[k*8 + 4], vout[k*8 + 5]);
    }
    unreversed_copy(dk, vin + N/16, vout + N/4 - 6, -8);
    unreversed_copy(dk, vin + 3*N/16, vout + N/4 - 2, -8);
  }
}

ALWAYS_INLINE(void) real_finalize_4x4(const vx *in0, const vx *in1, const vx *in,
                                      const float *e, vx *out) {
  vx r0, i0, r1, i1, r2, i2, r3, i3;
  vx sr0, dr0, sr1, dr1, si0, di0, si1, di1;
  r0 = *in0; i0 = *in1;
  r1 = *in++; i1 = *in++; r2 = *in++; i2 = *in++; r3 = *in++; i3 = *in++;
  VTRANSPOSE4(r0,r1,r2,r3);
  VTRANSPOSE4(i0,i1,i2,i3);

  VCPLXMUL(r1,i1,E(e,0),E(e,1));
  VCPLXMUL(r2,i2,E(e,2),E(e,3));
  VCPLXMUL(r3,i3,E(e,4),E(e,5));

  sr0 = VADD(r0,r2); dr0 = VSUB(r0,r2);
  sr1 = VADD(r1,r3); dr1 = VSUB(r3,r1);
  si0 = VADD(i0,i2); di0 = VSUB(i0,i2);
  si1 = VADD(i1,i3); di1 = VSUB(i3,i1);

  r0 = VADD(sr0, sr1);
  r3 = VSUB(sr0, sr1);
  i0 = VADD(si0, si1);
  i3 = VSUB(si1, si0);
  r1 = VADD(dr0, di1);
  r2 = VSUB(dr0, di1);
  i1 = VSUB(dr1, di0);
  i2 = VADD(dr1, di0);

  *out++ = r0;
  *out++ = i0;
  *out++ = r1;
  *out++ = i1;
  *out++ = r2;
  *out++ = i2;
  *out++ = r3;
  *out++ = i3;
}

NEVER_INLINE(void) real_finalize(int Ncvec, const vx *in, vx *out, const float *e) {
  int k, t, dk = Ncvec/4;
  float cr[4 * LANES], ci[4 * LANES];
  vx save = in[7], zero = LD_PS1(0.f);
  static const float s = (float)(M_SQRT2/2);

  memcpy(cr, &in[0], sizeof cr);
  memcpy(ci, &in[Ncvec*2-1], sizeof ci);
  real_finalize_4x4(&zero, &zero, in+1, e, out);

  for (t = 0; t < LANES; ++t) {
    float const *c = cr + 4 * t, *d = ci + 4 * t;
    float xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3;
    xr0=(c[0]+c[2]) + (c[1]+c[3]); AT(out, 0*4, t) = xr0;
    xi0=(c[0]+c[2]) - (c[1]+c[3]); AT(out, 1*4, t) = xi0;
    xr2=(c[0]-c[2]);               AT(out, 4*4, t) = xr2;
    xi2=(c[3]-c[1]);               AT(out, 5*4, t) = xi2;
    xr1= d[0] + s*(d[1]-d[3]);     AT(out, 2*4, t) = xr1;
    xi1=-d[2] - s*(d[1]+d[3]);     AT(out, 3*4, t) = xi1;
    xr3= d[0] - s*(d[1]-d[3]);     AT(out, 6*4, t) = xr3;
    xi3= d[2] - s*(d[1]+d[3]);     AT(out, 7*4, t) = xi3;
  }

  for (k=1; k < dk; ++k) {
    vx save_next = in[8*k+7];
    real_finalize_4x4(&save, &in[8*k+0], in + 8*k+1, e + 4*k*6, out + k*8);
    save = save_next;
  }
}

ALWAYS_INLINE(void) real_preprocess_4x4(const vx *in, const float *e, vx *out, int first) {
  vx r0=in[0], i0=in[1], r1=in[2], i1=in[3], r2=in[4], i2=in[5], r3=in[6], i3=in[7];

  vx sr0 = VADD(r0,r3), dr0 = VSUB(r0,r3);
  vx sr1 = VADD(r1,r2), dr1 = VSUB(r1,r2);
  vx si0 = VADD(i0,i3), di0 = VSUB(i0,i3);
  vx si1 = VADD(i1,i2), di1 = VSUB(i1,i2);

  r0 = VADD(sr0, sr1);
  r2 = VSUB(sr0, sr1);
  r1 = VSUB(dr0, si1);
  r3 = VADD(dr0, si1);
  i0 = VSUB(di0, di1);
  i2 = VADD(di0, di1);
  i1 = VSUB(si0, dr1);
  i3 = VADD(si0, dr1);

  VCPLXMULCONJ(r1,i1,E(e,0),E(e,1));
  VCPLXMULCONJ(r2,i2,E(e,2),E(e,3));
  VCPLXMULCONJ(r3,i3,E(e,4),E(e,5));

  VTRANSPOSE4(r0,r1,r2,r3);
  VTRANSPOSE4(i0,i1,i2,i3);

  if (!first) {
    *out++ = r0;
    *out++ = i0;
  }
  *out++ = r1;
  *out++ = i1;
  *out++ = r2;
  *out++ = i2;
  *out++ = r3;
  *out++ = i3;
}

NEVER_INLINE(void) real_preprocess(int Ncvec, const vx *in, vx *out, const float *e) {
  int k, t, dk = Ncvec/4;
  float Xr[LANES][4], Xi[LANES][4];
  static const float s = (float)M_SQRT2;
  for (t = 0; t < LANES; ++t)
    for (k=0; k < 4; ++k) {
      Xr[t][k] = AT(in, 8*k, t);
      Xi[t][k] = AT(in, 8*k+4, t);
    }

  real_preprocess_4x4(in, e, out+1, 1);
  for (k=1; k < dk; ++k) {
    real_preprocess_4x4(in+8*k, e + 4*k*6, out-1+k*8, 0);
  }

  for (t = 0; t < LANES; ++t) {
    float const *xr = Xr[t], *xi = Xi[t];
    float cr0, ci0, cr1, ci1, cr2, ci2, cr3, ci3;
    cr0=(xr[0]+xi[0]) + 2*xr[2]; AT(out, 0, t) = cr0;
    cr1=(xr[0]-xi[0]) - 2*xi[2]; AT(out, 1, t) = cr1;
    cr2=(xr[0]+xi[0]) - 2*xr[2]; AT(out, 2, t) = cr2;
    cr3=(xr[0]-xi[0]) + 2*xi[2]; AT(out, 3, t) = cr3;
    ci0= 2*(xr[1]+xr[3]);                     AT(out, 4*(2*Ncvec-1)+0, t) = ci0;
    ci1= s*(xr[1]-xr[3]) - s*(xi[1]+xi[3]);   AT(out, 4*(2*Ncvec-1)+1, t) = ci1;
    ci2= 2*(xi[3]-xi[1]);                     AT(out, 4*(2*Ncvec-1)+2, t) = ci2;
    ci3=-s*(xr[1]-xr[3]) - s*(xi[1]+xi[3]);   AT(out, 4*(2*Ncvec-1)+3, t) = ci3;
  }
}

/* pffft_transform_ordered(setup, input, output, scratch, direction) for a
 * real transform, with input == output as libsoxr calls it. */
static void transform_ordered(const musicgenre_pffft_tables *s, vx *io, vx *scratch, int forward) {
  int k, Ncvec = s->Ncvec;
  int nf_odd = (s->ifac[1] & 1);
  const vx *vinput = io;
  vx *voutput = io;
  vx *buff[2];
  int ib = (nf_odd ^ 1 ? 1 : 0);
  buff[0] = voutput; buff[1] = scratch;

  if (forward) {
    ib = !ib;
    ib = (rfftf1_ps(Ncvec*2, vinput, buff[ib], buff[!ib], s->twiddle, s->ifac) == buff[0] ? 0 : 1);
    real_finalize(Ncvec, buff[ib], buff[!ib], s->e);
    zreorder(s->N, buff[!ib], buff[ib], 1);
  } else {
    if (vinput == buff[ib]) {
      ib = !ib;
    }
    zreorder(s->N, vinput, buff[ib], 0);
    vinput = buff[ib]; ib = !ib;
    real_preprocess(Ncvec, vinput, buff[ib], s->e);
    ib = (rfftb1_ps(Ncvec*2, buff[ib], buff[0], buff[1], s->twiddle, s->ifac) == buff[0] ? 0 : 1);
  }

  if (buff[ib] != voutput) {
    for (k=0; k < Ncvec; ++k) {
      vx a = buff[ib][2*k], b = buff[ib][2*k+1];
      voutput[2*k] = a; voutput[2*k+1] = b;
    }
  }
}

/* util-simd.c's ORDERED_PARTIAL_CONVOLVE_SIMD(n, a, b), b the same in every lane. */
static void ordered_partial_convolve(int n, vx *va, const float *b) {
  int i, t;
  float ab0[LANES];
  for (t = 0; t < LANES; ++t)
    ab0[t] = AT(va, 0, t) * b[0];
  for (i = 0; i < n / 4; i += 2) {
    vx a1r = va[i+0], a1i = va[i+1];
    vx b1r = LD_V4(b + 4 * i), b1i = LD_V4(b + 4 * (i + 1));
    UNINTERLEAVE2(a1r, a1i, a1r, a1i);
    UNINTERLEAVE2(b1r, b1i, b1r, b1i);
    VCPLXMUL(a1r, a1i, b1r, b1i);
    INTERLEAVE2(a1r, a1i, a1r, a1i);
    va[i+0] = a1r, va[i+1] = a1i;
  }
  for (t = 0; t < LANES; ++t) {
    AT(va, 0, t) = ab0[t];
    AT(va, 1, t) = b[n] * AT(va, n, t) - b[n+1] * AT(va, n+1, t);
  }
}

/* The work buffer FN(half_blocks) needs, in floats (64-byte aligned). */
int FN(half_work_len)(const musicgenre_half_tables *t) {
  return 2 * t->dft_length * LANES;
}

/* LANES blocks of libsoxr's 2:1 DFT stage: in[l] points at dft_length input
 * samples, out[l] receives the block's dft_length - (dft_length + num_taps -
 * 1) / 2 output samples. */
void FN(half_blocks)(const musicgenre_half_tables *t, const float *const *in_,
                     float *const *out_, float *work) {
  int const n = t->dft_length, half = n / 2;
  int const keep = n - ((n + t->num_taps - 1) >> 1);
  vx *buf = (vx *)work, *scratch = buf + n / 4;
  const float *in[LANES];
  float *out[LANES];
  int i, l;
  for (l = 0; l < LANES; ++l)
    in[l] = in_[l], out[l] = out_[l];

  for (i = 0; i < n / 4; ++i)
    buf[i] = GATHER(in, 4 * i);
  transform_ordered(&t->fwd, buf, scratch, 1);
  ordered_partial_convolve(half, buf, t->coefs);
  transform_ordered(&t->bwd, buf, scratch, 0);
  for (i = 0; i + 4 <= keep; i += 4)
    SCATTER(out, i, buf[i / 4]);
  for (l = 0; l < LANES; ++l) {
    int j;
    for (j = i; j < keep; ++j)
      out[l][j] = AT(buf, j, l);
  }
}
