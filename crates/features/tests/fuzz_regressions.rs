//! Replays the inputs that once crashed the fuzz target (crates/features/fuzz/regressions,
//! see `just fuzz`) through the same checks, so they stay fixed in every test run: an
//! error on one line, or finite samples and finite features. (Memory errors such as the
//! soxr over-read need the fuzzer's AddressSanitizer build to show; `just fuzz` replays
//! these files first.)

use musicgenre_features::{load_from_memory, Error, FeaturePlan, LoadOptions};
use std::path::Path;

include!("../fuzz/fuzz_input.rs");

#[test]
fn past_fuzzer_crashes_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let plan = FeaturePlan::new().unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let Some((&pick, bytes)) = data.split_first() else {
            continue;
        };
        let name = Path::new(NAMES[pick as usize % NAMES.len()]);
        n += 1;
        match load_from_memory(bytes, name, &LoadOptions::default()) {
            Err(e) => assert!(!e.to_string().contains('\n'), "{}: {e}", path.display()),
            Ok(audio) => {
                let y = &audio.samples[..audio.samples.len().min(MAX_SAMPLES)];
                match plan.features(y) {
                    Ok(v) => assert!(v.iter().all(|x| x.is_finite()), "{}", path.display()),
                    Err(Error::NonFiniteSample { .. }) => {}
                    Err(e) => panic!("{}: {e}", path.display()),
                }
            }
        }
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
