//! [`Frames`]: a matrix of per-frame values, the currency between feature kernels.

/// `n_rows` values for each of `n_frames` frames, stored frame-major:
/// `data[frame * n_rows + row]`.
///
/// Rows are what librosa puts on its first axis (frequency bins, mel bands, chroma
/// classes, coefficients); frames are its last axis. Frame-major storage keeps one
/// frame's values together, which is how every per-frame kernel reads and writes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frames {
    pub n_rows: usize,
    pub n_frames: usize,
    pub data: Vec<f32>,
}

impl Frames {
    /// A zero-filled matrix.
    pub fn zeros(n_rows: usize, n_frames: usize) -> Self {
        Frames {
            n_rows,
            n_frames,
            data: vec![0.0; n_rows * n_frames],
        }
    }

    /// Resizes to `n_rows x n_frames`, keeping the allocation when it is large enough.
    /// Contents are unspecified afterwards (zero where newly grown).
    pub fn reshape(&mut self, n_rows: usize, n_frames: usize) {
        self.n_rows = n_rows;
        self.n_frames = n_frames;
        self.data.resize(n_rows * n_frames, 0.0);
    }

    /// The values of one frame.
    pub fn frame(&self, frame: usize) -> &[f32] {
        &self.data[frame * self.n_rows..(frame + 1) * self.n_rows]
    }

    /// The values of one frame, mutably.
    pub fn frame_mut(&mut self, frame: usize) -> &mut [f32] {
        &mut self.data[frame * self.n_rows..(frame + 1) * self.n_rows]
    }

    /// One value.
    pub fn get(&self, row: usize, frame: usize) -> f32 {
        self.data[frame * self.n_rows + row]
    }

    /// The values of one row across frames (strided).
    pub fn row(&self, row: usize) -> impl ExactSizeIterator<Item = f32> + '_ {
        self.data
            .iter()
            .skip(row)
            .step_by(self.n_rows.max(1))
            .take(self.n_frames)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_and_frame_views_agree() {
        let mut m = Frames::zeros(3, 4);
        for f in 0..4 {
            for r in 0..3 {
                m.frame_mut(f)[r] = (10 * r + f) as f32;
            }
        }
        assert_eq!(m.row(2).collect::<Vec<_>>(), vec![20.0, 21.0, 22.0, 23.0]);
        assert_eq!(m.frame(1), &[1.0, 11.0, 21.0]);
        assert_eq!(m.get(1, 3), 13.0);
    }
}
