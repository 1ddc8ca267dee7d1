//! The network's layers, training on generated blobs, seeds, early stopping, ensembles.

use std::collections::{HashMap, HashSet};

use musicgenre_model::net::{Architecture, Mlp};
use musicgenre_model::{train, EarlyStopping, Error, GroupMap, Grouping, Progress, TrainOptions};
use rand::SeedableRng;
use tch::{nn, Tensor};

use crate::common::{quiet, Blobs};

fn weights_bits(model: &musicgenre_model::Model) -> Vec<(String, Vec<u32>)> {
    model
        .named_weights()
        .into_iter()
        .map(|(name, t)| {
            let v = Vec::<f32>::try_from(&t.flatten(0, -1)).unwrap();
            (name, v.iter().map(|x| x.to_bits()).collect())
        })
        .collect()
}

#[test]
fn network_has_exactly_the_original_layers() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let arch = Architecture::original(518, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let net = Mlp::new(&vs.root(), &arch, &mut rng).unwrap();
    let mut shapes: Vec<(String, Vec<i64>)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.size()))
        .collect();
    shapes.sort();
    let expected: Vec<(String, Vec<i64>)> = vec![
        ("fc1.bias".into(), vec![128]),
        ("fc1.weight".into(), vec![128, 518]),
        ("fc2.bias".into(), vec![128]),
        ("fc2.weight".into(), vec![128, 128]),
        ("fc3.bias".into(), vec![4]),
        ("fc3.weight".into(), vec![4, 128]),
    ];
    assert_eq!(shapes, expected);
    assert_eq!(arch.hidden, vec![128, 128]);
    assert_eq!(arch.dropout, 0.2);

    // Keras's initialisation: Glorot-uniform weights within the limit, zero biases.
    let vars = vs.variables();
    let limit = (6.0f64 / (518.0 + 128.0)).sqrt();
    let w1 = Vec::<f32>::try_from(&vars["fc1.weight"].flatten(0, -1)).unwrap();
    assert!(w1.iter().all(|&w| f64::from(w).abs() <= limit));
    let spread = w1.iter().map(|&w| f64::from(w).abs()).fold(0.0, f64::max);
    assert!(spread > 0.9 * limit, "weights do not span the Glorot range");
    assert_eq!(
        vars["fc1.bias"]
            .abs()
            .sum(tch::Kind::Float)
            .double_value(&[]),
        0.0
    );

    // Output: n_classes logits; inference is deterministic, dropout in training is not
    // (and zeroes about 20% of the hidden units, so outputs change).
    let x = Tensor::randn([5, 518], (tch::Kind::Float, tch::Device::Cpu));
    let a = net.forward(&x).unwrap();
    assert_eq!(a.size(), vec![5, 4]);
    let b = net.forward(&x).unwrap();
    assert!(a.equal(&b));
    let c = net.forward_train(&x, &mut rng).unwrap();
    assert!(!a.equal(&c));
}

#[test]
fn training_overfits_separable_blobs() {
    let table = Blobs::default().table();
    let options = TrainOptions {
        epochs: 40,
        validation_fraction: 0.0,
        ..TrainOptions::default()
    };
    let mut epochs_seen = 0;
    let model = train(&table, &options, None, &mut |p| {
        if let Progress::Epoch(e) = p {
            epochs_seen += 1;
            assert!(e.validation_loss.is_none());
        }
    })
    .unwrap();
    assert_eq!(epochs_seen, 40);
    let metrics = &model.info().training.metrics;
    assert_eq!(metrics.train.accuracy, 1.0, "{metrics:?}");
    assert!(metrics.validation.is_none());
    // Predictions on the table agree.
    let pred = model.predict_table(&table).unwrap();
    for f in &pred.files {
        assert_eq!(f.genre, table.rows()[f.rows[0]].label.clone().unwrap());
    }
    // Loss went down.
    let h = &model.info().training.history[0].epochs;
    assert!(h.last().unwrap().train_loss < h[0].train_loss);
}

#[test]
fn original_defaults_report_validation_each_epoch() {
    let table = Blobs::default().table();
    let mut records = Vec::new();
    let mut split = None;
    let model = train(&table, &TrainOptions::default(), None, &mut |p| match p {
        Progress::Epoch(e) => records.push(e.clone()),
        Progress::Split(s) => split = Some(s.clone()),
        _ => {}
    })
    .unwrap();
    assert_eq!(records.len(), 10);
    assert!(records.iter().all(|r| r.validation_loss.is_some()));
    let split = split.unwrap();
    assert_eq!(split.grouping, Grouping::Artist);
    // 16 artists: the split keeps each on one side.
    assert_eq!(split.train.groups + split.validation.groups, 16);
    assert_eq!(split.train.rows + split.validation.rows, table.n_rows());
    assert!(split.validation.rows > 0);
    assert_eq!(model.info().training.history[0].best_epoch, 10);
    assert_eq!(model.info().ensemble_size, 1);
    assert_eq!(model.info().architecture, Architecture::original(8, 4));
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    let table = Blobs::default().table();
    let options = TrainOptions {
        epochs: 3,
        seed: 11,
        ..TrainOptions::default()
    };
    let a = train(&table, &options, None, &mut quiet).unwrap();
    let b = train(&table, &options, None, &mut quiet).unwrap();
    assert_eq!(weights_bits(&a), weights_bits(&b));
    assert_eq!(a.info().training, b.info().training);
    let c = train(
        &table,
        &TrainOptions {
            seed: 12,
            ..options.clone()
        },
        None,
        &mut quiet,
    )
    .unwrap();
    assert_ne!(weights_bits(&a), weights_bits(&c));
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    // Overlapping blobs so that validation loss turns up while training loss falls.
    let table = Blobs {
        separation: 1.0,
        features: 16,
        files_per_label: 16,
        ..Blobs::default()
    }
    .table();
    let options = TrainOptions {
        epochs: 300,
        learning_rate: 1e-2,
        early_stopping: Some(EarlyStopping {
            patience: 5,
            min_delta: 0.0,
        }),
        ..TrainOptions::default()
    };
    let model = train(&table, &options, None, &mut quiet).unwrap();
    let h = &model.info().training.history[0];
    assert!(h.stopped_early, "ran all {} epochs", h.epochs.len());
    assert_eq!(h.epochs.len(), h.best_epoch + 5);
    let best = h.epochs[h.best_epoch - 1].validation_loss.unwrap();
    assert!(h.epochs.iter().all(|e| e.validation_loss.unwrap() >= best));
    // The kept weights are the best epoch's: the final validation loss equals it.
    let final_loss = model
        .info()
        .training
        .metrics
        .validation
        .as_ref()
        .unwrap()
        .loss;
    assert!((final_loss - best).abs() < 1e-5, "{final_loss} vs {best}");
}

#[test]
fn ensemble_has_one_network_per_seed_and_averages_them() {
    let table = Blobs::default().table();
    let options = TrainOptions {
        epochs: 2,
        ensemble: 3,
        ..TrainOptions::default()
    };
    let model = train(&table, &options, None, &mut quiet).unwrap();
    let names: HashSet<String> = model
        .named_weights()
        .into_iter()
        .map(|(n, _)| n.split('.').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["member0".into(), "member1".into(), "member2".into()])
    );
    let history = &model.info().training.history;
    assert_eq!(history.len(), 3);
    let seeds: HashSet<u64> = history.iter().map(|h| h.seed).collect();
    assert_eq!(seeds.len(), 3);
    // The members differ.
    let w = model.named_weights();
    let by_name: HashMap<_, _> = w.iter().map(|(n, t)| (n.as_str(), t)).collect();
    assert!(!by_name["member0.fc1.weight"].equal(by_name["member1.fc1.weight"]));
    let probs = model.predict_proba(&[table.row_values(0)]).unwrap();
    let sum: f32 = probs[0].iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[test]
fn windows_of_a_file_stay_on_one_side() {
    // No artists: every file is a group, and its 4 windows move together.
    let mut blobs = Blobs {
        windows_per_file: 4,
        ..Blobs::default()
    };
    blobs.artists_per_label = 12;
    let table = blobs.table();
    let model = train(
        &table,
        &TrainOptions {
            epochs: 1,
            ..TrainOptions::default()
        },
        None,
        &mut quiet,
    )
    .unwrap();
    let split = &model.info().training.split;
    assert_eq!(split.train.rows, 4 * split.train.files);
    assert_eq!(split.validation.rows, 4 * split.validation.files);
    assert_eq!(split.train.files + split.validation.files, 48);
}

#[test]
fn groups_file_overrides_artists() {
    let table = Blobs::default().table();
    // Two groups per label, by file index parity.
    let map = GroupMap::from_pairs(table.files().iter().map(|f| {
        let n: usize = f.path[f.path.len() - 6..f.path.len() - 4].parse().unwrap();
        let label = f.path.split('/').next().unwrap().to_string();
        (f.path.clone(), format!("{label}{}", n % 2))
    }));
    let model = train(
        &table,
        &TrainOptions {
            epochs: 1,
            ..TrainOptions::default()
        },
        Some(&map),
        &mut quiet,
    )
    .unwrap();
    let split = &model.info().training.split;
    assert_eq!(split.grouping, Grouping::GroupsFile);
    assert_eq!(split.train.groups + split.validation.groups, 8);
}

#[test]
fn training_errors() {
    let table = Blobs {
        labels: 1,
        ..Blobs::default()
    }
    .table();
    assert!(matches!(
        train(&table, &TrainOptions::default(), None, &mut quiet),
        Err(Error::TooFewLabels { found: 1, .. })
    ));

    // One artist per label: no artist-disjoint split can hold every label on both sides.
    let table = Blobs {
        artists_per_label: 1,
        ..Blobs::default()
    }
    .table();
    let err = train(&table, &TrainOptions::default(), None, &mut quiet).unwrap_err();
    assert!(
        matches!(err, Error::LabelTooFewGroups { groups: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("classical"), "{err}");
    // Without a validation split it trains.
    let no_val = TrainOptions {
        epochs: 1,
        validation_fraction: 0.0,
        ..TrainOptions::default()
    };
    assert!(train(&table, &no_val, None, &mut quiet).is_ok());

    let table = Blobs::default().table();
    for bad in [
        TrainOptions {
            epochs: 0,
            ..TrainOptions::default()
        },
        TrainOptions {
            batch_size: 0,
            ..TrainOptions::default()
        },
        TrainOptions {
            learning_rate: -1.0,
            ..TrainOptions::default()
        },
        TrainOptions {
            validation_fraction: 1.0,
            ..TrainOptions::default()
        },
        TrainOptions {
            ensemble: 0,
            ..TrainOptions::default()
        },
        TrainOptions {
            early_stopping: Some(EarlyStopping::default()),
            validation_fraction: 0.0,
            ..TrainOptions::default()
        },
    ] {
        assert!(
            matches!(
                train(&table, &bad, None, &mut quiet),
                Err(Error::InvalidOption { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn unlabelled_rows_cannot_train() {
    let table = Blobs::default().table();
    let mut rows = table.rows().to_vec();
    rows[5].label = None;
    let t = musicgenre_model::FeatureTable::from_parts(
        table.layout().clone(),
        rows,
        table.values().to_vec(),
    )
    .unwrap();
    assert!(matches!(
        train(&t, &TrainOptions::default(), None, &mut quiet),
        Err(Error::MissingLabel { line: 7, .. })
    ));
}

#[test]
fn split_per_member_holds_out_different_rows_and_scores_out_of_sample() {
    let table = Blobs {
        files_per_label: 20,
        artists_per_label: 10,
        ..Blobs::default()
    }
    .table();
    let options = TrainOptions {
        epochs: 5,
        ensemble: 4,
        split_per_member: true,
        ..TrainOptions::default()
    };
    let model = train(&table, &options, None, &mut quiet).unwrap();
    let metrics = &model.info().training.metrics;
    let validation = metrics.validation.as_ref().unwrap();
    // Four different 20% holdouts cover more rows than one does.
    let one = model.info().training.split.validation.rows;
    assert!(validation.rows > one, "{} vs {one}", validation.rows);
    assert!(validation.rows <= table.n_rows());
    // Training metrics cover every row.
    assert_eq!(metrics.train.rows, table.n_rows());
    // Same options, same bits; the shared-split ensemble differs.
    let again = train(&table, &options, None, &mut quiet).unwrap();
    assert_eq!(weights_bits(&model), weights_bits(&again));
    let shared = train(
        &table,
        &TrainOptions {
            split_per_member: false,
            ..options.clone()
        },
        None,
        &mut quiet,
    )
    .unwrap();
    assert_ne!(weights_bits(&model), weights_bits(&shared));
}
