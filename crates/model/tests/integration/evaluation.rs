//! Evaluating a model on a table, cross-validation, the logistic regression baseline, plots.

use std::collections::HashMap;

use musicgenre_model::plot::{
    confusion_png, training_curves_png, write_confusion_png, CONFUSION_SIZE, CURVES_SIZE,
};
use musicgenre_model::{
    cross_validate, evaluate, train, CvOptions, Error, FeatureTable, LogRegOptions,
    LogisticRegression, Progress, TrainOptions,
};

use crate::common::{label_name, quiet, Blobs};

fn quick() -> TrainOptions {
    TrainOptions {
        epochs: 15,
        ..TrainOptions::default()
    }
}

#[test]
fn evaluate_reports_files_and_windows() {
    let table = Blobs {
        windows_per_file: 3,
        ..Blobs::default()
    }
    .table();
    let model = train(&table, &quick(), None, &mut quiet).unwrap();
    let eval = evaluate(&model, &table).unwrap();
    assert_eq!(eval.predictions.len(), 48);
    assert_eq!(eval.files.confusion.total(), 48);
    let windows = eval.windows.as_ref().expect("windows report");
    assert_eq!(windows.confusion.total(), 144);
    assert!(eval.files.accuracy > 0.9, "{}", eval.files.accuracy);
    let text = eval.files.render_text();
    assert!(text.contains("balanced accuracy"));
    assert!(text.contains("true \\ predicted"));

    // One row per file: no windows report.
    let single = Blobs::default().table();
    assert!(evaluate(&model, &single).unwrap().windows.is_none());
}

#[test]
fn evaluate_refuses_unknown_labels_unlabelled_rows_and_other_layouts() {
    let table = Blobs {
        labels: 3,
        ..Blobs::default()
    }
    .table();
    let model = train(&table, &quick(), None, &mut quiet).unwrap();
    let four = Blobs::default().table();
    let err = evaluate(&model, &four).unwrap_err();
    match &err {
        Error::UnknownLabels { labels, known } => {
            assert_eq!(labels, &vec![label_name(3)]);
            assert_eq!(known.len(), 3);
        }
        other => panic!("expected UnknownLabels, got {other:?}"),
    }
    let mut rows = table.rows().to_vec();
    rows[0].label = None;
    let unlabelled =
        FeatureTable::from_parts(table.layout().clone(), rows, table.values().to_vec()).unwrap();
    assert!(matches!(
        evaluate(&model, &unlabelled),
        Err(Error::MissingLabel { .. })
    ));
    let wider = Blobs {
        labels: 3,
        features: 10,
        ..Blobs::default()
    }
    .table();
    assert!(matches!(
        evaluate(&model, &wider),
        Err(Error::LayoutMismatch { .. })
    ));
}

#[test]
fn cross_validation_folds_never_share_an_artist() {
    let table = Blobs {
        windows_per_file: 2,
        ..Blobs::default()
    }
    .table();
    let options = CvOptions {
        folds: 4,
        repeats: 2,
        train: TrainOptions {
            epochs: 8,
            ..TrainOptions::default()
        },
        ..CvOptions::default()
    };
    let mut folds_started = 0;
    let report = cross_validate(&table, &options, None, &mut |p| {
        if let Progress::FoldStart { .. } = p {
            folds_started += 1;
        }
    })
    .unwrap();
    assert_eq!(folds_started, 8);
    assert_eq!(report.folds.len(), 8);
    let artist_of: HashMap<&str, &str> = table
        .rows()
        .iter()
        .map(|r| (r.path.as_str(), r.artist.as_deref().unwrap()))
        .collect();
    for repeat in 0..2 {
        let mut fold_of_artist: HashMap<&str, usize> = HashMap::new();
        let mut files = 0;
        for f in report.folds.iter().filter(|f| f.repeat == repeat) {
            for path in &f.test_files {
                files += 1;
                let artist = artist_of[path.as_str()];
                let prev = *fold_of_artist.entry(artist).or_insert(f.fold);
                assert_eq!(
                    prev, f.fold,
                    "artist {artist} in folds {prev} and {}",
                    f.fold
                );
            }
            assert_eq!(f.train_files + f.test_files.len(), 48);
        }
        // Every file is tested exactly once per repeat.
        assert_eq!(files, 48);
    }
    // The repeats use different folds.
    let first: Vec<_> = report.folds[..4]
        .iter()
        .map(|f| f.test_files.clone())
        .collect();
    let second: Vec<_> = report.folds[4..]
        .iter()
        .map(|f| f.test_files.clone())
        .collect();
    assert_ne!(first, second);
    // Pooled confusion matrices count every file once per repeat.
    assert_eq!(report.mlp.pooled.confusion.total(), 96);
    let baseline = report.baseline.as_ref().unwrap();
    assert_eq!(baseline.pooled.confusion.total(), 96);
    // Separable blobs: both do well; windows are scored too.
    assert!(report.mlp.accuracy.mean > 0.8, "{:?}", report.mlp.accuracy);
    assert!(baseline.accuracy.mean > 0.9, "{:?}", baseline.accuracy);
    assert_eq!(report.mlp.accuracy.values.len(), 8);
    assert!(report.mlp.window_accuracy.is_some());
    // Serialises for --json.
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["mlp"]["accuracy"]["mean"].is_number());
}

#[test]
fn cross_validation_errors() {
    let table = Blobs::default().table();
    // 16 artists: 17 folds cannot all be filled.
    let err = cross_validate(
        &table,
        &CvOptions {
            folds: 17,
            ..CvOptions::default()
        },
        None,
        &mut quiet,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidOption { name: "folds", .. }),
        "{err:?}"
    );
    let err = cross_validate(
        &table,
        &CvOptions {
            repeats: 0,
            ..CvOptions::default()
        },
        None,
        &mut quiet,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidOption {
            name: "repeats",
            ..
        }
    ));
    // 2 artists a label, 2 folds: each fold trains on 1 artist a label, too few to split
    // off a validation part; the error says which fold and why.
    let table = Blobs {
        artists_per_label: 2,
        ..Blobs::default()
    }
    .table();
    let err = cross_validate(
        &table,
        &CvOptions {
            folds: 2,
            ..CvOptions::default()
        },
        None,
        &mut quiet,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::FoldTooFewGroups {
                fold: 1,
                folds: 2,
                groups: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("fold 1 of 2: its training part has label `"));
}

#[test]
fn logistic_regression_separates_blobs_and_reaches_its_optimum() {
    let table = Blobs::default().table();
    let labels = table.labels();
    let y: Vec<usize> = table
        .rows()
        .iter()
        .map(|r| {
            labels
                .iter()
                .position(|l| Some(l) == r.label.as_ref())
                .unwrap()
        })
        .collect();
    let rows: Vec<usize> = (0..table.n_rows()).collect();
    let lr = LogisticRegression::fit(&table, &rows, &y, 4, &LogRegOptions::default()).unwrap();
    let probs = lr.predict_proba(&table, &rows).unwrap();
    let correct = probs
        .iter()
        .zip(&y)
        .filter(|(p, &t)| musicgenre_model::predict::argmax(p) == t)
        .count();
    assert_eq!(correct, rows.len());
    // Stopped at the optimum (gradient below sklearn's tolerance), not the iteration cap.
    assert!(lr.converged, "{} iterations", lr.iterations);
    assert!(lr.gradient_max <= 1e-4, "{}", lr.gradient_max);
    // Stronger regularisation gives a higher optimum objective (weights held smaller).
    let strong = LogisticRegression::fit(
        &table,
        &rows,
        &y,
        4,
        &LogRegOptions {
            c: 0.01,
            ..LogRegOptions::default()
        },
    )
    .unwrap();
    assert!(strong.objective > lr.objective);
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(bytes);
    let reader = decoder.read_info().expect("valid PNG");
    let info = reader.info();
    (info.width, info.height)
}

/// Distinct colours in the image, to check something was drawn.
fn colours(bytes: &[u8]) -> usize {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let mut set = std::collections::HashSet::new();
    for px in buf[..frame.buffer_size()].chunks(3) {
        set.insert((px[0], px[1], px[2]));
    }
    set.len()
}

#[test]
fn plots_are_valid_pngs_of_the_expected_size() {
    let table = Blobs::default().table();
    let model = train(&table, &quick(), None, &mut quiet).unwrap();
    let eval = evaluate(&model, &table).unwrap();

    let png = confusion_png(&eval.files.confusion, "Confusion matrix (48 files)").unwrap();
    assert_eq!(png_size(&png), CONFUSION_SIZE);
    // Shaded cells, text and anti-aliasing: many colours, not a blank canvas.
    assert!(colours(&png) > 50, "{} colours", colours(&png));

    let curves = training_curves_png(&model.info().training.history).unwrap();
    assert_eq!(png_size(&curves), CURVES_SIZE);
    assert!(colours(&curves) > 50);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confusion.png");
    write_confusion_png(&eval.files.confusion, "t", &path).unwrap();
    assert_eq!(png_size(&std::fs::read(&path).unwrap()), CONFUSION_SIZE);
    let err = write_confusion_png(&eval.files.confusion, "t", dir.path().join("no/dir/x.png"))
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. } | Error::Io { .. }),
        "{err:?}"
    );
}
