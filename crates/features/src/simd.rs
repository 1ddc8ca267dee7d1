//! Which vector instructions the kernels that run several frames side by side (one per
//! SIMD lane) use, detected once: AVX-512F (8 f64 lanes), AVX2 (4), or plain scalar
//! code (1). Every choice gives the same bits: a lane does the scalar arithmetic.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set for the lane kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// One frame at a time, plain f64 arithmetic (any CPU).
    Scalar,
    /// Four frames at a time (x86_64 with AVX2).
    Avx2,
    /// Eight frames at a time (x86_64 with AVX-512F).
    Avx512,
}

impl Isa {
    /// Frames a kernel runs side by side with this instruction set.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }

    /// Whether this CPU can run it.
    pub fn available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every instruction set this CPU can run, widest last.
    pub fn all_available() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| i.available())
            .collect()
    }
}

/// The widest instruction set this CPU has (detected on first use).
pub fn best() -> Isa {
    static BEST: AtomicU8 = AtomicU8::new(0);
    match BEST.load(Ordering::Relaxed) {
        1 => Isa::Scalar,
        2 => Isa::Avx2,
        3 => Isa::Avx512,
        _ => {
            let isa = *Isa::all_available().last().unwrap_or(&Isa::Scalar);
            let code = match isa {
                Isa::Scalar => 1,
                Isa::Avx2 => 2,
                Isa::Avx512 => 3,
            };
            BEST.store(code, Ordering::Relaxed);
            isa
        }
    }
}

/// The most lanes any instruction set has.
pub const MAX_LANES: usize = 8;
