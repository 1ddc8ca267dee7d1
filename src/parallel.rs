//! Runs one job per input on a pool of workers and hands the results back in input order,
//! as soon as each is next in line, so output can be written while the run goes on.
//!
//! Workers take inputs in order from a shared counter, so at most `jobs` results wait
//! for an earlier one: the reorder buffer stays small on libraries of any size. A panic
//! in one job is caught and becomes that input's error; the worker's scratch is rebuilt
//! and the run goes on. Setting the stop flag makes workers take no new inputs; the ones
//! in flight finish and are delivered.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// What happened to one input.
pub enum Outcome<R> {
    /// The job returned (its own `Result`, if it has one, is inside).
    Done(R),
    /// The job panicked; the message says where and why.
    Panicked(String),
}

/// Maps `work` over `items` on `jobs` rayon workers, each with its own scratch from
/// `make_scratch`, calling `sink(index, outcome)` on the calling thread in index order.
/// Stops early, without error, when `stop` is set (inputs never started are not passed
/// to `sink`) or with the sink's error when it fails. Returns how many inputs were handed
/// to `sink`.
pub fn ordered_map<I, S, R, E>(
    items: &[I],
    jobs: usize,
    stop: &AtomicBool,
    make_scratch: impl Fn() -> S + Sync,
    work: impl Fn(&I, &mut S) -> R + Sync,
    mut sink: impl FnMut(usize, Outcome<R>) -> Result<(), E>,
) -> Result<usize, E>
where
    I: Sync,
    R: Send,
{
    let jobs = jobs.max(1);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool,
        // Cannot spawn threads: run on this thread instead.
        Err(_) => return sequential(items, stop, &make_scratch, &work, &mut sink),
    };
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Outcome<R>)>();
    std::thread::scope(|scope| {
        let (next, abort, work, make_scratch) = (&next, &abort, &work, &make_scratch);
        scope.spawn(move || {
            // One loop per worker thread, as a broadcast job: each thread runs its own and
            // never another's, even while it waits inside a job for a stolen piece of work
            // (the windows of a file run as rayon tasks). Spawned loops would sit in the
            // pool's shared queue, where a waiting worker could pick up a second loop and
            // hold back its first file until the whole run ends.
            pool.broadcast(|_| {
                let mut scratch = make_scratch();
                loop {
                    if stop.load(Ordering::SeqCst) || abort.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= items.len() {
                        break;
                    }
                    let outcome = run_one(&items[i], &mut scratch, work);
                    if matches!(outcome, Outcome::Panicked(_)) {
                        scratch = make_scratch();
                    }
                    if tx.send((i, outcome)).is_err() {
                        break;
                    }
                }
            });
            drop(tx);
        });
        let mut pending = BTreeMap::new();
        let mut delivered = 0usize;
        for (i, outcome) in rx {
            pending.insert(i, outcome);
            while let Some(outcome) = pending.remove(&delivered) {
                if let Err(e) = sink(delivered, outcome) {
                    abort.store(true, Ordering::SeqCst);
                    return Err(e);
                }
                delivered += 1;
            }
        }
        Ok(delivered)
    })
}

fn sequential<I, S, R, E>(
    items: &[I],
    stop: &AtomicBool,
    make_scratch: &impl Fn() -> S,
    work: &impl Fn(&I, &mut S) -> R,
    sink: &mut impl FnMut(usize, Outcome<R>) -> Result<(), E>,
) -> Result<usize, E> {
    let mut scratch = make_scratch();
    for (i, item) in items.iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            return Ok(i);
        }
        let outcome = run_one(item, &mut scratch, work);
        if matches!(outcome, Outcome::Panicked(_)) {
            scratch = make_scratch();
        }
        sink(i, outcome)?;
    }
    Ok(items.len())
}

fn run_one<I, S, R>(item: &I, scratch: &mut S, work: &impl Fn(&I, &mut S) -> R) -> Outcome<R> {
    let was_in_job = IN_JOB.with(|f| f.replace(true));
    let result = catch_unwind(AssertUnwindSafe(|| work(item, scratch)));
    IN_JOB.with(|f| f.set(was_in_job));
    match result {
        Ok(r) => Outcome::Done(r),
        Err(payload) => Outcome::Panicked(panic_message(payload.as_ref())),
    }
}

/// The text a panic was raised with (`panic!("...")`, `unwrap` and the like).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

thread_local! {
    /// Set while this thread runs a job whose panic [`run_one`] catches.
    static IN_JOB: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook for a binary named `program`; call once at its start.
///
/// Panics inside jobs stay quiet: [`ordered_map`] reports them as that input's error, and
/// the default hook's multi-line message would garble the one-line-per-error output. A
/// panic anywhere else on the main thread is a bug that ends the run: it is printed as
/// one line, `program: internal error: message (at file:line)`, rather than the default
/// hook's text or nothing. (Worker threads outside a job only run pieces of a job, whose
/// panic reaches that job.)
pub fn quiet_panics(program: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let on_main = std::thread::current().name() == Some("main");
        if on_main && !IN_JOB.with(std::cell::Cell::get) {
            eprintln!("{program}: {}", internal_error_line(info));
        }
    }));
}

/// `internal error: message (at file:line)`, on one line.
fn internal_error_line(info: &std::panic::PanicHookInfo<'_>) -> String {
    let message = panic_message(info.payload());
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match info.location() {
        Some(at) => format!("internal error: {message} (at {}:{})", at.file(), at.line()),
        None => format!("internal error: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_the_timing() {
        let items: Vec<u64> = (0..200).collect();
        let stop = AtomicBool::new(false);
        let mut seen = Vec::new();
        let n = ordered_map(
            &items,
            4,
            &stop,
            || 0u64,
            |&x, calls| {
                *calls += 1;
                std::thread::sleep(std::time::Duration::from_micros((x * 37) % 500));
                x * x
            },
            |i, o| {
                match o {
                    Outcome::Done(v) => seen.push((i, v)),
                    Outcome::Panicked(m) => panic!("{m}"),
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(n, 200);
        assert_eq!(
            seen,
            items
                .iter()
                .map(|&x| (x as usize, x * x))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_worker_waiting_on_its_own_rayon_tasks_never_starts_another_input() {
        // Jobs split their work with rayon::join (as the windows of a file do), so workers
        // steal each other's halves and wait for them. Waiting must not start a second
        // input on the same thread: that input's whole loop would run nested and hold
        // back the first one's result.
        std::thread_local!(static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
        fn split(n: u32) {
            if n == 0 {
                std::thread::sleep(std::time::Duration::from_micros(300));
                return;
            }
            rayon::join(|| split(n - 1), || split(n - 1));
        }
        // A second loop could only be picked up while some loop is not yet taken by its
        // own thread, at the start of a run: so many short runs.
        let items: Vec<u32> = (0..12).collect();
        let nested = AtomicUsize::new(0);
        for _ in 0..25 {
            let stop = AtomicBool::new(false);
            let mut done = 0usize;
            ordered_map(
                &items,
                4,
                &stop,
                || (),
                |_, _| {
                    if DEPTH.with(|d| d.replace(d.get() + 1)) > 0 {
                        nested.fetch_add(1, Ordering::SeqCst);
                    }
                    split(3);
                    DEPTH.with(|d| d.set(d.get() - 1));
                },
                |_, _| {
                    done += 1;
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            assert_eq!(done, items.len());
        }
        assert_eq!(nested.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_panic_is_one_inputs_outcome() {
        let items: Vec<i32> = (0..10).collect();
        let stop = AtomicBool::new(false);
        let mut panics = Vec::new();
        let mut done = 0;
        ordered_map(
            &items,
            2,
            &stop,
            || (),
            |&x, _| {
                if x == 3 {
                    panic!("bad input {x}");
                }
                x
            },
            |i, o| {
                match o {
                    Outcome::Done(_) => done += 1,
                    Outcome::Panicked(m) => panics.push((i, m)),
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(done, 9);
        assert_eq!(panics, vec![(3, "bad input 3".to_string())]);
    }

    #[test]
    fn stop_and_sink_errors_end_the_run_early() {
        let items: Vec<i32> = (0..1000).collect();
        let stop = AtomicBool::new(false);
        let n = ordered_map(
            &items,
            2,
            &stop,
            || (),
            |&x, _| {
                if x == 10 {
                    stop.store(true, Ordering::SeqCst);
                }
                x
            },
            |_, _| Ok::<(), ()>(()),
        )
        .unwrap();
        assert!((11..20).contains(&n), "{n}");
        let stop = AtomicBool::new(false);
        let r = ordered_map(
            &items,
            2,
            &stop,
            || (),
            |&x, _| x,
            |i, _| if i == 5 { Err(i) } else { Ok(()) },
        );
        assert_eq!(r, Err(5));
    }
}
