//! The crate's error type: one enum, structured fields, and whether the caller can recover.

use std::path::PathBuf;

use crate::layout::LayoutDifference;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
///
/// `line` fields are 1-based lines of the CSV file (the header is line 1); `column` fields
/// name the column as its header does. Unless a variant says otherwise, the operation that
/// returned it did nothing: the caller may fix the input and try again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder does not exist.
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },

    /// Reading or writing a file failed for another reason. The message includes the
    /// I/O error's, so it is not also given as `source()` (which printed it twice in an
    /// error chain).
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    /// The CSV itself could not be parsed (bad quoting, invalid UTF-8, ...).
    #[error("{path}:{line}: not valid CSV: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// The header is not that of a feature table (or of a groups file).
    #[error("{path}: not a {what}: header column {index} should be `{expected}`, found `{found}`")]
    BadHeader {
        path: PathBuf,
        /// "feature table" or "groups file".
        what: &'static str,
        /// 1-based column number.
        index: usize,
        expected: String,
        found: String,
    },

    /// The header has the metadata columns but no feature column after them.
    #[error("{path}: the header has no feature columns after `duration_s`")]
    NoFeatureColumns { path: PathBuf },

    /// A column name appears twice in the header.
    #[error("{path}: column `{name}` appears twice (columns {first} and {second})")]
    DuplicateColumn {
        path: PathBuf,
        name: String,
        first: usize,
        second: usize,
    },

    /// A row has a different number of fields than the header.
    #[error("{path}:{line}: expected {expected} fields as in the header, found {found}")]
    RaggedRow {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },

    /// A numeric field does not parse as a number.
    #[error("{path}:{line}: column `{column}`: `{found}` is not a number")]
    NotANumber {
        path: PathBuf,
        line: u64,
        column: String,
        found: String,
    },

    /// A numeric field is NaN or infinite (or overflows f32).
    #[error("{path}:{line}: column `{column}`: `{found}` is not finite")]
    NonFinite {
        path: PathBuf,
        line: u64,
        column: String,
        found: String,
    },

    /// The table has a header but no data rows (or the file is empty).
    #[error("{path}: the table has no rows")]
    EmptyTable { path: PathBuf },

    /// A row has an empty `label` where a labelled table is needed (training, evaluation).
    #[error("{path}:{line}: the row has no label (training and evaluation need one per row)")]
    MissingLabel { path: PathBuf, line: u64 },

    /// The layout sidecar (`<table>.layout.json`) does not parse.
    #[error("{path}: not a feature layout file: {message}")]
    BadLayoutFile { path: PathBuf, message: String },

    /// The layout sidecar disagrees with the table's own header.
    #[error("{path}: the layout file does not match the table's header: {difference}")]
    LayoutFileMismatch {
        path: PathBuf,
        difference: LayoutDifference,
    },

    /// Features do not have the layout the model was trained on.
    #[error("the features do not match the model's: {difference}")]
    LayoutMismatch { difference: LayoutDifference },

    /// Training needs at least two labels.
    #[error("training needs at least 2 labels, found {found}: {labels:?}")]
    TooFewLabels { found: usize, labels: Vec<String> },

    /// A label cannot appear on both sides of a split because too few groups
    /// (artists, or files) carry it.
    #[error(
        "label `{label}` has rows in only {groups} group(s) (artists or files); \
         splitting needs at least {needed} so that no group is on both sides"
    )]
    LabelTooFewGroups {
        label: String,
        groups: usize,
        needed: usize,
    },

    /// In cross-validation, one fold's training part has too few groups of a label left
    /// for the validation split inside it (the table as a whole has enough).
    #[error(
        "fold {fold} of {folds}: its training part has label `{label}` in only {groups} \
         group(s), too few to split off a validation part; use more folds, or a validation \
         fraction of 0"
    )]
    FoldTooFewGroups {
        /// 1-based.
        fold: usize,
        folds: usize,
        label: String,
        groups: usize,
    },

    /// Groups that mix labels make it impossible to put this label on both sides of a
    /// split without cutting a group. Use a groups file with finer groups.
    #[error(
        "cannot place label `{label}` on both sides of the split without putting a group \
         (artist or file) on both sides"
    )]
    CannotStratify { label: String },

    /// The table has labels the model does not know.
    #[error(
        "the table has labels the model does not know: {labels:?} (the model knows {known:?})"
    )]
    UnknownLabels {
        labels: Vec<String>,
        known: Vec<String>,
    },

    /// A row's file is not in the groups file.
    #[error("{groups_file}: no group for `{path}` ({missing} of the table's files are missing)")]
    GroupMissing {
        groups_file: PathBuf,
        path: String,
        missing: usize,
    },

    /// The groups file gives one path two different groups.
    #[error("{path}:{line}: `{file}` already has group `{first}`, here `{second}`")]
    ConflictingGroup {
        path: PathBuf,
        line: u64,
        file: String,
        first: String,
        second: String,
    },

    /// An option is out of range.
    #[error("option `{name}` = {value}: expected {expected}")]
    InvalidOption {
        name: &'static str,
        value: String,
        expected: &'static str,
    },

    /// Input rows for prediction have the wrong number of values.
    #[error("row {row}: expected {expected} feature values, found {found}")]
    FeatureCount {
        row: usize,
        expected: usize,
        found: usize,
    },

    /// An input value for prediction is NaN or infinite.
    #[error("row {row}, feature `{column}`: value {value} is not finite")]
    NonFiniteInput {
        row: usize,
        column: String,
        value: f32,
    },

    /// `model.json` does not parse or is inconsistent.
    #[error("{path}: invalid model description: {message}")]
    BadModelJson { path: PathBuf, message: String },

    /// The model was written by a newer (or unknown) version of this crate.
    #[error(
        "{path}: model format version {found} is not supported (this build reads {supported})"
    )]
    UnsupportedFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// `model.safetensors` does not parse.
    #[error("{path}: corrupt weights file: {message}")]
    CorruptWeights { path: PathBuf, message: String },

    /// A weight the architecture needs is not in the weights file.
    #[error("{path}: weight `{name}` is missing")]
    MissingWeight { path: PathBuf, name: String },

    /// The weights file holds a tensor the architecture does not use.
    #[error("{path}: unexpected weight `{name}` (not part of the architecture)")]
    UnexpectedWeight { path: PathBuf, name: String },

    /// A weight has the wrong shape or type for the architecture.
    #[error("{path}: weight `{name}` should be f32 {expected:?}, found {found}")]
    WeightShape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: String,
    },

    /// Drawing a plot failed.
    #[error("{path}: cannot draw the plot: {message}")]
    Plot { path: PathBuf, message: String },

    /// libtorch reported an error. Not caused by user data; a bug or an exhausted resource.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

impl Error {
    /// An I/O error on `path`, with a missing file turned into [`Error::NotFound`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            Error::Io {
                path,
                error: source,
            }
        }
    }
}
