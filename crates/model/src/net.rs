//! The network: the original project's Keras MLP, in tch.
//!
//! `Linear(n_features→128) → ReLU → Dropout(0.2) → Linear(128→128) → ReLU → Dropout(0.2)
//! → Linear(128→n_classes)`, softmax for probabilities (cross-entropy on the logits while
//! training). Layers are named by path builders: `fc1`, `fc2`, `fc3` under the path given.
//!
//! Initialisation follows Keras's `Dense` defaults, as the original used: Glorot-uniform
//! weights (`limit = sqrt(6 / (fan_in + fan_out))`), zero biases. Initial weights and
//! dropout masks are drawn from a caller-owned seeded RNG, not libtorch's global generator,
//! so that training is reproducible even when several trainings share a process.

use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use crate::error::Result;

/// The only architecture kind, as written in `model.json`.
pub const MLP_KIND: &str = "mlp";

/// Shape of the network. [`Architecture::original`] is the original project's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Always [`MLP_KIND`]: per hidden layer Linear → ReLU → Dropout, then a Linear output.
    pub kind: String,
    /// Input width (Keras `input_shape`).
    pub n_features: usize,
    /// Hidden layer widths (Keras `Dense(128)` twice: `[128, 128]`).
    pub hidden: Vec<usize>,
    /// Dropout rate after each hidden layer (Keras `Dropout(0.2)`).
    pub dropout: f64,
    /// Output width: the number of labels.
    pub n_classes: usize,
}

impl Architecture {
    /// The original: two hidden layers of 128, dropout 0.2.
    pub fn original(n_features: usize, n_classes: usize) -> Self {
        Architecture {
            kind: MLP_KIND.to_string(),
            n_features,
            hidden: vec![128, 128],
            dropout: 0.2,
            n_classes,
        }
    }

    /// Layer `(name, in, out)` triples: `fc1` … `fc{hidden.len() + 1}`.
    pub fn layers(&self) -> Vec<(String, usize, usize)> {
        let mut widths = vec![self.n_features];
        widths.extend(&self.hidden);
        widths.push(self.n_classes);
        widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| (format!("fc{}", i + 1), w[0], w[1]))
            .collect()
    }

    /// Every variable's name (relative to the network's path) and shape.
    pub fn weight_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.layers()
            .into_iter()
            .flat_map(|(name, i, o)| {
                [
                    (format!("{name}.weight"), vec![o, i]),
                    (format!("{name}.bias"), vec![o]),
                ]
            })
            .collect()
    }

    /// Why this architecture cannot be built, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        if self.kind != MLP_KIND {
            return Some(format!("unknown architecture kind `{}`", self.kind));
        }
        if self.n_features == 0 || self.n_classes == 0 || self.hidden.contains(&0) {
            return Some("layer widths must be positive".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Some(format!("dropout {} is not in [0, 1)", self.dropout));
        }
        None
    }
}

/// The MLP's layers, living in a `VarStore`.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
    dropout: f64,
}

impl Mlp {
    /// Creates the layers under `path` (`path / "fc1"` …), Glorot-uniform weights drawn
    /// from `rng`, zero biases.
    pub fn new(path: &nn::Path, arch: &Architecture, rng: &mut impl Rng) -> Result<Self> {
        let mut layers = Vec::new();
        for (name, fan_in, fan_out) in arch.layers() {
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
            let w: Vec<f32> = (0..fan_in * fan_out)
                .map(|_| rng.gen_range(-limit..limit))
                .collect();
            let w = Tensor::f_from_slice(&w)?.f_view([fan_out as i64, fan_in as i64])?;
            let b = Tensor::f_zeros([fan_out as i64], (Kind::Float, tch::Device::Cpu))?;
            let p = path / name.as_str();
            let ws = p.f_var_copy("weight", &w)?;
            let bs = p.f_var_copy("bias", &b)?;
            layers.push(nn::Linear { ws, bs: Some(bs) });
        }
        Ok(Mlp {
            layers,
            dropout: arch.dropout,
        })
    }

    /// Creates the layers under `path` with the given values, keyed by their name relative
    /// to `path` (`fc1.weight` …). Shapes must have been checked by the caller; a missing
    /// or misshapen tensor is a libtorch error, not a panic.
    pub fn from_weights(
        path: &nn::Path,
        arch: &Architecture,
        weights: &std::collections::HashMap<String, &Tensor>,
    ) -> Result<Self> {
        let mut layers = Vec::new();
        for (name, _, _) in arch.layers() {
            let p = path / name.as_str();
            let get = |kind: &str| {
                weights.get(&format!("{name}.{kind}")).ok_or_else(|| {
                    crate::error::Error::Torch(tch::TchError::TensorNameNotFound(
                        format!("{name}.{kind}"),
                        "the weights".into(),
                    ))
                })
            };
            let ws = p.f_var_copy("weight", get("weight")?)?;
            let bs = p.f_var_copy("bias", get("bias")?)?;
            layers.push(nn::Linear { ws, bs: Some(bs) });
        }
        Ok(Mlp {
            layers,
            dropout: arch.dropout,
        })
    }

    /// Logits for a batch `[n, n_features]`, inference mode (no dropout).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.run(xs, None::<&mut rand_chacha::ChaCha8Rng>)
    }

    /// Logits with dropout masks drawn from `rng` (training mode; inverted dropout, so
    /// inference needs no rescaling).
    pub fn forward_train(&self, xs: &Tensor, rng: &mut impl Rng) -> Result<Tensor> {
        self.run(xs, Some(rng))
    }

    fn run<R: Rng>(&self, xs: &Tensor, mut rng: Option<&mut R>) -> Result<Tensor> {
        let mut h = xs.shallow_clone();
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = h.f_linear(&layer.ws, layer.bs.as_ref())?;
            if i == last {
                break;
            }
            h = h.f_relu()?;
            if let Some(rng) = rng.as_deref_mut() {
                if self.dropout > 0.0 {
                    let keep = 1.0 - self.dropout;
                    let scale = (1.0 / keep) as f32;
                    let size = h.size();
                    let n = size.iter().product::<i64>() as usize;
                    let mask: Vec<f32> = (0..n)
                        .map(|_| if rng.gen::<f64>() < keep { scale } else { 0.0 })
                        .collect();
                    let mask = Tensor::f_from_slice(&mask)?.f_view(size.as_slice())?;
                    h = h.f_mul(&mask)?;
                }
            }
        }
        Ok(h)
    }
}
