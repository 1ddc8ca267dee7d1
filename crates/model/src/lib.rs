//! The genre MLP in libtorch: training, evaluation and model files.

#[cfg(test)]
mod tests {
    #[test]
    fn libtorch_loads() {
        let t = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        assert_eq!(t.sum(tch::Kind::Float).double_value(&[]), 6.0);
    }
}
