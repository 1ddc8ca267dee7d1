//! Model folders: save → load round trips, loading from bytes, and every loading error.

use std::path::Path;
use std::sync::OnceLock;

use musicgenre_model::{Error, Layout, LayoutDifference, Model, TrainOptions};

use crate::common::{quiet, Blobs};

/// A small trained model, saved once per test process; tests copy its bytes.
fn saved() -> &'static (Vec<u8>, Vec<u8>) {
    static BYTES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    BYTES.get_or_init(|| {
        let table = Blobs::default().table();
        let options = TrainOptions {
            epochs: 3,
            ensemble: 2,
            ..TrainOptions::default()
        };
        let mut model = musicgenre_model::train(&table, &options, None, &mut quiet).unwrap();
        model.set_segment_seconds(Some(3.0));
        model.set_feature_settings(serde_json::json!({"sr": 22050, "n_fft": 2048}));
        model.to_bytes().unwrap()
    })
}

fn write_model(dir: &Path, json: &[u8], weights: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("model.json"), json).unwrap();
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
}

fn json_value() -> serde_json::Value {
    serde_json::from_slice(&saved().0).unwrap()
}

#[test]
fn save_then_load_gives_identical_probabilities() {
    let table = Blobs::default().table();
    let model = musicgenre_model::train(
        &table,
        &TrainOptions {
            epochs: 2,
            ..TrainOptions::default()
        },
        None,
        &mut quiet,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("nested/model");
    model.save(&folder).unwrap();
    assert!(folder.join("model.safetensors").is_file());
    let loaded = Model::load(&folder).unwrap();
    let rows: Vec<&[f32]> = (0..table.n_rows()).map(|i| table.row_values(i)).collect();
    let a = model.predict_proba(&rows).unwrap();
    let b = loaded.predict_proba(&rows).unwrap();
    let bits =
        |p: &Vec<Vec<f32>>| -> Vec<u32> { p.iter().flatten().map(|x| x.to_bits()).collect() };
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(model.info(), loaded.info());
}

/// model.json keeps every f64 (losses, accuracies) bit for bit. serde_json's default
/// parser may land one unit in the last place off (it read 1.1475698759781265 as
/// ...263); the workspace turns on its `float_roundtrip` feature, and this pins it.
#[test]
fn every_f64_in_model_json_reads_back_bit_for_bit() {
    let loss = 1.147_569_875_978_126_5_f64;
    let mut v = json_value();
    v["training"]["metrics"]["validation"]["loss"] = serde_json::json!(loss);
    let json = serde_json::to_vec_pretty(&v).unwrap();
    assert!(String::from_utf8_lossy(&json).contains("1.1475698759781265"));
    let model = Model::from_bytes(&json, &saved().1).unwrap();
    let read = model
        .info()
        .training
        .metrics
        .validation
        .as_ref()
        .unwrap()
        .loss;
    assert_eq!(read.to_bits(), loss.to_bits(), "{read} for {loss}");
}

#[test]
fn loads_from_bytes_with_everything_kept() {
    let (json, weights) = saved();
    let model = Model::from_bytes(json, weights).unwrap();
    let info = model.info();
    assert_eq!(info.format_version, musicgenre_model::model::FORMAT_VERSION);
    assert_eq!(info.segment_seconds, Some(3.0));
    assert_eq!(info.feature_settings["n_fft"], 2048);
    assert_eq!(info.ensemble_size, 2);
    assert_eq!(info.labels.len(), 4);
    assert_eq!(info.features.version, Some(1));
    assert_eq!(info.training.history.len(), 2);
    assert_eq!(info.training.options.epochs, 3);
    // The JSON is self-describing.
    let v = json_value();
    for key in [
        "labels",
        "features",
        "scaler",
        "architecture",
        "segment_seconds",
        "training",
    ] {
        assert!(v.get(key).is_some(), "no {key}");
    }
    assert_eq!(v["architecture"]["hidden"], serde_json::json!([128, 128]));
    assert!(v["training"]["metrics"]["validation"]["accuracy"].is_number());
    assert!(v["training"]["history"][0]["epochs"][2]["validation_loss"].is_number());
    // Re-serialising the loaded model gives the same bytes.
    assert_eq!(&model.to_bytes().unwrap(), saved());
}

#[test]
fn missing_folder_and_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Model::load(dir.path().join("nope")),
        Err(Error::NotFound { .. })
    ));
    let (json, weights) = saved();
    let only_json = dir.path().join("a");
    std::fs::create_dir_all(&only_json).unwrap();
    std::fs::write(only_json.join("model.json"), json).unwrap();
    let err = Model::load(&only_json).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path } if path.ends_with("model.safetensors")),
        "{err:?}"
    );
    let only_weights = dir.path().join("b");
    std::fs::create_dir_all(&only_weights).unwrap();
    std::fs::write(only_weights.join("model.safetensors"), weights).unwrap();
    let err = Model::load(&only_weights).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path } if path.ends_with("model.json")),
        "{err:?}"
    );
}

#[test]
fn json_that_does_not_parse_or_is_inconsistent() {
    let weights = &saved().1;
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), b"{\"format_version\": 1, ", weights);
    assert!(matches!(
        Model::load(dir.path()),
        Err(Error::BadModelJson { .. })
    ));
    let mut v = json_value();
    v["scaler"]["std"] = serde_json::json!([1.0]);
    let err = Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights).unwrap_err();
    assert!(matches!(err, Error::BadModelJson { .. }), "{err:?}");
    assert!(err.to_string().contains("scaler"), "{err}");
    let mut v = json_value();
    v["labels"] = serde_json::json!(["a", "b"]);
    assert!(matches!(
        Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights),
        Err(Error::BadModelJson { .. })
    ));
    let mut v = json_value();
    v.as_object_mut().unwrap().remove("architecture");
    assert!(matches!(
        Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights),
        Err(Error::BadModelJson { .. })
    ));
}

#[test]
fn unknown_format_version() {
    let mut v = json_value();
    v["format_version"] = serde_json::json!(99);
    let err = Model::from_bytes(&serde_json::to_vec(&v).unwrap(), &saved().1).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedFormat {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn corrupt_weights() {
    let (json, weights) = saved();
    for bad in [
        Vec::new(),
        b"not a safetensors file at all".to_vec(),
        weights[..weights.len() / 2].to_vec(),
        weights[..12].to_vec(),
    ] {
        let err = Model::from_bytes(json, &bad).unwrap_err();
        assert!(matches!(err, Error::CorruptWeights { .. }), "{err:?}");
    }
    // A NaN written into the data section.
    let mut nan = weights.clone();
    let n = nan.len();
    nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(matches!(
        Model::from_bytes(json, &nan),
        Err(Error::CorruptWeights { .. })
    ));
}

#[test]
fn shape_mismatch_missing_and_unexpected_weights() {
    let weights = &saved().1;
    // Architecture says 64 hidden units; the weights have 128.
    let mut v = json_value();
    v["architecture"]["hidden"] = serde_json::json!([64, 128]);
    let err = Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights).unwrap_err();
    match &err {
        Error::WeightShape { name, expected, .. } => {
            // Weights are checked in name order: the first layer's bias comes first.
            assert_eq!(name, "member0.fc1.bias");
            assert_eq!(expected, &vec![64]);
        }
        other => panic!("expected WeightShape, got {other:?}"),
    }
    // Three members announced, two stored.
    let mut v = json_value();
    v["ensemble_size"] = serde_json::json!(3);
    assert!(matches!(
        Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights),
        Err(Error::MissingWeight { name, .. }) if name.starts_with("member2.")
    ));
    // One member announced, two stored.
    let mut v = json_value();
    v["ensemble_size"] = serde_json::json!(1);
    assert!(matches!(
        Model::from_bytes(&serde_json::to_vec(&v).unwrap(), weights),
        Err(Error::UnexpectedWeight { name, .. }) if name.starts_with("member1.")
    ));
}

#[test]
fn feature_layout_mismatch_is_refused_with_what_differs() {
    let model = Model::from_bytes(&saved().0, &saved().1).unwrap();
    let expected = model.layout().clone();
    assert!(model.check_layout(&expected).is_ok());

    let mut renamed = expected.clone();
    renamed.names[3] = "mfcc.mean.99".into();
    let err = model.check_layout(&renamed).unwrap_err();
    match &err {
        Error::LayoutMismatch {
            difference: LayoutDifference::Name { index, found, .. },
        } => {
            assert_eq!(*index, 3);
            assert_eq!(found, "mfcc.mean.99");
        }
        other => panic!("expected a name difference, got {other:?}"),
    }
    assert!(
        err.to_string().contains("feature 4 is `mfcc.mean.99`"),
        "{err}"
    );

    let shorter = Layout::new(Some(1), expected.names[..5].to_vec());
    assert!(matches!(
        model.check_layout(&shorter),
        Err(Error::LayoutMismatch {
            difference: LayoutDifference::Count {
                expected: 8,
                found: 5
            }
        })
    ));
    let newer = Layout::new(Some(2), expected.names.clone());
    let err = model.check_layout(&newer).unwrap_err();
    assert!(
        err.to_string().contains("layout version 2, expected 1"),
        "{err}"
    );
    // Unknown version: the names decide.
    assert!(model
        .check_layout(&Layout::new(None, expected.names.clone()))
        .is_ok());

    // predict_table refuses a table with another layout.
    let other = Blobs {
        features: 9,
        ..Blobs::default()
    }
    .table();
    assert!(matches!(
        model.predict_table(&other),
        Err(Error::LayoutMismatch { .. })
    ));
}

#[test]
fn prediction_input_errors() {
    let model = Model::from_bytes(&saved().0, &saved().1).unwrap();
    let err = model.predict_proba(&[vec![0.0f32; 7]]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FeatureCount {
                row: 0,
                expected: 8,
                found: 7
            }
        ),
        "{err:?}"
    );
    let mut row = vec![1.0f32; 8];
    row[2] = f32::NAN;
    let err = model.predict_proba(&[vec![1.0f32; 8], row]).unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteInput { row: 1, column, .. } if column == "feat.mean.03"),
        "{err:?}"
    );
    assert!(model.predict_proba::<Vec<f32>>(&[]).unwrap().is_empty());
}
