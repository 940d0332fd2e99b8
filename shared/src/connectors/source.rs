//! What an import sync lists, and which listed keys it keeps.

use regex::Regex;

use super::SettingsError;

/// What a source storage lists and how keys are filtered.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub prefix: String,
    pub recursive: bool,
    /// `regex_filter` compiled with Python `re.match` semantics (anchored at the start only).
    pub regex: Option<Regex>,
    /// Apply the regex to the file name only (local files) instead of the whole key.
    pub regex_on_basename: bool,
    /// `use_blob_urls`: one task per object holding its URI ("Files"), else parse objects ("Tasks").
    pub files_mode: bool,
}

impl SourceSpec {
    /// Whether a listed key passes the regex filter.
    pub fn accepts(&self, key: &str) -> bool {
        let Some(regex) = &self.regex else {
            return true;
        };
        let subject = if self.regex_on_basename {
            key.rsplit('/').next().unwrap_or(key)
        } else {
            key
        };
        regex.is_match(subject)
    }
}

/// Compiles a `regex_filter` the way Python's `re.match` uses it: anchored at the start only.
pub fn compile_regex_filter(pattern: Option<&str>) -> Result<Option<Regex>, SettingsError> {
    let Some(pattern) = pattern.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    Regex::new(&format!("^(?:{pattern})"))
        .map(Some)
        .map_err(|e| {
            SettingsError::field(
                "regex_filter",
                format!("not a valid regular expression: {e}"),
            )
        })
}
