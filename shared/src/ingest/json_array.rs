//! A JSON array of tasks, streamed: the buffer holds the unread rest of the current item and
//! the chunk it ends in, never the whole array. Each item is deserialized on its own; an item
//! cut by a chunk boundary is parsed again once more bytes arrived (the buffer at least doubles
//! in between, so each byte is parsed a bounded number of times). An item that is not a task is
//! an error at that item; broken JSON, or an item over the size limit, ends the array with one
//! error.

use bytes::{Buf, BytesMut};
use serde_json::{Deserializer, Value};

use super::body::Body;
use super::error::{ItemError, Position};
use super::item::{TaskItem, task_from_value};
use super::json_bytes::{Batch, count_newlines, is_json_whitespace, json_error_message};

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

/// A 1-based line and column in the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TextPosition {
    line: u64,
    column: u64,
}

impl TextPosition {
    /// The position `bytes` further on.
    fn after(self, bytes: &[u8]) -> TextPosition {
        match bytes.iter().rposition(|byte| *byte == b'\n') {
            Some(last) => TextPosition {
                line: self.line + count_newlines(bytes),
                column: (bytes.len() - last) as u64,
            },
            None => TextPosition {
                line: self.line,
                column: self.column + bytes.len() as u64,
            },
        }
    }
}

/// What parsing the buffered start of an item gave.
enum Parsed {
    /// A whole value, `length` bytes long.
    Value { value: Value, length: usize },
    /// The item goes on past the buffer.
    NeedMore,
    /// Not JSON.
    Broken(serde_json::Error),
}

/// The items of one JSON array document.
pub(crate) struct ArrayItems {
    body: Body,
    /// The unread bytes.
    buffer: BytesMut,
    /// Where `buffer[0]` is in the document.
    origin: TextPosition,
    ended: bool,
    /// Index of the next item.
    index: u64,
    expect: Expect,
    done: bool,
}

impl ArrayItems {
    /// Reads on after the opening `[`: `buffer` holds what follows it, which is at `origin`.
    pub(crate) fn new(
        body: Body,
        buffer: BytesMut,
        ended: bool,
        origin_line: u64,
        origin_column: u64,
    ) -> Self {
        ArrayItems {
            body,
            buffer,
            origin: TextPosition {
                line: origin_line,
                column: origin_column,
            },
            ended,
            index: 0,
            expect: Expect::FirstItemOrEnd,
            done: false,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Up to [`ITEMS_PER_BATCH`] next tasks or errors; fewer when the buffered ones are used
    /// up, so items are handed on before the body is read further.
    pub(crate) async fn next_batch(&mut self) -> Batch {
        let mut batch = Vec::new();
        while !self.done && batch.len() < ITEMS_PER_BATCH {
            self.skip_whitespace();
            if !batch.is_empty() && self.buffer.is_empty() && !self.ended {
                break;
            }
            batch.extend(self.next_item().await);
        }
        self.body.buffered(self.buffer.len());
        batch
    }

    /// The next item, or `None` when the array closed cleanly.
    async fn next_item(&mut self) -> Option<Result<TaskItem, ItemError>> {
        loop {
            self.skip_whitespace();
            match (self.expect, self.buffer.first()) {
                (_, None) if self.ended => {
                    return Some(Err(self.fail_here("EOF while parsing a list")));
                }
                (_, None) => {
                    if let Err(err) = self.read_more().await {
                        return Some(Err(err));
                    }
                }
                (Expect::FirstItemOrEnd | Expect::CommaOrEnd, Some(b']')) => {
                    self.consume(1);
                    return self.end().await;
                }
                (Expect::CommaOrEnd, Some(b',')) => {
                    self.consume(1);
                    self.expect = Expect::Item;
                }
                (Expect::CommaOrEnd, Some(_)) => {
                    return Some(Err(self.fail_here("expected `,` or `]`")));
                }
                (Expect::FirstItemOrEnd | Expect::Item, Some(_)) => {
                    return Some(self.parse_item().await);
                }
            }
        }
    }

    /// Deserializes the item at the start of the buffer and makes it a task.
    async fn parse_item(&mut self) -> Result<TaskItem, ItemError> {
        let value = loop {
            match self.parse_buffered() {
                Parsed::Value { value, length } => {
                    self.consume(length);
                    break value;
                }
                Parsed::Broken(err) => return Err(self.fail_with_json_error(&err)),
                Parsed::NeedMore if self.buffer.len() > self.body.max_value_bytes() => {
                    let index = self.index;
                    self.done = true;
                    return Err(self.body.too_large(Position::Item(index), "the item"));
                }
                Parsed::NeedMore => self.read_more_doubling().await?,
            }
        };
        self.expect = Expect::CommaOrEnd;
        let index = self.index;
        self.index += 1;
        task_from_value(value)
            .map(|task| TaskItem {
                row_index: Some(index),
                row_group: None,
                task,
            })
            .map_err(|message| ItemError::new(self.body.key(), Position::Item(index), message))
    }

    /// Parses one value from the start of the buffer. A number that ends where the buffer ends
    /// may go on, so it needs more bytes unless the body has ended.
    fn parse_buffered(&self) -> Parsed {
        let mut values = Deserializer::from_slice(&self.buffer).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => {
                let length = values.byte_offset();
                let cut = length == self.buffer.len() && !self.ended;
                if cut && self.buffer.last().is_some_and(u8::is_ascii_digit) {
                    return Parsed::NeedMore;
                }
                Parsed::Value { value, length }
            }
            Some(Err(err)) if err.is_eof() && !self.ended => Parsed::NeedMore,
            Some(Err(err)) => Parsed::Broken(err),
            None => Parsed::NeedMore,
        }
    }

    /// After `]`: only whitespace may follow, up to the end of the body.
    async fn end(&mut self) -> Option<Result<TaskItem, ItemError>> {
        loop {
            self.skip_whitespace();
            if !self.buffer.is_empty() {
                return Some(Err(self.fail_here("trailing characters after the array")));
            }
            if self.ended {
                self.done = true;
                return None;
            }
            if let Err(err) = self.read_more().await {
                return Some(Err(err));
            }
        }
    }

    /// Appends one chunk, or notes the end of the body.
    async fn read_more(&mut self) -> Result<(), ItemError> {
        match self.body.append_chunk(&mut self.buffer).await {
            Ok(more) => {
                self.ended = !more;
                Ok(())
            }
            Err(err) => {
                self.done = true;
                Err(err)
            }
        }
    }

    /// Reads until the buffer is twice as long (or the body ends); an error if it had ended.
    async fn read_more_doubling(&mut self) -> Result<(), ItemError> {
        if self.ended {
            return Err(self.fail_here("EOF while parsing a list"));
        }
        let target = (self.buffer.len() * 2).max(self.buffer.len() + 1);
        while !self.ended && self.buffer.len() < target {
            self.read_more().await?;
        }
        Ok(())
    }

    /// Drops `length` read bytes, moving the origin past them.
    fn consume(&mut self, length: usize) {
        self.origin = self.origin.after(&self.buffer[..length]);
        self.buffer.advance(length);
    }

    fn skip_whitespace(&mut self) {
        let blank = self
            .buffer
            .iter()
            .take_while(|byte| is_json_whitespace(**byte))
            .count();
        self.consume(blank);
    }

    /// Ends the array with an error at the start of the buffer.
    fn fail_here(&mut self, what: &str) -> ItemError {
        let TextPosition { line, column } = self.origin;
        self.fail(format!(
            "invalid JSON: {what} at line {line} column {column}"
        ))
    }

    /// Ends the array with serde_json's error, its position made relative to the document.
    fn fail_with_json_error(&mut self, err: &serde_json::Error) -> ItemError {
        let line = self.origin.line + err.line() as u64 - 1;
        let column = match err.line() {
            1 => self.origin.column + err.column() as u64 - 1,
            _ => err.column() as u64,
        };
        let message = json_error_message(err);
        self.fail(format!(
            "invalid JSON: {message} at line {line} column {column}"
        ))
    }

    fn fail(&mut self, message: String) -> ItemError {
        self.done = true;
        ItemError::new(self.body.key(), Position::Item(self.index), message)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use futures::{FutureExt, StreamExt};

    use super::super::TaskFileFormat;
    use super::super::test_support::{limit, read_chunked, read_json, read_limited, tasks};
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

    #[tokio::test]
    async fn every_chunking_gives_the_same_items_and_errors() {
        let good = "\u{FEFF} [ {\"n\": 1, \"s\": \"é,]\"},\n  12345 , {\"n\": [true, null]} ]\n";
        let broken = "[{\"n\": 1},\n {\"n\": 2}, {\"n\": }]";
        let unclosed = "[{\"n\": 1}, 7";
        for content in [good, broken, unclosed] {
            let whole = read_json("a.json", content).await;
            for chunk_size in [1, 2, 3, 5, 8] {
                let chunked = read_chunked(
                    "a.json",
                    TaskFileFormat::Json,
                    content.as_bytes(),
                    chunk_size,
                )
                .await;
                assert_eq!(chunked, whole, "{content:?} in chunks of {chunk_size}");
            }
        }
        let whole = read_json("a.json", good).await;
        assert_eq!(whole.len(), 3);
        let err = whole[1].as_ref().unwrap_err();
        assert_eq!(err.message, "a task must be a JSON object, not a number");
        let err = read_json("a.json", broken)
            .await
            .pop()
            .unwrap()
            .unwrap_err();
        assert!(err.message.contains("at line 2 column 18"), "{err}");
        let err = read_json("a.json", unclosed)
            .await
            .pop()
            .unwrap()
            .unwrap_err();
        assert!(err.message.contains("EOF while parsing a list"), "{err}");
    }

    #[tokio::test]
    async fn items_are_yielded_before_the_body_ends() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Result<bytes::Bytes, _>>();
        let body = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
        .boxed();
        let mut stream =
            super::super::read_tasks("a.json".into(), TaskFileFormat::Json, body, limit(64));
        for n in 0..300 {
            let chunk = format!("{}{{\"n\": {n}}}", if n == 0 { "[" } else { "," });
            sender.send(Ok(chunk.into())).unwrap();
        }
        let first = stream.next().now_or_never().flatten().unwrap().unwrap();
        assert_eq!(first.task.data, json!({"n": 0}));
        sender.send(Ok("]".into())).unwrap();
        drop(sender);
        assert_eq!(stream.count().await, 299);
    }

    #[tokio::test]
    async fn an_item_over_the_limit_ends_the_array_with_the_limit_named() {
        let content = r#"[{"n": 1}, {"text": "far too long for the limit"}, {"n": 3}]"#;
        let results = read_limited(
            "a.json",
            TaskFileFormat::Json,
            content.as_bytes(),
            4,
            limit(24),
        )
        .await;
        assert_eq!(results.len(), 2, "{results:?}");
        assert_eq!(results[0].as_ref().unwrap().task.data, json!({"n": 1}));
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Item(1));
        assert!(
            err.message.starts_with(
                "the item is larger than 24 bytes, the limit set by LABELSYNC_MAX_TASK"
            ),
            "{err}"
        );
    }
}
