//! Shared code of the `features`, `train`, `classify` and `evaluate` binaries: finding
//! input files, writing feature tables, reporting errors.

pub mod inputs;
pub mod parallel;
pub mod progress;
pub mod table;
