//! Finding the audio files to analyse: folders walked recursively in sorted order, with
//! labels taken from the first folder under the root (GTZAN / FMA layouts).

use std::path::{Path, PathBuf};

/// File extensions we try to decode (lower case). Opus is listed so that such files
/// get a clear "unsupported codec" error instead of being skipped silently.
pub const AUDIO_EXTENSIONS: [&str; 13] = [
    "aac", "aif", "aifc", "aiff", "flac", "m4a", "mp3", "mp4", "oga", "ogg", "opus", "wav", "wave",
];

/// One file to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Where to read it.
    pub path: PathBuf,
    /// The `path` column: relative to the folder given on the command line, `/`-separated;
    /// the path as given for files named directly.
    pub key: String,
    /// The `label` column: the first folder under the root; empty for files directly in the
    /// root or named directly.
    pub label: String,
}

/// Something under an input that could not be listed (unreadable folder, symlink loop,
/// path that does not exist). Reported like a failed file; the walk goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// True when `path` has one of [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// Expands the command line's files and folders into the files to analyse.
///
/// Folders are walked recursively (following symbolic links, with loops detected and
/// reported), keeping files with an audio extension, in sorted order of their key. Files
/// named directly are kept whatever their extension, so that a bad one gets an error.
///
/// Keys name rows, so each is kept once: a file reached twice (`features audio audio`)
/// is taken once, and a different file whose key is taken (`rock/1.mp3` in two folders
/// given side by side) is an error, not a second row of that name.
pub fn collect(args: &[PathBuf]) -> (Vec<Input>, Vec<WalkError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        match std::fs::metadata(arg) {
            Ok(meta) if meta.is_dir() => walk(arg, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input {
                path: arg.clone(),
                key: arg.to_string_lossy().into_owned(),
                label: String::new(),
            }),
            Err(e) => errors.push(WalkError {
                path: arg.clone(),
                message: describe_io(&e),
            }),
        }
    }
    let mut first: std::collections::HashMap<String, (PathBuf, Option<PathBuf>)> =
        std::collections::HashMap::new();
    inputs.retain(|input| {
        let real = std::fs::canonicalize(&input.path).ok();
        match first.get(&input.key) {
            None => {
                first.insert(input.key.clone(), (input.path.clone(), real));
                true
            }
            Some((_, seen)) if real.is_some() && *seen == real => false,
            Some((other, _)) => {
                errors.push(WalkError {
                    path: input.path.clone(),
                    message: format!(
                        "its table path `{}` is that of {} already (give the folders' common \
                         parent instead)",
                        input.key,
                        other.display()
                    ),
                });
                false
            }
        }
    });
    (inputs, errors)
}

fn walk(root: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<WalkError>) {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                let message = if e.loop_ancestor().is_some() {
                    "symbolic link loop, skipped".to_string()
                } else if let Some(io) = e.io_error() {
                    describe_io(io)
                } else {
                    e.to_string()
                };
                errors.push(WalkError { path, message });
                continue;
            }
        };
        if entry.file_type().is_dir() || !is_audio(entry.path()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let label = if parts.len() > 1 {
            parts[0].clone()
        } else {
            String::new()
        };
        found.push(Input {
            path: entry.path().to_path_buf(),
            key: parts.join("/"),
            label,
        });
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    inputs.extend(found);
}

/// A short, human cause for an I/O error ("no such file or directory", "permission denied").
pub fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"x").unwrap();
    }

    #[test]
    fn labels_come_from_the_first_folder_and_order_is_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("rock/b.mp3"));
        touch(&root.join("rock/a.MP3"));
        touch(&root.join("jazz/live/x.flac"));
        touch(&root.join("top.wav"));
        touch(&root.join("rock/cover.jpg"));
        let (inputs, errors) = collect(&[root.to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, &str)> = inputs
            .iter()
            .map(|i| (i.key.as_str(), i.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("jazz/live/x.flac", "jazz"),
                ("rock/a.MP3", "rock"),
                ("rock/b.mp3", "rock"),
                ("top.wav", "")
            ]
        );
    }

    #[test]
    fn named_files_are_kept_and_missing_paths_reported() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("notes.txt");
        touch(&f);
        let missing = dir.path().join("nope.mp3");
        let (inputs, errors) = collect(&[f.clone(), missing.clone()]);
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].label, "");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, missing);
        assert!(
            errors[0].message.contains("no such file"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_file_given_twice_is_one_input_and_a_taken_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        touch(&a.join("rock/1.mp3"));
        touch(&a.join("rock/2.mp3"));
        touch(&b.join("rock/1.mp3"));
        let (inputs, errors) = collect(&[a.clone(), a.clone(), a.join("../a")]);
        assert!(errors.is_empty(), "{errors:?}");
        let keys: Vec<&str> = inputs.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, vec!["rock/1.mp3", "rock/2.mp3"]);

        let (inputs, errors) = collect(&[a.clone(), b.clone()]);
        let keys: Vec<&str> = inputs.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, vec!["rock/1.mp3", "rock/2.mp3"]);
        assert_eq!(inputs[0].path, a.join("rock/1.mp3"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, b.join("rock/1.mp3"));
        assert_eq!(
            errors[0].message,
            format!(
                "its table path `rock/1.mp3` is that of {} already (give the folders' common \
                 parent instead)",
                a.join("rock/1.mp3").display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("pop/a.wav"));
        std::os::unix::fs::symlink(root, root.join("pop/loop")).unwrap();
        let (inputs, errors) = collect(&[root.to_path_buf()]);
        assert_eq!(inputs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("loop"), "{}", errors[0].message);
    }
}
