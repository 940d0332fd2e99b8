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
    /// Whether a sync would list and keep `key`: below the prefix (directly, unless recursive)
    /// and through the regex filter. For keys that arrive by event, not by listing.
    pub fn covers(&self, key: &str) -> bool {
        let Some(rest) = key.strip_prefix(&self.prefix) else {
            return false;
        };
        !rest.is_empty() && (self.recursive || !rest.contains('/')) && self.accepts(key)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prefix: &str, recursive: bool, regex: Option<&str>) -> SourceSpec {
        SourceSpec {
            prefix: prefix.to_owned(),
            recursive,
            regex: compile_regex_filter(regex).unwrap(),
            regex_on_basename: false,
            files_mode: true,
        }
    }

    #[test]
    fn covers_what_a_listing_would_keep() {
        let flat = spec("images/", false, Some(r".*\.jpg"));
        assert!(flat.covers("images/a.jpg"));
        assert!(
            !flat.covers("images/deep/a.jpg"),
            "below the prefix, not recursive"
        );
        assert!(!flat.covers("other/a.jpg"));
        assert!(!flat.covers("images/a.png"), "the regex");
        assert!(!flat.covers("images/"), "the folder itself");
        assert!(spec("images/", true, None).covers("images/deep/a.png"));
        assert!(spec("", false, None).covers("a.png"));
    }
}
