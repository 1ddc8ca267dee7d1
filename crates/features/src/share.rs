//! Sharing one signal's work out to the idle workers of a rayon pool.
//!
//! A signal's windows, its STFT frames and its CQT frames are cut in halves with
//! `rayon::join`, down to parts worth a task. In a busy pool every half runs on the
//! calling worker, with the caller's buffers, as it would alone. A half that an idle
//! worker takes needs buffers of its own: it takes spare ones that the plan keeps for
//! later signals ([`Spares`]), or makes them when none is left.

use crate::error::Result;
use std::sync::Mutex;

/// Whether the calling thread is a worker of a rayon pool that has others, which can
/// take parts of its work (a signal's windows, frames, or its STFT and CQT branches).
pub(crate) fn in_shared_pool() -> bool {
    rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1
}

/// Buffers of the parts of a signal that ran on other workers, kept for later ones
/// (fresh ones cost page faults on every signal).
#[derive(Debug)]
pub(crate) struct Spares<S>(Mutex<Vec<S>>);

/// How many pooled runs a test makes before it expects an idle worker to have taken a
/// part at least once: on a loaded machine one run may see the caller do everything.
#[cfg(test)]
pub(crate) const STEAL_ATTEMPTS: usize = 50;

impl<S> Spares<S> {
    /// None kept yet.
    pub(crate) fn new() -> Self {
        Spares(Mutex::new(Vec::new()))
    }

    /// A kept buffer, or `make`'s when none is left (or the lock is poisoned).
    pub(crate) fn take(&self, make: impl FnOnce() -> S) -> S {
        let kept = self.0.lock().ok().and_then(|mut kept| kept.pop());
        kept.unwrap_or_else(make)
    }

    /// Keeps `buffers` for later parts (drops them if the lock is poisoned).
    pub(crate) fn keep(&self, buffers: impl IntoIterator<Item = S>) {
        if let Ok(mut kept) = self.0.lock() {
            kept.extend(buffers);
        }
    }

    /// How many are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().map(|kept| kept.len()).unwrap_or(0)
    }
}

/// `work` on both `halves` by `rayon::join`, and their results in order. Whichever half
/// starts first takes `scratch`; the other, when it runs on another worker (or on this
/// one while the first waits inside a nested join), takes a buffer from `lend`. The
/// buffers lent are returned too, for the caller to collect what they hold and to keep.
pub(crate) fn join_halves<P: Send, S: Send, T: Send>(
    halves: (P, P),
    scratch: &mut S,
    lend: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(P, &mut S) -> T + Sync),
) -> ((T, T), Vec<S>) {
    let mine = Mutex::new(scratch);
    let half = |part: P| match mine.try_lock() {
        Ok(mut scratch) => (work(part, &mut scratch), None),
        Err(_) => {
            let mut lent = lend();
            let result = work(part, &mut lent);
            (result, Some(lent))
        }
    };
    let ((a, lent_a), (b, lent_b)) = rayon::join(|| half(halves.0), || half(halves.1));
    ((a, b), lent_a.into_iter().chain(lent_b).collect())
}

/// A run of consecutive frames and the parts of the outputs that belong to them, which
/// can be cut in two at a frame.
pub(crate) trait FrameRun: Send + Sized {
    fn n_frames(&self) -> usize;
    fn split_at(self, frames: usize) -> (Self, Self);
}

/// `work` on `run`: whole, or in halves by [`join_halves`] down to `min_frames` frames a
/// part, every cut at a multiple of `align` frames from the run's start. Returns the
/// buffers lent to parts that ran elsewhere; of two failing parts, the first one's
/// error, as one worker would meet them.
pub(crate) fn share_frames<R: FrameRun, S: Send>(
    run: R,
    min_frames: usize,
    align: usize,
    scratch: &mut S,
    lend: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(R, &mut S) -> Result<()> + Sync),
) -> Result<Vec<S>> {
    let n = run.n_frames();
    let cut = n / 2 / align.max(1) * align.max(1);
    if n < 2 * min_frames || cut == 0 {
        work(run, scratch)?;
        return Ok(Vec::new());
    }
    let ((left, right), mut lent) =
        join_halves(run.split_at(cut), scratch, lend, &|run, scratch| {
            share_frames(run, min_frames, align, scratch, lend, work)
        });
    lent.extend(left?);
    lent.extend(right?);
    Ok(lent)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums `values` in halves down to 4 values, counting in its buffer how many values
    /// each buffer saw.
    fn sum(values: &[u64], seen: &mut u64, spares: &Spares<u64>) -> (u64, Vec<u64>) {
        if values.len() <= 4 || !in_shared_pool() {
            *seen += values.len() as u64;
            return (values.iter().sum(), Vec::new());
        }
        let lend = || spares.take(|| 0);
        let ((a, b), mut lent) = join_halves(
            values.split_at(values.len() / 2),
            seen,
            &lend,
            &|part, seen| sum(part, seen, spares),
        );
        lent.extend(a.1.into_iter().chain(b.1));
        (a.0 + b.0, lent)
    }

    #[test]
    fn halves_give_the_same_result_and_lent_buffers_come_back() {
        let values: Vec<u64> = (1..=4096).collect();
        let spares = Spares::new();
        let mut seen = 0;
        assert_eq!(sum(&values, &mut seen, &spares), (4096 * 4097 / 2, vec![]));
        assert_eq!(
            seen, 4096,
            "outside a pool all runs with the caller's buffer"
        );

        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (total, seen, lent) = pool.install(|| {
            let mut seen = 0;
            let (total, lent) = sum(&values, &mut seen, &spares);
            (total, seen, lent)
        });
        assert_eq!(total, 4096 * 4097 / 2);
        // Every value was seen by exactly one buffer: the caller's or a lent one.
        assert_eq!(seen + lent.iter().sum::<u64>(), 4096);
        let n_lent = lent.len();
        spares.keep(lent);
        assert_eq!(spares.len(), n_lent);

        // Kept buffers are taken before new ones are made.
        spares.keep([41]);
        assert_eq!(spares.take(|| 7), 41);
        for _ in 0..n_lent {
            spares.take(|| 7);
        }
        assert_eq!(spares.take(|| 7), 7);
    }
}
