//! Grouped, stratified splits: validation holdouts and K folds that never cut a group.
//!
//! A *group* is what must stay on one side of every split: the groups file's group when
//! one is given, else the artist when the table has artists, else the source file. Rows
//! that share a file are always joined into one group too (windows of a file stay
//! together), as are rows that share a group key; groups are the connected components.
//!
//! Assignment is greedy, in the spirit of scikit-learn's `StratifiedGroupKFold`: groups are
//! shuffled with the seed, sorted by size (largest first, ties in shuffled order) and each
//! goes to the part whose per-label row counts it brings closest to the targets
//! (`weight × label total`), by squared error scaled by label size; exact ties are broken
//! with the seeded RNG. A repair pass then makes sure that every label lands on both sides
//! of a holdout, or in at least two folds, when its groups allow it.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::table::{FeatureTable, GroupMap};

/// What the groups were made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// An explicit path → group map.
    GroupsFile,
    /// Every row has an artist.
    Artist,
    /// Some rows have an artist; the others are grouped by file.
    ArtistOrFile,
    /// No artists: every file is its own group.
    File,
}

impl std::fmt::Display for Grouping {
    /// How the CLI names it: "split by artist", "grouped by groups file".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Grouping::GroupsFile => "groups file",
            Grouping::Artist => "artist",
            Grouping::ArtistOrFile => "artist (file where unknown)",
            Grouping::File => "file (no artists)",
        })
    }
}

/// The group of every row of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct RowGroups {
    pub grouping: Grouping,
    /// Dense group ids (0..n_groups), in order of first appearance.
    pub group_of_row: Vec<usize>,
    pub n_groups: usize,
}

/// Groups the rows of `table`: by `groups` when given (every file must be listed), else by
/// artist where known, else by file; rows of one file always share a group.
pub fn row_groups(table: &FeatureTable, groups: Option<&GroupMap>) -> Result<RowGroups> {
    let rows = table.rows();
    let n_artists = rows.iter().filter(|r| r.artist.is_some()).count();
    let grouping = match groups {
        Some(_) => Grouping::GroupsFile,
        None if n_artists == rows.len() => Grouping::Artist,
        None if n_artists > 0 => Grouping::ArtistOrFile,
        None => Grouping::File,
    };
    if let Some(map) = groups {
        let missing: Vec<&str> = table
            .files()
            .iter()
            .filter(|f| map.get(&f.path).is_none())
            .map(|f| rows[f.rows[0]].path.as_str())
            .collect();
        if let Some(first) = missing.first() {
            return Err(Error::GroupMissing {
                groups_file: map.source().to_path_buf(),
                path: first.to_string(),
                missing: missing.len(),
            });
        }
    }

    // Union-find over nodes = group keys and file paths.
    let mut node_of: HashMap<String, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut node = |key: String, parent: &mut Vec<usize>| -> usize {
        *node_of.entry(key).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut file_nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let file = node(format!("file:{}", row.path), &mut parent);
        let key = match (groups, &row.artist) {
            (Some(map), _) => map.get(&row.path).map(|g| format!("group:{g}")),
            (None, Some(artist)) => Some(format!("artist:{artist}")),
            (None, None) => None,
        };
        if let Some(key) = key {
            let k = node(key, &mut parent);
            let (a, b) = (find(&mut parent, file), find(&mut parent, k));
            parent[a] = b;
        }
        file_nodes.push(file);
    }
    let mut dense: HashMap<usize, usize> = HashMap::new();
    let group_of_row: Vec<usize> = file_nodes
        .iter()
        .map(|&f| {
            let root = find(&mut parent, f);
            let next = dense.len();
            *dense.entry(root).or_insert(next)
        })
        .collect();
    Ok(RowGroups {
        grouping,
        group_of_row,
        n_groups: dense.len(),
    })
}

/// Per-group label counts for the rows in `pool`.
struct PoolGroups {
    /// Global group id of each local group.
    ids: Vec<usize>,
    /// `counts[g][l]`: rows of label `l` in local group `g`.
    counts: Vec<Vec<usize>>,
    /// Rows per label over the pool.
    totals: Vec<usize>,
}

impl PoolGroups {
    fn new(pool: &[usize], labels: &[usize], groups: &[usize], n_labels: usize) -> Self {
        let mut local: HashMap<usize, usize> = HashMap::new();
        let mut ids = Vec::new();
        let mut counts: Vec<Vec<usize>> = Vec::new();
        let mut totals = vec![0; n_labels];
        for &r in pool {
            let g = *local.entry(groups[r]).or_insert_with(|| {
                ids.push(groups[r]);
                counts.push(vec![0; n_labels]);
                ids.len() - 1
            });
            counts[g][labels[r]] += 1;
            totals[labels[r]] += 1;
        }
        PoolGroups {
            ids,
            counts,
            totals,
        }
    }

    fn size(&self, g: usize) -> usize {
        self.counts[g].iter().sum()
    }

    /// Greedy assignment of local groups to parts with the given weights.
    fn assign(&self, weights: &[f64], rng: &mut ChaCha8Rng) -> Vec<usize> {
        let n_labels = self.totals.len();
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.shuffle(rng);
        order.sort_by_key(|&g| std::cmp::Reverse(self.size(g)));
        let mut filled = vec![vec![0usize; n_labels]; weights.len()];
        let mut part_of = vec![0usize; self.ids.len()];
        for g in order {
            let deltas: Vec<f64> = weights
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    (0..n_labels)
                        .filter(|&l| self.counts[g][l] > 0)
                        .map(|l| {
                            let add = self.counts[g][l] as f64;
                            let deficit = filled[j][l] as f64 - w * self.totals[l] as f64;
                            add * (2.0 * deficit + add) / self.totals[l] as f64
                        })
                        .sum()
                })
                .collect();
            let best = deltas.iter().copied().fold(f64::INFINITY, f64::min);
            let ties: Vec<usize> = (0..weights.len())
                .filter(|&j| deltas[j] <= best + 1e-9)
                .collect();
            let j = ties[rng.gen_range(0..ties.len())];
            part_of[g] = j;
            for (f, c) in filled[j].iter_mut().zip(&self.counts[g]) {
                *f += c;
            }
        }
        part_of
    }

    /// Local groups holding label `l`.
    fn with_label(&self, l: usize) -> Vec<usize> {
        (0..self.ids.len())
            .filter(|&g| self.counts[g][l] > 0)
            .collect()
    }

    /// Every label present in the pool is in at least 2 groups, or it cannot be on both
    /// sides of a split.
    fn check_two_groups_per_label(&self, label_names: &[String]) -> Result<()> {
        for (l, name) in label_names.iter().enumerate() {
            let n = self.with_label(l).len();
            if n == 1 {
                return Err(Error::LabelTooFewGroups {
                    label: name.clone(),
                    groups: n,
                    needed: 2,
                });
            }
        }
        Ok(())
    }
}

/// Splits the rows in `pool` into (training, validation) with about `fraction` of each
/// label's rows in validation, no group on both sides, and every label on both sides.
///
/// `labels[r]` and `groups[r]` are indexed by table row; `label_names` is for errors.
pub fn validation_split(
    pool: &[usize],
    labels: &[usize],
    groups: &[usize],
    label_names: &[String],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let pg = PoolGroups::new(pool, labels, groups, label_names.len());
    pg.check_two_groups_per_label(label_names)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut part_of = pg.assign(&[1.0 - fraction, fraction], &mut rng);
    // Repair: every label present in both parts. Moving a group can break another label,
    // so iterate a bounded number of times and verify.
    for _ in 0..(4 * label_names.len() + 4) {
        let mut moved = false;
        for l in 0..label_names.len() {
            let holders = pg.with_label(l);
            if holders.is_empty() {
                continue;
            }
            for p in 0..2 {
                if holders.iter().any(|&g| part_of[g] == p) {
                    continue;
                }
                if let Some(&g) = holders.iter().min_by_key(|&&g| (pg.size(g), g)) {
                    part_of[g] = p;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    for (l, name) in label_names.iter().enumerate() {
        let holders = pg.with_label(l);
        for p in 0..2 {
            if !holders.is_empty() && !holders.iter().any(|&g| part_of[g] == p) {
                return Err(Error::CannotStratify {
                    label: name.clone(),
                });
            }
        }
    }
    let part_by_group: HashMap<usize, usize> = pg.ids.iter().copied().zip(part_of).collect();
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for &r in pool {
        if part_by_group[&groups[r]] == 0 {
            train.push(r);
        } else {
            val.push(r);
        }
    }
    Ok((train, val))
}

/// Assigns every row to one of `k` folds, stratified by label, no group in two folds, every
/// fold non-empty, and every label in at least two folds (so each training set has it).
/// Returns the fold of each row of `labels`.
pub fn stratified_group_folds(
    labels: &[usize],
    groups: &[usize],
    label_names: &[String],
    k: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    let pool: Vec<usize> = (0..labels.len()).collect();
    let pg = PoolGroups::new(&pool, labels, groups, label_names.len());
    if k < 2 || k > pg.ids.len() {
        return Err(Error::InvalidOption {
            name: "folds",
            value: k.to_string(),
            expected: "at least 2 and at most the number of groups (artists or files)",
        });
    }
    pg.check_two_groups_per_label(label_names)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut part_of = pg.assign(&vec![1.0 / k as f64; k], &mut rng);
    for _ in 0..(4 * (label_names.len() + k) + 4) {
        let mut moved = false;
        // Every fold non-empty: take the smallest group of the fold with most groups.
        for f in 0..k {
            if part_of.contains(&f) {
                continue;
            }
            let mut per_fold = vec![0usize; k];
            for &p in &part_of {
                per_fold[p] += 1;
            }
            let donor = (0..k).max_by_key(|&j| (per_fold[j], std::cmp::Reverse(j)));
            if let Some(donor) = donor {
                let g = (0..part_of.len())
                    .filter(|&g| part_of[g] == donor)
                    .min_by_key(|&g| (pg.size(g), g));
                if let Some(g) = g {
                    part_of[g] = f;
                    moved = true;
                }
            }
        }
        // Every label in two folds at least: move its smallest group to the fold that
        // lacks the most of it.
        for l in 0..label_names.len() {
            let holders = pg.with_label(l);
            let folds_of_l: Vec<usize> = holders.iter().map(|&g| part_of[g]).collect();
            if holders.len() < 2 || folds_of_l.iter().any(|&f| f != folds_of_l[0]) {
                continue;
            }
            let only = folds_of_l[0];
            if let Some(&g) = holders.iter().min_by_key(|&&g| (pg.size(g), g)) {
                let mut per_fold = vec![0usize; k];
                for &h in &holders {
                    per_fold[part_of[h]] += pg.counts[h][l];
                }
                let target = (0..k)
                    .filter(|&j| j != only)
                    .min_by_key(|&j| (per_fold[j], j));
                if let Some(target) = target {
                    part_of[g] = target;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    for (l, name) in label_names.iter().enumerate() {
        let holders = pg.with_label(l);
        if holders.len() >= 2 && holders.iter().all(|&g| part_of[g] == part_of[holders[0]]) {
            return Err(Error::CannotStratify {
                label: name.clone(),
            });
        }
    }
    let part_by_group: HashMap<usize, usize> = pg.ids.iter().copied().zip(part_of).collect();
    Ok(groups.iter().map(|g| part_by_group[g]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::table::RowInfo;

    fn table(rows: &[(&str, &str, Option<&str>)]) -> FeatureTable {
        let infos = rows
            .iter()
            .map(|(path, label, artist)| RowInfo {
                path: path.to_string(),
                label: Some(label.to_string()),
                artist: artist.map(str::to_string),
                start_s: 0.0,
                duration_s: 1.0,
            })
            .collect::<Vec<_>>();
        let n = infos.len();
        FeatureTable::from_parts(Layout::new(None, vec!["x".into()]), infos, vec![0.0; n]).unwrap()
    }

    #[test]
    fn groups_follow_artists_and_keep_files_together() {
        // a.wav has two windows; b and c share an artist; d has no artist.
        let t = table(&[
            ("a.wav", "x", Some("A")),
            ("a.wav", "x", Some("A")),
            ("b.wav", "x", Some("B")),
            ("c.wav", "y", Some("B")),
            ("d.wav", "y", None),
        ]);
        let g = row_groups(&t, None).unwrap();
        assert_eq!(g.grouping, Grouping::ArtistOrFile);
        assert_eq!(g.group_of_row, vec![0, 0, 1, 1, 2]);
        assert_eq!(g.n_groups, 3);
    }

    #[test]
    fn a_file_with_inconsistent_artists_joins_both_groups() {
        let t = table(&[
            ("a.wav", "x", Some("A")),
            ("a.wav", "x", Some("B")),
            ("b.wav", "x", Some("B")),
            ("c.wav", "x", Some("C")),
        ]);
        let g = row_groups(&t, None).unwrap();
        assert_eq!(g.group_of_row[0], g.group_of_row[2]);
        assert_ne!(g.group_of_row[0], g.group_of_row[3]);
    }

    #[test]
    fn groups_file_overrides_artists_and_must_cover_every_file() {
        let t = table(&[
            ("a.wav", "x", Some("A")),
            ("b.wav", "x", Some("B")),
            ("c.wav", "y", Some("C")),
        ]);
        let map = GroupMap::from_pairs([("a.wav", "g1"), ("b.wav", "g1"), ("c.wav", "g2")]);
        let g = row_groups(&t, Some(&map)).unwrap();
        assert_eq!(g.grouping, Grouping::GroupsFile);
        assert_eq!(g.group_of_row, vec![0, 0, 1]);
        let partial = GroupMap::from_pairs([("a.wav", "g1")]);
        match row_groups(&t, Some(&partial)) {
            Err(Error::GroupMissing { path, missing, .. }) => {
                assert_eq!(path, "b.wav");
                assert_eq!(missing, 2);
            }
            other => panic!("expected GroupMissing, got {other:?}"),
        }
    }

    #[test]
    fn no_artists_means_one_group_per_file() {
        let t = table(&[("a", "x", None), ("b", "x", None), ("a", "x", None)]);
        let g = row_groups(&t, None).unwrap();
        assert_eq!(g.grouping, Grouping::File);
        assert_eq!(g.group_of_row, vec![0, 1, 0]);
    }

    /// 3 labels, 40 groups of 1 to 4 rows, labels mixed inside some groups.
    fn synthetic(seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut labels, mut groups) = (Vec::new(), Vec::new());
        for g in 0..40 {
            let base = g % 3;
            for _ in 0..rng.gen_range(1..=4) {
                let l = if rng.gen_bool(0.1) {
                    (base + 1) % 3
                } else {
                    base
                };
                labels.push(l);
                groups.push(g);
            }
        }
        (labels, groups)
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("l{i}")).collect()
    }

    #[test]
    fn validation_split_keeps_groups_apart_and_is_stratified() {
        for seed in 0..20 {
            let (labels, groups) = synthetic(seed);
            let pool: Vec<usize> = (0..labels.len()).collect();
            let (train, val) =
                validation_split(&pool, &labels, &groups, &names(3), 0.2, seed).unwrap();
            assert_eq!(train.len() + val.len(), pool.len());
            let train_groups: std::collections::HashSet<_> =
                train.iter().map(|&r| groups[r]).collect();
            assert!(val.iter().all(|&r| !train_groups.contains(&groups[r])));
            for l in 0..3 {
                let total = labels.iter().filter(|&&x| x == l).count() as f64;
                let in_val = val.iter().filter(|&&r| labels[r] == l).count() as f64;
                assert!(
                    in_val > 0.0,
                    "seed {seed}: label {l} missing from validation"
                );
                assert!(
                    (in_val / total - 0.2).abs() < 0.15,
                    "seed {seed}: label {l} has {in_val}/{total} in validation"
                );
            }
        }
    }

    #[test]
    fn different_seeds_give_different_splits() {
        let (labels, groups) = synthetic(1);
        let pool: Vec<usize> = (0..labels.len()).collect();
        let a = validation_split(&pool, &labels, &groups, &names(3), 0.2, 1).unwrap();
        let b = validation_split(&pool, &labels, &groups, &names(3), 0.2, 1).unwrap();
        let c = validation_split(&pool, &labels, &groups, &names(3), 0.2, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn folds_never_share_a_group_and_cover_every_label() {
        for seed in 0..20 {
            let (labels, groups) = synthetic(seed + 100);
            let folds = stratified_group_folds(&labels, &groups, &names(3), 5, seed).unwrap();
            let mut fold_of_group: HashMap<usize, usize> = HashMap::new();
            for (r, &f) in folds.iter().enumerate() {
                let prev = *fold_of_group.entry(groups[r]).or_insert(f);
                assert_eq!(prev, f, "group {} in two folds", groups[r]);
            }
            for f in 0..5 {
                assert!(folds.contains(&f), "fold {f} empty");
                // Every label is left in the training part of every fold.
                for l in 0..3 {
                    assert!((0..labels.len()).any(|r| labels[r] == l && folds[r] != f));
                }
            }
        }
    }

    #[test]
    fn a_label_in_one_group_cannot_be_split() {
        let labels = vec![0, 0, 1, 1, 1];
        let groups = vec![0, 0, 1, 2, 3];
        let pool: Vec<usize> = (0..5).collect();
        match validation_split(&pool, &labels, &groups, &names(2), 0.2, 0) {
            Err(Error::LabelTooFewGroups { label, groups, .. }) => {
                assert_eq!(label, "l0");
                assert_eq!(groups, 1);
            }
            other => panic!("expected LabelTooFewGroups, got {other:?}"),
        }
        assert!(matches!(
            stratified_group_folds(&labels, &groups, &names(2), 6, 0),
            Err(Error::InvalidOption { name: "folds", .. })
        ));
    }
}
