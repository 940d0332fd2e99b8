//! Which parser a Tasks-mode object gets, decided by its key's extension.

use super::error::{ItemError, Position};

/// How the content of a Tasks-mode object is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskFileFormat {
    /// A JSON object, a JSON array or JSONL/NDJSON; which one is decided by the content.
    Json,
    /// An Apache Parquet file: one task per row.
    Parquet,
}

/// The parser for `key` in Tasks mode.
///
/// Accepts `.json`, `.jsonl`, `.ndjson` and `.parquet` (case-insensitive) and keys with no
/// extension (parsed as JSON, like Label Studio). The extension is taken like Python's
/// `os.path.splitext`: from the last path segment, ignoring leading dots. Anything else is an
/// error that tells the user to switch the storage to Files mode.
pub fn task_file_format(key: &str) -> Result<TaskFileFormat, ItemError> {
    let Some(extension) = extension(key) else {
        return Ok(TaskFileFormat::Json);
    };
    match extension.to_ascii_lowercase().as_str() {
        "json" | "jsonl" | "ndjson" => Ok(TaskFileFormat::Json),
        "parquet" => Ok(TaskFileFormat::Parquet),
        _ => Err(ItemError::new(
            key,
            Position::Whole,
            format!(
                "not a JSON/JSONL/Parquet file (extension \".{extension}\"). In Tasks mode only \
                 .json, .jsonl, .ndjson and .parquet files (or keys without an extension) can be \
                 processed. If you're trying to import non-JSON data (images, audio, text, etc.), \
                 edit the storage settings and switch the import method to Files \
                 (use_blob_urls=true)"
            ),
        )),
    }
}

/// The extension of the key's last segment, without its dot; `None` when there is none.
fn extension(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let stem_start = name.len() - name.trim_start_matches('.').len();
    let dot = name[stem_start..].rfind('.')?;
    Some(&name[stem_start + dot + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_family_and_parquet_extensions_pass_in_any_case() {
        for key in ["a.json", "d/a.JSONL", "x/y/z.NdJson", "tasks.Json"] {
            assert_eq!(task_file_format(key), Ok(TaskFileFormat::Json), "{key}");
        }
        assert_eq!(
            task_file_format("t/rows.parquet"),
            Ok(TaskFileFormat::Parquet)
        );
        assert_eq!(
            task_file_format("ROWS.PARQUET"),
            Ok(TaskFileFormat::Parquet)
        );
    }

    #[test]
    fn keys_without_extension_are_json() {
        for key in ["pre:1", "tasks", "dir.d/tasks", ".hidden", "a/..json"] {
            assert_eq!(task_file_format(key), Ok(TaskFileFormat::Json), "{key}");
        }
    }

    #[test]
    fn other_extensions_name_the_key_and_point_to_files_mode() {
        let err = task_file_format("subdir/image1.jpg").unwrap_err();
        assert_eq!(err.key, "subdir/image1.jpg");
        assert_eq!(err.position, Position::Whole);
        let text = err.to_string();
        assert!(
            text.starts_with(r#""subdir/image1.jpg": not a JSON/JSONL/Parquet file"#),
            "{text}"
        );
        assert!(text.contains("Files (use_blob_urls=true)"), "{text}");
        for key in ["a.txt", "a.csv", "a.json.gz", "a."] {
            assert!(task_file_format(key).is_err(), "{key}");
        }
    }
}
