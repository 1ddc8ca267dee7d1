//! Arbitrary bytes -> decode (`load_from_memory`, as `librosa.load` would read a file)
//! -> the 518 features: whatever the bytes, an `Err` with a one-line message or audio
//! whose samples and features are finite; never a panic, hang or abort.
//!
//! The first byte picks the file name the bytes are decoded under (its extension is the
//! format probe's hint); the rest is the file. `just fuzz` seeds the corpus with the
//! committed format fixtures, each behind the byte that names its own extension.
//!
//! Panics: libfuzzer-sys aborts on every panic, even one that is caught later. A panic
//! inside symphonia is caught by the decoder and becomes `Error::DecoderPanic` for that
//! file (the documented damage policy; with debug assertions, symphonia 0.6.1 overflows
//! on WAV headers with absurd channel counts), so those are let through and counted;
//! a panic anywhere else, our code included, still aborts as a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musicgenre_features::{load_from_memory, Error, FeaturePlan, LoadOptions, Scratch, N_FEATURES};
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

include!("../fuzz_input.rs");

fn plan() -> &'static FeaturePlan {
    static PLAN: OnceLock<FeaturePlan> = OnceLock::new();
    PLAN.get_or_init(|| FeaturePlan::new().expect("the feature plan builds"))
}

/// Set by the panic hook when symphonia panicked during the current input.
static SYMPHONIA_PANICKED: AtomicBool = AtomicBool::new(false);

/// Wraps libfuzzer-sys's aborting panic hook: panics located in symphonia's sources are
/// contained by the decoder (see the module doc), others abort.
fn allow_contained_symphonia_panics() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map_or("", |l| l.file());
        if file.contains("/symphonia-") {
            SYMPHONIA_PANICKED.store(true, Ordering::SeqCst);
        } else {
            abort(info);
        }
    }));
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(plan().scratch());
}

fuzz_target!(init: allow_contained_symphonia_panics(), |data: &[u8]| {
    SYMPHONIA_PANICKED.store(false, Ordering::SeqCst);
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = Path::new(NAMES[pick as usize % NAMES.len()]);
    let audio = match load_from_memory(bytes, name, &LoadOptions::default()) {
        Ok(audio) => audio,
        Err(e) => {
            if matches!(e, Error::DecoderPanic { .. }) {
                assert!(SYMPHONIA_PANICKED.load(Ordering::SeqCst), "{e}");
            }
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "error on two lines: {msg:?}");
            assert!(!msg.trim().is_empty(), "empty error message");
            return;
        }
    };
    assert_eq!(audio.sample_rate, 22050);
    assert!(!audio.samples.is_empty(), "Ok with no samples");
    assert!(audio.info.duration_s.is_finite() && audio.info.duration_s > 0.0);
    let y = &audio.samples[..audio.samples.len().min(MAX_SAMPLES)];
    let mut out = vec![f32::NAN; N_FEATURES];
    let result = SCRATCH.with(|s| plan().compute(y, &mut s.borrow_mut(), &mut out));
    match result {
        Ok(()) => {
            if let Some(i) = out.iter().position(|v| !v.is_finite()) {
                panic!("feature {i} is {}", out[i]);
            }
        }
        // A float WAV may hold NaN or infinity; that input is refused, nothing else is.
        Err(Error::NonFiniteSample { index }) => assert!(!y[index].is_finite()),
        Err(e) => panic!("features of decoded audio failed: {e}"),
    }
});
