//! A JSON array of tasks, read item by item from the collected document: each item is
//! deserialized on its own (never the whole array as one `Value`). An item that is not a task
//! is an error at that item; broken JSON ends the array with one error.

use bytes::Bytes;
use serde_json::{Deserializer, Value};

use super::error::{ItemError, Position};
use super::item::{TaskItem, task_from_value};
use super::json::{Batch, count_newlines, is_json_whitespace, json_error_message};

/// Items handed out per step.
const ITEMS_PER_BATCH: usize = 256;

/// What may come next in the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Right after `[`: an item or `]`.
    FirstItemOrEnd,
    /// After an item: `,` or `]`.
    CommaOrEnd,
    /// After `,`: an item.
    Item,
}

/// The items of one JSON array document.
pub(crate) struct ArrayItems {
    key: String,
    document: Bytes,
    /// Offset of the next unread byte in `document`.
    pos: usize,
    /// Index of the next item.
    index: u64,
    expect: Expect,
    done: bool,
}

impl ArrayItems {
    /// Reads `document` from `pos`, the byte after its opening `[`.
    pub(crate) fn new(key: String, document: Bytes, pos: usize) -> Self {
        ArrayItems {
            key,
            document,
            pos,
            index: 0,
            expect: Expect::FirstItemOrEnd,
            done: false,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Up to [`ITEMS_PER_BATCH`] next tasks or errors.
    pub(crate) fn next_batch(&mut self) -> Batch {
        let mut batch = Vec::new();
        while !self.done && batch.len() < ITEMS_PER_BATCH {
            batch.extend(self.next_item());
        }
        batch
    }

    /// The next item, or `None` when the array closed cleanly.
    fn next_item(&mut self) -> Option<Result<TaskItem, ItemError>> {
        loop {
            self.skip_whitespace();
            match (self.expect, self.document.get(self.pos)) {
                (_, None) => return Some(Err(self.fail_at(self.pos, "EOF while parsing a list"))),
                (Expect::FirstItemOrEnd | Expect::CommaOrEnd, Some(b']')) => {
                    self.pos += 1;
                    return self.end();
                }
                (Expect::CommaOrEnd, Some(b',')) => {
                    self.pos += 1;
                    self.expect = Expect::Item;
                }
                (Expect::CommaOrEnd, Some(_)) => {
                    return Some(Err(self.fail_at(self.pos, "expected `,` or `]`")));
                }
                (Expect::FirstItemOrEnd | Expect::Item, Some(_)) => return Some(self.parse_item()),
            }
        }
    }

    /// Deserializes the item at `pos` and makes it a task.
    fn parse_item(&mut self) -> Result<TaskItem, ItemError> {
        let mut values = Deserializer::from_slice(&self.document[self.pos..]).into_iter::<Value>();
        let value = match values.next() {
            Some(Ok(value)) => value,
            Some(Err(err)) => return Err(self.fail_with_json_error(&err)),
            None => return Err(self.fail_at(self.pos, "EOF while parsing a list")),
        };
        self.pos += values.byte_offset();
        self.expect = Expect::CommaOrEnd;
        let index = self.index;
        self.index += 1;
        task_from_value(value)
            .map(|task| TaskItem {
                row_index: Some(index),
                row_group: None,
                task,
            })
            .map_err(|message| ItemError::new(&self.key, Position::Item(index), message))
    }

    /// After `]`: only whitespace may follow.
    fn end(&mut self) -> Option<Result<TaskItem, ItemError>> {
        self.done = true;
        self.skip_whitespace();
        if self.pos < self.document.len() {
            return Some(Err(
                self.fail_at(self.pos, "trailing characters after the array")
            ));
        }
        None
    }

    fn skip_whitespace(&mut self) {
        let rest = &self.document[self.pos..];
        self.pos += rest
            .iter()
            .take_while(|byte| is_json_whitespace(**byte))
            .count();
    }

    /// Ends the array with an error at byte `at` of the document.
    fn fail_at(&mut self, at: usize, what: &str) -> ItemError {
        let (line, column) = line_and_column(&self.document, at);
        self.fail(format!(
            "invalid JSON: {what} at line {line} column {column}"
        ))
    }

    /// Ends the array with serde_json's error, its position made relative to the document.
    fn fail_with_json_error(&mut self, err: &serde_json::Error) -> ItemError {
        let (base_line, base_column) = line_and_column(&self.document, self.pos);
        let line = base_line + err.line() as u64 - 1;
        let column = match err.line() {
            1 => base_column + err.column() as u64 - 1,
            _ => err.column() as u64,
        };
        let message = json_error_message(err);
        self.fail(format!(
            "invalid JSON: {message} at line {line} column {column}"
        ))
    }

    fn fail(&mut self, message: String) -> ItemError {
        self.done = true;
        ItemError::new(&self.key, Position::Item(self.index), message)
    }
}

/// The 1-based line and column of byte `at`.
fn line_and_column(document: &[u8], at: usize) -> (u64, u64) {
    let before = &document[..at.min(document.len())];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |nl| nl + 1);
    (1 + count_newlines(before), (at - line_start) as u64 + 1)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{read_json, tasks};
    use super::*;

    #[tokio::test]
    async fn array_of_two_gives_rows_zero_and_one() {
        let items = tasks(read_json("a.json", "[{\"n\": 1},\n {\"n\": 2}]\n").await);
        let rows: Vec<_> = items
            .iter()
            .map(|item| (item.row_index, item.task.data.clone()))
            .collect();
        assert_eq!(
            rows,
            vec![(Some(0), json!({"n": 1})), (Some(1), json!({"n": 2}))]
        );
    }

    #[tokio::test]
    async fn empty_array_gives_nothing() {
        assert!(read_json("a.json", " [ ] ").await.is_empty());
    }

    #[tokio::test]
    async fn non_object_items_are_errors_and_reading_goes_on() {
        let results = read_json("a.json", r#"[{"n": 1}, 7, null, {"n": 2}]"#).await;
        assert_eq!(results.len(), 4);
        assert_eq!(results[0].as_ref().unwrap().row_index, Some(0));
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""a.json" item 1: a task must be a JSON object, not a number"#
        );
        assert_eq!(results[2].as_ref().unwrap_err().position, Position::Item(2));
        assert_eq!(results[3].as_ref().unwrap().row_index, Some(3));
    }

    #[tokio::test]
    async fn broken_array_ends_with_one_error_at_the_broken_item() {
        let results = read_json("a.json", "[{\"n\": 1},\n {\"n\": }, {\"n\": 3}]").await;
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results[0].is_ok());
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Item(1));
        assert!(err.message.contains("at line 2 column 8"), "{err}");
    }

    #[tokio::test]
    async fn missing_comma_unclosed_array_and_trailing_text_are_errors() {
        for (content, what) in [
            (
                r#"[{"n": 1} {"n": 2}]"#,
                "expected `,` or `]` at line 1 column 11",
            ),
            (r#"[{"n": 1},"#, "EOF while parsing a list"),
            (
                r#"[{"n": 1}] x"#,
                "trailing characters after the array at line 1 column 12",
            ),
        ] {
            let results = read_json("a.json", content).await;
            assert_eq!(results.len(), 2, "{content}: {results:?}");
            let err = results[1].as_ref().unwrap_err();
            assert!(err.message.contains(what), "{content}: {err}");
        }
    }
}
