//! Feature tables: the CSV the `features` command writes, read with errors that name the
//! file, line and column.
//!
//! Format: header `path,label,artist,start_s,duration_s,` then the feature names; one row
//! per clip or per window of a clip (same `path`, different `start_s`). `label` and
//! `artist` may be empty. A sidecar `<table>.layout.json` (e.g. `features.csv.layout.json`;
//! `features.layout.json` is accepted too) holding `{"version": N, "names": [...]}` gives
//! the layout version; without it the version is unknown.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::layout::Layout;

/// The metadata columns that precede the features, in order.
pub const META_COLUMNS: [&str; 5] = ["path", "label", "artist", "start_s", "duration_s"];

/// One row's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct RowInfo {
    /// The source file (several rows share it when the file was cut into windows).
    pub path: String,
    /// The genre; `None` when the field was empty.
    pub label: Option<String>,
    /// The artist; `None` when the field was empty.
    pub artist: Option<String>,
    /// Start of the window in the file, seconds.
    pub start_s: f64,
    /// Length of the window, seconds.
    pub duration_s: f64,
}

/// The rows of one source file, in table order.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRows {
    pub path: String,
    /// Row indices into the table.
    pub rows: Vec<usize>,
}

/// A feature table in memory: row metadata plus a row-major `n_rows × n_features` matrix.
#[derive(Clone, Debug)]
pub struct FeatureTable {
    source: PathBuf,
    layout: Layout,
    rows: Vec<RowInfo>,
    /// 1-based file line of each row, for error messages.
    lines: Vec<u64>,
    values: Vec<f32>,
}

/// Where the layout sidecar of `table` is expected: the table's file name plus
/// `.layout.json` (`features.csv` → `features.csv.layout.json`).
pub fn layout_sidecar_path(table: &Path) -> PathBuf {
    let mut name = table.file_name().unwrap_or_default().to_os_string();
    name.push(".layout.json");
    table.with_file_name(name)
}

impl FeatureTable {
    /// Reads a feature table and, when present, its layout sidecar.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = open_file(path)?;
        let mut table = Self::from_reader(std::io::BufReader::new(file), path)?;
        if let Some(version) = read_sidecar(path, &table.layout.names)? {
            table.layout.version = Some(version);
        }
        Ok(table)
    }

    /// Parses a feature table from any reader; `source` names it in errors. No sidecar is
    /// read: the layout version is unknown.
    pub fn from_reader<R: Read>(reader: R, source: &Path) -> Result<Self> {
        let (header, records) = header_and_records(reader, source)?;
        let names = parse_header(&header, source)?;
        let n_features = names.len();
        let n_fields = META_COLUMNS.len() + n_features;

        let mut rows = Vec::new();
        let mut lines = Vec::new();
        let mut values = Vec::new();
        for record in records {
            let record = record.map_err(|e| csv_error(source, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != n_fields {
                return Err(Error::RaggedRow {
                    path: source.into(),
                    line,
                    expected: n_fields,
                    found: record.len(),
                });
            }
            let number = |i: usize, column: &str| -> Result<f64> {
                parse_number(&record[i], source, line, column)
            };
            let info = RowInfo {
                path: record[0].to_string(),
                label: non_empty(&record[1]),
                artist: non_empty(&record[2]),
                start_s: number(3, META_COLUMNS[3])?,
                duration_s: number(4, META_COLUMNS[4])?,
            };
            for (j, name) in names.iter().enumerate() {
                let field = &record[META_COLUMNS.len() + j];
                let v: f32 = field.trim().parse().map_err(|_| Error::NotANumber {
                    path: source.into(),
                    line,
                    column: name.clone(),
                    found: field.to_string(),
                })?;
                if !v.is_finite() {
                    return Err(Error::NonFinite {
                        path: source.into(),
                        line,
                        column: name.clone(),
                        found: field.to_string(),
                    });
                }
                values.push(v);
            }
            rows.push(info);
            lines.push(line);
        }
        if rows.is_empty() {
            return Err(Error::EmptyTable {
                path: source.into(),
            });
        }
        Ok(FeatureTable {
            source: source.into(),
            layout: Layout::new(None, names),
            rows,
            lines,
            values,
        })
    }

    /// A table from memory (generated data, or features computed in-process).
    /// `values` is row-major; it must hold `rows.len() × layout.len()` finite values.
    pub fn from_parts(layout: Layout, rows: Vec<RowInfo>, values: Vec<f32>) -> Result<Self> {
        let source = PathBuf::from("<memory>");
        if layout.is_empty() {
            return Err(Error::NoFeatureColumns { path: source });
        }
        if rows.is_empty() {
            return Err(Error::EmptyTable { path: source });
        }
        let n = layout.len();
        let lines: Vec<u64> = (0..rows.len() as u64).map(|i| i + 2).collect();
        if values.len() != rows.len() * n {
            return Err(Error::FeatureCount {
                row: values.len() / n,
                expected: n,
                found: values.len() % n,
            });
        }
        for (k, v) in values.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    path: source,
                    line: lines[k / n],
                    column: layout.names[k % n].clone(),
                    found: v.to_string(),
                });
            }
        }
        Ok(FeatureTable {
            source,
            layout,
            rows,
            lines,
            values,
        })
    }

    /// Where the table came from (`<memory>` for [`FeatureTable::from_parts`]).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Feature names and layout version.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Row metadata.
    pub fn rows(&self) -> &[RowInfo] {
        &self.rows
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.layout.len()
    }

    /// All feature values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The feature values of row `i`. Panics if `i >= n_rows()`.
    pub fn row_values(&self, i: usize) -> &[f32] {
        let n = self.n_features();
        &self.values[i * n..(i + 1) * n]
    }

    /// 1-based line of row `i` in the source file.
    pub fn line_of(&self, i: usize) -> u64 {
        self.lines.get(i).copied().unwrap_or(0)
    }

    /// The distinct labels, sorted; rows without a label are ignored.
    pub fn labels(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .rows
            .iter()
            .filter_map(|r| r.label.as_deref())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Rows grouped by source file, files in order of first appearance.
    pub fn files(&self) -> Vec<FileRows> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut files: Vec<FileRows> = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let k = *index.entry(&row.path).or_insert_with(|| {
                files.push(FileRows {
                    path: row.path.clone(),
                    rows: Vec::new(),
                });
                files.len() - 1
            });
            files[k].rows.push(i);
        }
        files
    }

    /// True when some file has more than one row (the table holds windows).
    pub fn has_windows(&self) -> bool {
        self.files().iter().any(|f| f.rows.len() > 1)
    }

    /// The label index of every row in `labels`; an error names the first row without a
    /// label. Labels missing from `labels` map to `None`.
    pub(crate) fn label_indices(&self, labels: &[String]) -> Result<Vec<Option<usize>>> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| match &r.label {
                None => Err(Error::MissingLabel {
                    path: self.source.clone(),
                    line: self.line_of(i),
                }),
                Some(l) => Ok(labels.iter().position(|x| x == l)),
            })
            .collect()
    }
}

/// Opens a file for reading; a folder is an error here rather than an odd CSV error later.
fn open_file(path: &Path) -> Result<std::fs::File> {
    if path.is_dir() {
        return Err(Error::Io {
            path: path.into(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "is a folder, not a file"),
        });
    }
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// A header cell as an error message shows it: control characters escaped and at most
/// 40 characters, so that a binary file or a table with another delimiter (read as one
/// long cell) gives a readable line.
fn shown_cell(cell: &str) -> String {
    const MAX: usize = 40;
    let mut shown = String::new();
    for (n, c) in cell.chars().enumerate() {
        if n == MAX {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

fn parse_header(header: &csv::StringRecord, source: &Path) -> Result<Vec<String>> {
    for (i, expected) in META_COLUMNS.iter().enumerate() {
        let found = header.get(i).unwrap_or("");
        if found.trim() != *expected {
            return Err(Error::BadHeader {
                path: source.into(),
                what: "feature table",
                index: i + 1,
                expected: expected.to_string(),
                found: shown_cell(found),
            });
        }
    }
    let names: Vec<String> = header
        .iter()
        .skip(META_COLUMNS.len())
        .map(|s| s.trim().to_string())
        .collect();
    if names.is_empty() {
        return Err(Error::NoFeatureColumns {
            path: source.into(),
        });
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(first) = seen.insert(name.trim(), i + 1) {
            return Err(Error::DuplicateColumn {
                path: source.into(),
                name: name.to_string(),
                first,
                second: i + 1,
            });
        }
    }
    Ok(names)
}

/// Reads the sidecar next to `table`, checks its names against the header, returns its
/// version. `Ok(None)` when there is no sidecar.
fn read_sidecar(table: &Path, names: &[String]) -> Result<Option<u32>> {
    let canonical = layout_sidecar_path(table);
    let alternative = table.with_extension("layout.json");
    let Some(path) = [canonical, alternative].into_iter().find(|p| p.is_file()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let layout: Layout = serde_json::from_str(&text).map_err(|e| Error::BadLayoutFile {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let header = Layout::new(layout.version, names.to_vec());
    if let Some(difference) = layout.difference(&header) {
        return Err(Error::LayoutFileMismatch { path, difference });
    }
    Ok(layout.version)
}

fn parse_number(field: &str, source: &Path, line: u64, column: &str) -> Result<f64> {
    let v: f64 = field.trim().parse().map_err(|_| Error::NotANumber {
        path: source.into(),
        line,
        column: column.to_string(),
        found: field.to_string(),
    })?;
    if !v.is_finite() {
        return Err(Error::NonFinite {
            path: source.into(),
            line,
            column: column.to_string(),
            found: field.to_string(),
        });
    }
    Ok(v)
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The header row of a CSV and an iterator over the rows after it (rows may differ in
/// length; callers check). An empty input is `EmptyTable`.
fn header_and_records<R: Read>(
    reader: R,
    source: &Path,
) -> Result<(csv::StringRecord, csv::StringRecordsIntoIter<R>)> {
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader)
        .into_records();
    let header = match records.next() {
        None => {
            return Err(Error::EmptyTable {
                path: source.into(),
            })
        }
        Some(r) => r.map_err(|e| csv_error(source, &e))?,
    };
    Ok((header, records))
}

pub(crate) fn csv_error(source: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    Error::Csv {
        path: source.into(),
        line,
        message: e.to_string(),
    }
}

/// An explicit file → group map (`--groups FILE.csv`), overriding artists for splits.
///
/// The CSV needs a header with a `path` and a `group` column (others are ignored); `path`
/// must match the feature table's `path` column exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupMap {
    source: PathBuf,
    groups: HashMap<String, String>,
}

impl GroupMap {
    /// Reads a groups CSV.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = open_file(path)?;
        Self::from_reader(std::io::BufReader::new(file), path)
    }

    /// Parses a groups CSV from a reader; `source` names it in errors.
    pub fn from_reader<R: Read>(reader: R, source: &Path) -> Result<Self> {
        let (header, records) = header_and_records(reader, source)?;
        let find = |name: &str, index: usize| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
                .ok_or_else(|| Error::BadHeader {
                    path: source.into(),
                    what: "groups file",
                    index,
                    expected: name.to_string(),
                    found: shown_cell(header.get(index - 1).unwrap_or("")),
                })
        };
        let path_col = find("path", 1)?;
        let group_col = find("group", 2)?;
        let mut groups: HashMap<String, String> = HashMap::new();
        for record in records {
            let record = record.map_err(|e| csv_error(source, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            let (Some(file), Some(group)) = (record.get(path_col), record.get(group_col)) else {
                return Err(Error::RaggedRow {
                    path: source.into(),
                    line,
                    expected: header.len(),
                    found: record.len(),
                });
            };
            if let Some(first) = groups.get(file) {
                if first != group {
                    return Err(Error::ConflictingGroup {
                        path: source.into(),
                        line,
                        file: file.to_string(),
                        first: first.clone(),
                        second: group.to_string(),
                    });
                }
            }
            groups.insert(file.to_string(), group.to_string());
        }
        if groups.is_empty() {
            return Err(Error::EmptyTable {
                path: source.into(),
            });
        }
        Ok(GroupMap {
            source: source.into(),
            groups,
        })
    }

    /// A map from (path, group) pairs.
    pub fn from_pairs<I, P, G>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (P, G)>,
        P: Into<String>,
        G: Into<String>,
    {
        GroupMap {
            source: PathBuf::from("<memory>"),
            groups: pairs
                .into_iter()
                .map(|(p, g)| (p.into(), g.into()))
                .collect(),
        }
    }

    /// The group of `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.groups.get(path).map(String::as_str)
    }

    /// Where the map came from.
    pub fn source(&self) -> &Path {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::shown_cell;

    #[test]
    fn header_cells_in_errors_are_escaped_and_short() {
        assert_eq!(shown_cell("path"), "path");
        assert_eq!(shown_cell("ID3\u{4}\0x"), "ID3\\u{4}\\u{0}x");
        let long = "a;".repeat(100);
        assert_eq!(shown_cell(&long), format!("{}…", &long[..40]));
        assert_eq!(shown_cell(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
        assert_eq!(shown_cell(&"é".repeat(40)), "é".repeat(40));
    }
}
