//! Bit-for-bit reproducibility: across libtorch thread counts and across threads.

use musicgenre_model::{set_torch_threads, train, Model, TrainOptions};

use crate::common::{quiet, Blobs};

fn bits(model: &Model) -> Vec<u32> {
    model
        .named_weights()
        .into_iter()
        .flat_map(|(_, t)| Vec::<f32>::try_from(&t.flatten(0, -1)).unwrap())
        .map(f32::to_bits)
        .collect()
}

/// 518 features as in the real layout, so libtorch's kernels see realistic sizes.
fn wide() -> musicgenre_model::FeatureTable {
    Blobs {
        features: 518,
        files_per_label: 20,
        windows_per_file: 3,
        ..Blobs::default()
    }
    .table()
}

#[test]
fn same_weights_with_one_or_two_libtorch_threads() {
    let table = wide();
    let options = TrainOptions {
        epochs: 2,
        ensemble: 2,
        ..TrainOptions::default()
    };
    set_torch_threads(2);
    let two = train(&table, &options, None, &mut quiet);
    // Back to the tests' setting before asserting, whatever happened.
    set_torch_threads(1);
    let one = train(&table, &options, None, &mut quiet).unwrap();
    assert_eq!(bits(&two.unwrap()), bits(&one));
}

#[test]
fn same_weights_when_trainings_run_in_parallel_threads() {
    let table = wide();
    let options = TrainOptions {
        epochs: 2,
        ..TrainOptions::default()
    };
    let alone = bits(&train(&table, &options, None, &mut quiet).unwrap());
    let parallel: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| bits(&train(&table, &options, None, &mut quiet).unwrap())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for p in parallel {
        assert_eq!(p, alone);
    }
}
