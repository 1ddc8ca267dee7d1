//! Generated data for the tests: Gaussian blobs, one per label, with artists and windows.

use std::path::Path;

use musicgenre_model::{FeatureTable, Layout, RowInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to generate a blob table.
#[derive(Clone, Debug)]
pub struct Blobs {
    pub labels: usize,
    pub files_per_label: usize,
    pub features: usize,
    /// Artists per label (file i of a label belongs to artist i % artists).
    pub artists_per_label: usize,
    pub windows_per_file: usize,
    /// Distance of the centres from the origin, in noise standard deviations.
    pub separation: f32,
    pub seed: u64,
}

impl Default for Blobs {
    fn default() -> Self {
        Blobs {
            labels: 4,
            files_per_label: 12,
            features: 8,
            artists_per_label: 4,
            windows_per_file: 1,
            separation: 6.0,
            seed: 7,
        }
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

pub fn feature_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("feat.mean.{:02}", i + 1)).collect()
}

pub fn label_name(l: usize) -> String {
    ["classical", "electronic", "pop", "rock", "jazz", "folk"]
        .get(l)
        .map_or_else(|| format!("genre{l}"), |s| s.to_string())
}

impl Blobs {
    /// The table: label l's centre is `separation` along axis l (mod features) plus a
    /// constant offset of 100 and a feature scale that grows with the index (so the
    /// scaler matters); one extra constant column tests zero variance.
    pub fn table(&self) -> FeatureTable {
        single_thread();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let d = self.features;
        let mut rows = Vec::new();
        let mut values = Vec::new();
        for l in 0..self.labels {
            for f in 0..self.files_per_label {
                let file_point: Vec<f32> = (0..d)
                    .map(|j| {
                        let centre = if j == l % d { self.separation } else { 0.0 };
                        centre + 0.5 * normal(&mut rng)
                    })
                    .collect();
                for w in 0..self.windows_per_file {
                    rows.push(RowInfo {
                        path: format!("{}/{f:02}.mp3", label_name(l)),
                        label: Some(label_name(l)),
                        artist: Some(format!(
                            "{}-artist{}",
                            label_name(l),
                            f % self.artists_per_label
                        )),
                        start_s: w as f64 * 3.0,
                        duration_s: 3.0,
                    });
                    for (j, p) in file_point.iter().enumerate() {
                        let scale = (j + 1) as f32;
                        let v = if j == d - 1 {
                            42.0 // constant column
                        } else {
                            100.0 + scale * (p + 0.5 * normal(&mut rng))
                        };
                        values.push(v);
                    }
                }
            }
        }
        FeatureTable::from_parts(Layout::new(Some(1), feature_names(d)), rows, values)
            .expect("generated table is valid")
    }
}

/// Writes `table` as a feature table CSV (the `features` command's format).
pub fn write_csv(table: &FeatureTable, path: &Path) {
    let mut text = String::from("path,label,artist,start_s,duration_s");
    for name in &table.layout().names {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for (i, row) in table.rows().iter().enumerate() {
        text.push_str(&format!(
            "{},{},{},{},{}",
            row.path,
            row.label.clone().unwrap_or_default(),
            row.artist.clone().unwrap_or_default(),
            row.start_s,
            row.duration_s
        ));
        for v in table.row_values(i) {
            text.push_str(&format!(",{v}"));
        }
        text.push('\n');
    }
    std::fs::write(path, text).expect("write table");
}

/// libtorch on one thread: these tensors are tiny and the test threads share few cores.
pub fn single_thread() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| musicgenre_model::set_torch_threads(1));
}

/// Quiet progress callback.
pub fn quiet(_: &musicgenre_model::Progress) {}
