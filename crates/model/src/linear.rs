//! The linear baseline: multinomial logistic regression on standardised features, in tch.
//!
//! Mirrors scikit-learn's `LogisticRegression(C=1, solver="lbfgs")`: multinomial, L2 on the
//! weights but not the intercept, objective `mean cross-entropy + ‖W‖² / (2·C·n)` (what
//! sklearn ≥ 1.1 minimises), solved with L-BFGS (memory 10, Armijo backtracking) from zero
//! weights, so it has no randomness. It stops when the largest gradient component is at
//! most `tolerance` (sklearn's `tol`, 1e-4), when the objective stops changing, or after
//! `max_iter` iterations. Objective and gradient are computed in f64 with libtorch.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::scaler::Scaler;
use crate::table::FeatureTable;

/// Settings of the logistic regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogRegOptions {
    /// Inverse regularisation strength (sklearn `C`). Default 1.
    pub c: f64,
    /// Maximum L-BFGS iterations. Default 1000 (sklearn: 100, often not converged).
    pub max_iter: usize,
    /// Stop when every gradient component is at most this (sklearn `tol`). Default 1e-4.
    pub tolerance: f64,
}

impl Default for LogRegOptions {
    fn default() -> Self {
        LogRegOptions {
            c: 1.0,
            max_iter: 1000,
            tolerance: 1e-4,
        }
    }
}

/// A fitted logistic regression with its own scaler.
#[derive(Debug)]
pub struct LogisticRegression {
    scaler: Scaler,
    /// `[n_features, n_classes]`, f64.
    weight: Tensor,
    /// `[n_classes]`, f64.
    bias: Tensor,
    /// L-BFGS iterations taken.
    pub iterations: usize,
    /// Final objective value.
    pub objective: f64,
    /// Largest gradient component at the end.
    pub gradient_max: f64,
    /// True when it stopped on `tolerance` (or a stalled objective), not on `max_iter`.
    pub converged: bool,
}

fn scaled(table: &FeatureTable, rows: &[usize], scaler: &Scaler) -> Result<Tensor> {
    let d = table.n_features();
    let mut x = Vec::with_capacity(rows.len() * d);
    for &r in rows {
        scaler.transform_into(table.row_values(r), &mut x);
    }
    let x: Vec<f64> = x.into_iter().map(f64::from).collect();
    Ok(Tensor::f_from_slice(&x)?.f_view([rows.len() as i64, d as i64])?)
}

/// Objective and gradient at `theta` = [W row-major (d×k), b (k)].
struct Problem {
    x: Tensor,
    onehot: Tensor,
    target: Tensor,
    d: i64,
    k: i64,
    n: f64,
    lambda: f64,
}

impl Problem {
    fn split(&self, theta: &[f64]) -> Result<(Tensor, Tensor)> {
        let dk = (self.d * self.k) as usize;
        let w = Tensor::f_from_slice(&theta[..dk])?.f_view([self.d, self.k])?;
        let b = Tensor::f_from_slice(&theta[dk..])?;
        Ok((w, b))
    }

    fn eval(&self, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
        let (w, b) = self.split(theta)?;
        let z = self.x.f_mm(&w)?.f_add(&b)?;
        let log_p = z.f_log_softmax(-1, Kind::Double)?;
        let nll = log_p
            .f_gather(1, &self.target.f_unsqueeze(1)?, false)?
            .f_sum(Kind::Double)?
            .f_double_value(&[])?;
        let w_sq = w.f_square()?.f_sum(Kind::Double)?.f_double_value(&[])?;
        let f = -nll / self.n + 0.5 * self.lambda * w_sq;
        let g = log_p.f_exp()?.f_sub(&self.onehot)?.f_div_scalar(self.n)?;
        let gw = self
            .x
            .f_tr()?
            .f_mm(&g)?
            .f_add(&w.f_mul_scalar(self.lambda)?)?;
        let gb = g.f_sum_dim_intlist(0, false, Kind::Double)?;
        let mut grad = Vec::<f64>::try_from(&gw.f_contiguous()?.f_view(-1)?)?;
        grad.extend(Vec::<f64>::try_from(&gb)?);
        Ok((f, grad))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl LogisticRegression {
    /// Fits on `rows` of `table` with labels `y[r]` (indexed by table row) in
    /// `0..n_classes`.
    pub fn fit(
        table: &FeatureTable,
        rows: &[usize],
        y: &[usize],
        n_classes: usize,
        options: &LogRegOptions,
    ) -> Result<Self> {
        if !(options.c.is_finite() && options.c > 0.0) {
            return Err(Error::InvalidOption {
                name: "c",
                value: options.c.to_string(),
                expected: "a positive number",
            });
        }
        if rows.is_empty() {
            return Err(Error::EmptyTable {
                path: table.source().into(),
            });
        }
        let _guard = tch::no_grad_guard();
        let d = table.n_features() as i64;
        let k = n_classes as i64;
        let scaler = Scaler::fit(table.values(), table.n_features(), rows, false);
        let x = scaled(table, rows, &scaler)?;
        let labels: Vec<i64> = rows.iter().map(|&r| y[r] as i64).collect();
        let target = Tensor::f_from_slice(&labels)?;
        let onehot = target.f_one_hot(k)?.f_to_kind(Kind::Double)?;
        let n = rows.len() as f64;
        let problem = Problem {
            x,
            onehot,
            target,
            d,
            k,
            n,
            lambda: 1.0 / (options.c * n),
        };

        const MEMORY: usize = 10;
        let mut theta = vec![0f64; (d * k + k) as usize];
        let (mut f, mut g) = problem.eval(&theta)?;
        let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
            std::collections::VecDeque::new();
        let mut iterations = 0;
        let mut converged = false;
        let g_max = |g: &[f64]| g.iter().fold(0f64, |m, v| m.max(v.abs()));
        while iterations < options.max_iter {
            if g_max(&g) <= options.tolerance {
                converged = true;
                break;
            }
            // Two-loop recursion: direction = −H·g.
            let mut q = g.clone();
            let mut alphas = Vec::with_capacity(history.len());
            for (s, yv, rho) in history.iter().rev() {
                let a = rho * dot(s, &q);
                for (qi, yi) in q.iter_mut().zip(yv) {
                    *qi -= a * yi;
                }
                alphas.push(a);
            }
            let gamma = match history.back() {
                Some((s, yv, _)) => dot(s, yv) / dot(yv, yv),
                // First step: unit length in the gradient direction at most.
                None => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0),
            };
            for v in q.iter_mut() {
                *v *= gamma;
            }
            for ((s, yv, rho), a) in history.iter().zip(alphas.iter().rev()) {
                let beta = rho * dot(yv, &q);
                for (qi, si) in q.iter_mut().zip(s) {
                    *qi += (a - beta) * si;
                }
            }
            let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
            let mut slope = dot(&g, &dir);
            if slope >= 0.0 {
                // Not a descent direction: restart from steepest descent.
                history.clear();
                dir = g.iter().map(|v| -v).collect();
                slope = dot(&g, &dir);
            }
            // Armijo backtracking.
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..50 {
                let candidate: Vec<f64> =
                    theta.iter().zip(&dir).map(|(x, dx)| x + t * dx).collect();
                let (f_new, g_new) = problem.eval(&candidate)?;
                if f_new.is_finite() && f_new <= f + 1e-4 * t * slope {
                    accepted = Some((candidate, f_new, g_new));
                    break;
                }
                t *= 0.5;
            }
            iterations += 1;
            let Some((theta_new, f_new, g_new)) = accepted else {
                converged = true; // no decrease possible at float precision
                break;
            };
            let s: Vec<f64> = theta_new.iter().zip(&theta).map(|(a, b)| a - b).collect();
            let yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &yv);
            if sy > 1e-12 {
                history.push_back((s, yv, 1.0 / sy));
                if history.len() > MEMORY {
                    history.pop_front();
                }
            }
            let stalled = (f - f_new).abs() <= 1e-14 * f.abs().max(f_new.abs()).max(1.0);
            theta = theta_new;
            f = f_new;
            g = g_new;
            if stalled {
                converged = true;
                break;
            }
        }
        if g_max(&g) <= options.tolerance {
            converged = true;
        }
        let (weight, bias) = problem.split(&theta)?;
        Ok(LogisticRegression {
            scaler,
            weight,
            bias,
            iterations,
            objective: f,
            gradient_max: g_max(&g),
            converged,
        })
    }

    /// Class probabilities of `rows` of `table`.
    pub fn predict_proba(&self, table: &FeatureTable, rows: &[usize]) -> Result<Vec<Vec<f32>>> {
        let _guard = tch::no_grad_guard();
        let x = scaled(table, rows, &self.scaler)?;
        let probs = x
            .f_mm(&self.weight)?
            .f_add(&self.bias)?
            .f_softmax(-1, Kind::Float)?;
        Ok(Vec::<Vec<f32>>::try_from(&probs)?)
    }
}
