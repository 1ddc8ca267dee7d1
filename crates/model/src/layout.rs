//! The feature layout as data: ordered column names and a version, compared with care.
//!
//! The feature crate owns the layout; this crate only receives it (from a table's header
//! and its `<table>.layout.json` sidecar) and stores it in every model, so that a model
//! refuses features computed differently.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Ordered feature names and the layout version they were computed with.
///
/// Serialises as the sidecar does: `{"version": N, "names": [...]}`, `version` being
/// `null` when unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// The feature crate's `LAYOUT_VERSION`, or `None` when the table came without one.
    pub version: Option<u32>,
    /// Column names in order.
    pub names: Vec<String>,
}

impl Layout {
    /// A layout from its parts.
    pub fn new(version: Option<u32>, names: Vec<String>) -> Self {
        Layout { version, names }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no features.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How `found` differs from `self` (the expected layout), or `None` when they agree.
    ///
    /// Versions are compared only when both are known: a table without a sidecar is
    /// judged by its names alone. Then the count, then the first differing name.
    pub fn difference(&self, found: &Layout) -> Option<LayoutDifference> {
        if let (Some(expected), Some(got)) = (self.version, found.version) {
            if expected != got {
                return Some(LayoutDifference::Version {
                    expected,
                    found: got,
                });
            }
        }
        if self.names.len() != found.names.len() {
            return Some(LayoutDifference::Count {
                expected: self.names.len(),
                found: found.names.len(),
            });
        }
        let (index, (expected, got)) = self
            .names
            .iter()
            .zip(&found.names)
            .enumerate()
            .find(|(_, (a, b))| a != b)?;
        Some(LayoutDifference::Name {
            index,
            expected: expected.clone(),
            found: got.clone(),
        })
    }
}

/// The first way in which two layouts differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LayoutDifference {
    /// Both versions are known and differ.
    Version { expected: u32, found: u32 },
    /// Different numbers of features.
    Count { expected: usize, found: usize },
    /// The first position (0-based) whose name differs.
    Name {
        index: usize,
        expected: String,
        found: String,
    },
}

impl fmt::Display for LayoutDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutDifference::Version { expected, found } => write!(
                f,
                "layout version {found}, expected {expected} (features computed by another version)"
            ),
            LayoutDifference::Count { expected, found } => {
                write!(f, "{found} features, expected {expected}")
            }
            LayoutDifference::Name {
                index,
                expected,
                found,
            } => write!(
                f,
                "feature {} is `{found}`, expected `{expected}`",
                index + 1
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(version: Option<u32>, names: &[&str]) -> Layout {
        Layout::new(version, names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn equal_layouts_have_no_difference() {
        let a = layout(Some(1), &["a", "b"]);
        assert_eq!(a.difference(&a.clone()), None);
        // An unknown version on either side is judged by the names.
        assert_eq!(a.difference(&layout(None, &["a", "b"])), None);
    }

    #[test]
    fn reports_version_then_count_then_first_name() {
        let a = layout(Some(1), &["a", "b", "c"]);
        assert_eq!(
            a.difference(&layout(Some(2), &["x"])),
            Some(LayoutDifference::Version {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            a.difference(&layout(Some(1), &["a", "b"])),
            Some(LayoutDifference::Count {
                expected: 3,
                found: 2
            })
        );
        let d = a.difference(&layout(None, &["a", "x", "y"])).unwrap();
        assert_eq!(
            d,
            LayoutDifference::Name {
                index: 1,
                expected: "b".into(),
                found: "x".into()
            }
        );
        assert_eq!(d.to_string(), "feature 2 is `x`, expected `b`");
    }
}
