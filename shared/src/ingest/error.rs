//! Errors for one object, or one line, item or row of it.

use std::fmt;

/// Where in an object an [`ItemError`] happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The object as a whole (its format, its one JSON document, its body).
    Whole,
    /// A 1-based physical line of a JSONL/NDJSON file.
    Line(u64),
    /// A 0-based item of a JSON array.
    Item(u64),
    /// A Parquet row: its row group and its 0-based row number in the whole file.
    Row { group: u64, row: u64 },
}

impl fmt::Display for Position {
    /// The text that follows the key in an error message: empty for [`Position::Whole`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Whole => Ok(()),
            Position::Line(line) => write!(f, " line {line}"),
            Position::Item(item) => write!(f, " item {item}"),
            Position::Row { group, row } => write!(f, " row {row} (row group {group})"),
        }
    }
}

/// A task that could not be read: the object key, where in it, and what went wrong.
///
/// Displays as `"data/a.jsonl" line 3: <message>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key:?}{position}: {message}")]
pub struct ItemError {
    pub key: String,
    pub position: Position,
    pub message: String,
}

impl ItemError {
    /// An error at `position` of the object `key`.
    pub fn new(key: &str, position: Position, message: impl Into<String>) -> Self {
        ItemError {
            key: key.to_owned(),
            position,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_key_and_position() {
        let at = |position| ItemError::new("data/a.jsonl", position, "boom").to_string();
        assert_eq!(at(Position::Whole), r#""data/a.jsonl": boom"#);
        assert_eq!(at(Position::Line(3)), r#""data/a.jsonl" line 3: boom"#);
        assert_eq!(at(Position::Item(0)), r#""data/a.jsonl" item 0: boom"#);
        assert_eq!(
            at(Position::Row { group: 1, row: 7 }),
            r#""data/a.jsonl" row 7 (row group 1): boom"#
        );
    }
}
