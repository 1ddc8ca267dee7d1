//! Reading feature tables and groups files: the happy path and every error path.

use std::path::{Path, PathBuf};

use musicgenre_model::{Error, FeatureTable, GroupMap};

const HEADER: &str = "path,label,artist,start_s,duration_s,a.mean.01,a.std.01";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read_text(text: &str) -> Result<FeatureTable, Error> {
    let dir = tempfile::tempdir().unwrap();
    FeatureTable::read(write(dir.path(), "t.csv", text))
}

#[test]
fn reads_rows_labels_artists_and_windows() {
    let text = format!(
        "{HEADER}\nrock/1.mp3,rock,Band,0,3,1.5,2\nrock/1.mp3,rock,Band,3,3,1.25,-2e-3\n\
         pop/2.mp3,,,0,30,0,1\n"
    );
    let t = read_text(&text).unwrap();
    assert_eq!(t.n_rows(), 3);
    assert_eq!(t.n_features(), 2);
    assert_eq!(t.layout().names, vec!["a.mean.01", "a.std.01"]);
    assert_eq!(t.layout().version, None);
    assert_eq!(t.row_values(1), &[1.25, -2e-3]);
    assert_eq!(t.rows()[1].start_s, 3.0);
    assert_eq!(t.rows()[2].label, None);
    assert_eq!(t.rows()[2].artist, None);
    assert_eq!(t.labels(), vec!["rock"]);
    let files = t.files();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].rows, vec![0, 1]);
    assert!(t.has_windows());
}

#[test]
fn floats_round_trip_exactly() {
    let v: f32 = 0.1 + 1e-7;
    let text = format!("{HEADER}\nx,l,,0,1,{v},{}\n", f32::MIN_POSITIVE);
    let t = read_text(&text).unwrap();
    assert_eq!(t.row_values(0)[0].to_bits(), v.to_bits());
    assert_eq!(t.row_values(0)[1], f32::MIN_POSITIVE);
}

#[test]
fn a_written_table_reads_back_identically() {
    let table = crate::common::Blobs {
        windows_per_file: 2,
        ..Default::default()
    }
    .table();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blobs.csv");
    crate::common::write_csv(&table, &path);
    let back = FeatureTable::read(&path).unwrap();
    assert_eq!(back.rows(), table.rows());
    assert_eq!(back.layout().names, table.layout().names);
    let bits = |t: &FeatureTable| t.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&table));
}

#[test]
fn sidecar_gives_the_layout_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        dir.path(),
        "features.csv",
        &format!("{HEADER}\nx,l,,0,1,1,2\n"),
    );
    write(
        dir.path(),
        "features.csv.layout.json",
        r#"{"version": 3, "names": ["a.mean.01", "a.std.01"]}"#,
    );
    assert_eq!(
        FeatureTable::read(&table).unwrap().layout().version,
        Some(3)
    );
}

#[test]
fn sidecar_named_after_the_stem_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        dir.path(),
        "features.csv",
        &format!("{HEADER}\nx,l,,0,1,1,2\n"),
    );
    write(
        dir.path(),
        "features.layout.json",
        r#"{"version": 2, "names": ["a.mean.01", "a.std.01"]}"#,
    );
    assert_eq!(
        FeatureTable::read(&table).unwrap().layout().version,
        Some(2)
    );
}

#[test]
fn sidecar_that_disagrees_with_the_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(dir.path(), "f.csv", &format!("{HEADER}\nx,l,,0,1,1,2\n"));
    write(
        dir.path(),
        "f.csv.layout.json",
        r#"{"version": 1, "names": ["a.mean.01", "b.std.01"]}"#,
    );
    let err = FeatureTable::read(&table).unwrap_err();
    assert!(matches!(err, Error::LayoutFileMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("`a.std.01`"), "{err}");
    write(dir.path(), "f.csv.layout.json", "{not json");
    assert!(matches!(
        FeatureTable::read(&table),
        Err(Error::BadLayoutFile { .. })
    ));
}

#[test]
fn missing_file() {
    let err = FeatureTable::read("surely/not/here.csv").unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("here.csv"));
    let dir = tempfile::tempdir().unwrap();
    let err = FeatureTable::read(dir.path()).unwrap_err();
    assert!(err.to_string().contains("is a folder"), "{err}");
}

#[test]
fn header_that_is_not_a_feature_table() {
    let err = read_text("path,genre,artist,album,title\nx,rock,a,b,c\n").unwrap_err();
    match &err {
        Error::BadHeader {
            index,
            expected,
            found,
            ..
        } => {
            assert_eq!(*index, 2);
            assert_eq!(expected, "label");
            assert_eq!(found, "genre");
        }
        other => panic!("expected BadHeader, got {other:?}"),
    }
    assert!(matches!(
        read_text("path,label,artist,start_s,duration_s\nx,l,,0,1\n"),
        Err(Error::NoFeatureColumns { .. })
    ));
    assert!(matches!(
        read_text("path,label,artist,start_s,duration_s,a,b,a\nx,l,,0,1,1,2,3\n"),
        Err(Error::DuplicateColumn {
            first: 6,
            second: 8,
            ..
        })
    ));
}

#[test]
fn non_numeric_value_names_line_and_column() {
    let err = read_text(&format!("{HEADER}\nx,l,,0,1,1,2\ny,l,,0,1,1,abc\n")).unwrap_err();
    match &err {
        Error::NotANumber {
            line,
            column,
            found,
            ..
        } => {
            assert_eq!(*line, 3);
            assert_eq!(column, "a.std.01");
            assert_eq!(found, "abc");
        }
        other => panic!("expected NotANumber, got {other:?}"),
    }
    assert!(err.to_string().contains(":3:"), "{err}");
    let err = read_text(&format!("{HEADER}\nx,l,,zero,1,1,2\n")).unwrap_err();
    assert!(
        matches!(&err, Error::NotANumber { column, .. } if column == "start_s"),
        "{err:?}"
    );
}

#[test]
fn nan_and_infinity_are_refused() {
    for bad in ["NaN", "nan", "inf", "-inf", "1e39"] {
        let err = read_text(&format!("{HEADER}\nx,l,,0,1,{bad},2\n")).unwrap_err();
        match err {
            Error::NonFinite {
                line,
                column,
                found,
                ..
            } => {
                assert_eq!(line, 2);
                assert_eq!(column, "a.mean.01");
                assert_eq!(found, bad);
            }
            other => panic!("{bad}: expected NonFinite, got {other:?}"),
        }
    }
}

#[test]
fn ragged_rows_are_refused() {
    let err = read_text(&format!("{HEADER}\nx,l,,0,1,1,2\ny,l,,0,1,1\n")).unwrap_err();
    match err {
        Error::RaggedRow {
            line,
            expected,
            found,
            ..
        } => assert_eq!((line, expected, found), (3, 7, 6)),
        other => panic!("expected RaggedRow, got {other:?}"),
    }
    assert!(matches!(
        read_text(&format!("{HEADER}\nx,l,,0,1,1,2,3\n")),
        Err(Error::RaggedRow { found: 8, .. })
    ));
}

#[test]
fn empty_tables_are_refused() {
    assert!(matches!(read_text(""), Err(Error::EmptyTable { .. })));
    assert!(matches!(
        read_text(&format!("{HEADER}\n")),
        Err(Error::EmptyTable { .. })
    ));
}

#[test]
fn invalid_utf8_is_a_csv_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend_from_slice(b"x,\xff\xfe,,0,1,1,2\n");
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(
        FeatureTable::read(&path),
        Err(Error::Csv { line: 2, .. })
    ));
}

#[test]
fn groups_file_reads_and_refuses_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(
        dir.path(),
        "g.csv",
        "path,group,comment\na.mp3,g1,x\nb.mp3,g1,y\nc.mp3,g2,z\n",
    );
    let map = GroupMap::read(&ok).unwrap();
    assert_eq!(map.get("b.mp3"), Some("g1"));
    assert_eq!(map.get("d.mp3"), None);
    let conflict = write(dir.path(), "c.csv", "path,group\na.mp3,g1\na.mp3,g2\n");
    assert!(matches!(
        GroupMap::read(&conflict),
        Err(Error::ConflictingGroup { line: 3, .. })
    ));
    let header = write(dir.path(), "h.csv", "file,artist\na.mp3,g1\n");
    assert!(matches!(
        GroupMap::read(&header),
        Err(Error::BadHeader {
            what: "groups file",
            ..
        })
    ));
    assert!(matches!(
        GroupMap::read(dir.path().join("none.csv")),
        Err(Error::NotFound { .. })
    ));
}
