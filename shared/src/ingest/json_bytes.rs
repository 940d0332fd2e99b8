//! What the JSON readers share: their batch type and the byte-level helpers for JSON text
//! (whitespace, lines, serde_json's messages without their positions).

use super::error::ItemError;
use super::item::TaskItem;

/// Tasks (or errors) yielded by one step of a reader.
pub(crate) type Batch = Vec<Result<TaskItem, ItemError>>;

pub(crate) fn is_json_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// `bytes` without leading and trailing JSON whitespace (so also without a line's `\r`).
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !is_json_whitespace(*b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_json_whitespace(*b))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

pub(crate) fn find_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|byte| *byte == b'\n')
}

pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|byte| **byte == b'\n').count() as u64
}

/// serde_json's message without the ` at line L column C` it appends.
pub(crate) fn json_error_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_owned(),
        None => text,
    }
}
