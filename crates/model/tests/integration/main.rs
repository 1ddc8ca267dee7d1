//! Integration tests of musicgenre-model, in one binary (one link against libtorch).

mod common;
mod determinism;
mod evaluation;
mod model_files;
mod table;
mod train;
