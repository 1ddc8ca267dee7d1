//! Model files: a folder with `model.safetensors` (weights) and `model.json` (everything
//! else), loaded with every part checked, from disk or from bytes embedded in a binary.
//!
//! Weights are named `member{i}.fc{j}.{weight,bias}` (path builders: `vs.root() /
//! "member0" / "fc1"`), f32, one set per ensemble member. `model.json` holds the format
//! version, labels, feature layout (names + version), the caller's feature settings, the
//! scaler, the segment length used in training, the architecture and the training record
//! (options, split, final metrics, per-epoch history).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::net::{Architecture, Mlp};
use crate::predict::{decide_files, TablePrediction};
use crate::scaler::Scaler;
use crate::table::FeatureTable;
use crate::train::{ensemble_probabilities, TrainingRecord};

/// The `model.json` format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// File name of the description inside a model folder.
pub const MODEL_JSON: &str = "model.json";
/// File name of the weights inside a model folder.
pub const MODEL_WEIGHTS: &str = "model.safetensors";

/// Rows per forward pass when predicting, to bound memory on large tables.
const PREDICT_CHUNK: usize = 4096;

/// The content of `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Output classes, in output order.
    pub labels: Vec<String>,
    /// The feature layout the model expects.
    pub features: Layout,
    /// Feature extraction settings, as the caller gave them (opaque to this crate).
    #[serde(default)]
    pub feature_settings: serde_json::Value,
    /// Window length the training table was cut into, seconds; `None` for whole clips.
    pub segment_seconds: Option<f64>,
    /// Standardisation fitted on the training split.
    pub scaler: Scaler,
    pub architecture: Architecture,
    /// Number of networks whose probabilities are averaged.
    pub ensemble_size: usize,
    /// Options, split, final metrics and per-epoch history.
    pub training: TrainingRecord,
}

/// One network of the ensemble and the store that owns its weights.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) vs: nn::VarStore,
    pub(crate) net: Mlp,
}

/// A trained model: description plus one or more networks.
///
/// `Send` but not `Sync` (libtorch tensors): share one per thread, or behind a mutex.
#[derive(Debug)]
pub struct Model {
    info: ModelInfo,
    members: Vec<Member>,
}

impl Model {
    pub(crate) fn from_parts(info: ModelInfo, members: Vec<Member>) -> Self {
        Model { info, members }
    }

    /// The description (what `model.json` holds).
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Output labels, in probability order.
    pub fn labels(&self) -> &[String] {
        &self.info.labels
    }

    /// The feature layout the model expects.
    pub fn layout(&self) -> &Layout {
        &self.info.features
    }

    /// Stores the feature extraction settings (any JSON) in the model.
    pub fn set_feature_settings(&mut self, settings: serde_json::Value) {
        self.info.feature_settings = settings;
    }

    /// Stores the window length the training table used (`None`: whole clips).
    pub fn set_segment_seconds(&mut self, seconds: Option<f64>) {
        self.info.segment_seconds = seconds;
    }

    /// Every weight tensor with its file name (`member0.fc1.weight` …), sorted by name.
    pub fn named_weights(&self) -> Vec<(String, Tensor)> {
        let mut all: Vec<(String, Tensor)> =
            self.members.iter().flat_map(|m| m.vs.variables()).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Refuses features whose layout differs from the model's, saying how.
    pub fn check_layout(&self, features: &Layout) -> Result<()> {
        match self.info.features.difference(features) {
            None => Ok(()),
            Some(difference) => Err(Error::LayoutMismatch { difference }),
        }
    }

    /// Writes `model.json` and `model.safetensors` into `dir`, creating it if needed.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (json, weights) = self.to_bytes()?;
        let json_path = dir.join(MODEL_JSON);
        std::fs::write(&json_path, json).map_err(|e| Error::io(&json_path, e))?;
        let weights_path = dir.join(MODEL_WEIGHTS);
        std::fs::write(&weights_path, weights).map_err(|e| Error::io(&weights_path, e))?;
        Ok(())
    }

    /// The two files' contents: (`model.json`, `model.safetensors`).
    pub fn to_bytes(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut json = serde_json::to_vec_pretty(&self.info).map_err(|e| Error::BadModelJson {
            path: MODEL_JSON.into(),
            message: e.to_string(),
        })?;
        json.push(b'\n');
        let named = self.named_weights();
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(named.len());
        for (name, t) in &named {
            let shape: Vec<usize> = t.size().iter().map(|&s| s as usize).collect();
            let values = Vec::<f32>::try_from(&t.f_detach()?.f_contiguous()?.f_view(-1)?)?;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            buffers.push((name.clone(), shape, bytes));
        }
        let views = buffers
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| Error::CorruptWeights {
                        path: MODEL_WEIGHTS.into(),
                        message: format!("{e:?}"),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let weights =
            safetensors::tensor::serialize(views, &None).map_err(|e| Error::CorruptWeights {
                path: MODEL_WEIGHTS.into(),
                message: format!("{e:?}"),
            })?;
        Ok((json, weights))
    }

    /// Loads a model folder.
    pub fn load(dir: impl AsRef<Path>) -> Result<Model> {
        let dir = dir.as_ref();
        if dir.exists() && !dir.is_dir() {
            return Err(Error::io(
                dir,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "is a file; a model is a folder (model.json, model.safetensors)",
                ),
            ));
        }
        if !dir.is_dir() {
            return Err(Error::NotFound { path: dir.into() });
        }
        let json_path = dir.join(MODEL_JSON);
        let json = std::fs::read(&json_path).map_err(|e| Error::io(&json_path, e))?;
        let weights_path = dir.join(MODEL_WEIGHTS);
        let weights = std::fs::read(&weights_path).map_err(|e| Error::io(&weights_path, e))?;
        Self::from_bytes_named(&json, &json_path, &weights, &weights_path)
    }

    /// Loads a model from the two files' contents (e.g. `include_bytes!` of a bundled
    /// model). Errors name the files as `model.json` and `model.safetensors`.
    pub fn from_bytes(json: &[u8], weights: &[u8]) -> Result<Model> {
        Self::from_bytes_named(
            json,
            Path::new(MODEL_JSON),
            weights,
            Path::new(MODEL_WEIGHTS),
        )
    }

    fn from_bytes_named(
        json: &[u8],
        json_path: &Path,
        weights: &[u8],
        weights_path: &Path,
    ) -> Result<Model> {
        let info = parse_info(json, json_path)?;
        let tensors = parse_weights(&info, weights, weights_path)?;
        let mut members = Vec::with_capacity(info.ensemble_size);
        for m in 0..info.ensemble_size {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let prefix = format!("member{m}.");
            let mine: HashMap<String, &Tensor> = tensors
                .iter()
                .filter_map(|(k, t)| k.strip_prefix(&prefix).map(|rest| (rest.to_string(), t)))
                .collect();
            let net = Mlp::from_weights(
                &(vs.root() / format!("member{m}")),
                &info.architecture,
                &mine,
            )?;
            members.push(Member { vs, net });
        }
        Ok(Model { info, members })
    }

    /// Class probabilities for each row of raw (unscaled) features, in the order of
    /// [`Model::labels`]; the ensemble's softmax outputs averaged.
    ///
    /// Errors: a row of the wrong length, a NaN or infinite value.
    pub fn predict_proba<R: AsRef<[f32]>>(&self, rows: &[R]) -> Result<Vec<Vec<f32>>> {
        let d = self.info.architecture.n_features;
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != d {
                return Err(Error::FeatureCount {
                    row: i,
                    expected: d,
                    found: row.len(),
                });
            }
            if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFiniteInput {
                    row: i,
                    column: self.info.features.names.get(j).cloned().unwrap_or_default(),
                    value: row[j],
                });
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(PREDICT_CHUNK) {
            let mut x = Vec::with_capacity(chunk.len() * d);
            for row in chunk {
                self.info.scaler.transform_into(row.as_ref(), &mut x);
            }
            let x = Tensor::f_from_slice(&x)?.f_view([chunk.len() as i64, d as i64])?;
            let probs = ensemble_probabilities(&self.members, &x)?;
            out.extend(Vec::<Vec<f32>>::try_from(&probs)?);
        }
        Ok(out)
    }

    /// Probabilities for every row of `table` and a decision per file (windows averaged).
    /// Refuses a table whose layout differs from the model's.
    pub fn predict_table(&self, table: &FeatureTable) -> Result<TablePrediction> {
        self.check_layout(table.layout())?;
        let rows: Vec<&[f32]> = (0..table.n_rows()).map(|i| table.row_values(i)).collect();
        let probs = self.predict_proba(&rows)?;
        let paths: Vec<&str> = table.rows().iter().map(|r| r.path.as_str()).collect();
        let files = decide_files(&paths, &probs, &self.info.labels);
        Ok(TablePrediction {
            labels: self.info.labels.clone(),
            rows: probs,
            files,
        })
    }
}

fn bad_json(path: &Path, message: impl Into<String>) -> Error {
    Error::BadModelJson {
        path: path.into(),
        message: message.into(),
    }
}

fn parse_info(json: &[u8], path: &Path) -> Result<ModelInfo> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| bad_json(path, e.to_string()))?;
    // The version first, so that a newer format is reported as such, not as a parse error.
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| bad_json(path, "no `format_version` number"))?;
    if version != u64::from(FORMAT_VERSION) {
        return Err(Error::UnsupportedFormat {
            path: path.into(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
            supported: FORMAT_VERSION,
        });
    }
    let info: ModelInfo =
        serde_json::from_value(value).map_err(|e| bad_json(path, e.to_string()))?;
    let arch = &info.architecture;
    if let Some(problem) = arch.problem() {
        return Err(bad_json(path, problem));
    }
    if info.labels.len() != arch.n_classes {
        return Err(bad_json(
            path,
            format!(
                "{} labels for {} outputs",
                info.labels.len(),
                arch.n_classes
            ),
        ));
    }
    if info.labels.iter().collect::<HashSet<_>>().len() != info.labels.len() {
        return Err(bad_json(path, "duplicate labels"));
    }
    if info.features.len() != arch.n_features {
        return Err(bad_json(
            path,
            format!(
                "{} feature names for {} inputs",
                info.features.len(),
                arch.n_features
            ),
        ));
    }
    let s = &info.scaler;
    if s.mean.len() != arch.n_features || s.std.len() != arch.n_features {
        return Err(bad_json(
            path,
            format!(
                "scaler has {} means and {} stds for {} inputs",
                s.mean.len(),
                s.std.len(),
                arch.n_features
            ),
        ));
    }
    if s.mean.iter().any(|m| !m.is_finite()) || s.std.iter().any(|d| !(d.is_finite() && *d > 0.0)) {
        return Err(bad_json(
            path,
            "scaler has non-finite means or non-positive stds",
        ));
    }
    if info.ensemble_size == 0 {
        return Err(bad_json(path, "ensemble_size is 0"));
    }
    if let Some(seg) = info.segment_seconds {
        if !(seg.is_finite() && seg > 0.0) {
            return Err(bad_json(
                path,
                format!("segment_seconds {seg} is not positive"),
            ));
        }
    }
    Ok(info)
}

fn parse_weights(info: &ModelInfo, bytes: &[u8], path: &Path) -> Result<HashMap<String, Tensor>> {
    let corrupt = |message: String| Error::CorruptWeights {
        path: PathBuf::from(path),
        message,
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let mut expected: HashMap<String, Vec<usize>> = HashMap::new();
    for m in 0..info.ensemble_size {
        for (name, shape) in info.architecture.weight_shapes() {
            expected.insert(format!("member{m}.{name}"), shape);
        }
    }
    let mut names: Vec<&String> = st.names();
    names.sort();
    if let Some(extra) = names.iter().find(|n| !expected.contains_key(n.as_str())) {
        return Err(Error::UnexpectedWeight {
            path: path.into(),
            name: extra.to_string(),
        });
    }
    let mut wanted: Vec<(&String, &Vec<usize>)> = expected.iter().collect();
    wanted.sort();
    let mut out = HashMap::new();
    for (name, shape) in wanted {
        let view = st.tensor(name).map_err(|_| Error::MissingWeight {
            path: path.into(),
            name: name.clone(),
        })?;
        if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
            return Err(Error::WeightShape {
                path: path.into(),
                name: name.clone(),
                expected: shape.clone(),
                found: format!("{:?} {:?}", view.dtype(), view.shape()),
            });
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(corrupt(format!("weight `{name}` has non-finite values")));
        }
        let dims: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
        out.insert(
            name.clone(),
            Tensor::f_from_slice(&values)?.f_view(dims.as_slice())?,
        );
    }
    Ok(out)
}
