//! The feature layout: the ordered, versioned list of the 518 column names.
//!
//! This is the contract between feature tables and models. The order is that of the FMA
//! dataset's `features.csv`: features alphabetically, then statistics alphabetically,
//! then row number from 01, named `{feature}.{statistic}.{NN}` (e.g. `mfcc.mean.01`).
//! Any change to what a column means bumps [`LAYOUT_VERSION`].

/// Version of the layout (names, order and the computation behind them).
pub const LAYOUT_VERSION: u32 = 1;

/// Each feature family and its number of rows (per-frame values), alphabetically.
pub const FEATURES: [(&str, usize); 11] = [
    ("chroma_cens", 12),
    ("chroma_cqt", 12),
    ("chroma_stft", 12),
    ("mfcc", 20),
    ("rmse", 1),
    ("spectral_bandwidth", 1),
    ("spectral_centroid", 1),
    ("spectral_contrast", 7),
    ("spectral_rolloff", 1),
    ("tonnetz", 6),
    ("zcr", 1),
];

/// The seven statistics taken over frames, alphabetically.
pub const STATISTICS: [&str; 7] = ["kurtosis", "max", "mean", "median", "min", "skew", "std"];

/// Number of per-frame rows over all families (74).
pub const N_ROWS: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < FEATURES.len() {
        n += FEATURES[i].1;
        i += 1;
    }
    n
};

/// Number of columns in a feature vector (518).
pub const N_FEATURES: usize = N_ROWS * STATISTICS.len();

/// The 518 column names in layout order.
pub fn feature_names() -> Vec<String> {
    let mut names = Vec::with_capacity(N_FEATURES);
    for (feature, rows) in FEATURES {
        for stat in STATISTICS {
            for row in 1..=rows {
                names.push(format!("{feature}.{stat}.{row:02}"));
            }
        }
    }
    names
}

/// Index of the first column of `feature`'s `statistic` block, or `None` if unknown.
pub fn column_index(feature: &str, statistic: &str) -> Option<usize> {
    let stat = STATISTICS.iter().position(|s| *s == statistic)?;
    let mut start = 0;
    for (name, rows) in FEATURES {
        if name == feature {
            return Some(start + stat * rows);
        }
        start += rows * STATISTICS.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_518_unique_names_in_fma_order() {
        let names = feature_names();
        assert_eq!(names.len(), 518);
        assert_eq!(N_FEATURES, 518);
        assert_eq!(names[0], "chroma_cens.kurtosis.01");
        assert_eq!(names[11], "chroma_cens.kurtosis.12");
        assert_eq!(names[12], "chroma_cens.max.01");
        assert_eq!(names[517], "zcr.std.01");
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 518);
    }

    #[test]
    fn column_index_points_at_the_name() {
        let names = feature_names();
        let i = column_index("mfcc", "mean").unwrap();
        assert_eq!(names[i], "mfcc.mean.01");
        assert_eq!(
            names[column_index("tonnetz", "std").unwrap() + 5],
            "tonnetz.std.06"
        );
        assert_eq!(column_index("mfcc", "mode"), None);
    }

    #[test]
    fn matches_the_librosa_fixture_layout() {
        let text = include_str!("../tests/fixtures/layout.txt");
        let fixture: Vec<&str> = text.lines().collect();
        assert_eq!(fixture, feature_names());
    }
}
