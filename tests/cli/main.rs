//! End-to-end tests of the binaries, compiled into one test binary: `features` and
//! `classify` on bad input and under faults (the robustness issue), and the four
//! binaries working together (`pipeline`).
//!
//! Every fixture is generated in the test (hound, byte surgery) or is one of the feature
//! crate's committed format fixtures. Binaries run with a watchdog: a hang fails the
//! test instead of stalling CI.

mod classify;
mod common;
mod features_faults;
mod features_inputs;
mod long_file;
mod pipeline;
