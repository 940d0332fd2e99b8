//! JSONL/NDJSON: one task per non-empty line, parsed as the chunks arrive, so memory stays
//! bounded by the longest line and one chunk. A bad line is an error at that line; the next
//! lines are still read. A line over the size limit is an error too, and skipped unread.

use bytes::{Buf, BytesMut};
use serde_json::Value;

use super::body::Body;
use super::error::{ItemError, Position};
use super::item::{TaskItem, task_from_value};
use super::json_bytes::{Batch, find_newline, json_error_message, trim};

/// The rest of a JSONL body.
pub(crate) struct JsonLines {
    body: Body,
    /// Bytes read but not yet parsed; they start at the beginning of line `line`.
    buffer: BytesMut,
    ended: bool,
    /// The 1-based physical line number of the first line in `buffer`.
    line: u64,
    /// The row index of the next non-empty line.
    row: u64,
    /// Dropping the rest of a line that was over the limit.
    skipping: bool,
}

impl JsonLines {
    /// Reads on from `buffer` (which starts at physical line `line`), numbering the next task
    /// `row`. `ended` says the body is already fully read.
    pub(crate) fn new(body: Body, buffer: BytesMut, ended: bool, line: u64, row: u64) -> Self {
        JsonLines {
            body,
            buffer,
            ended,
            line,
            row,
            skipping: false,
        }
    }

    /// Parses the complete lines in the buffer, reading one chunk first when there are none;
    /// `None` after the last line.
    pub(crate) async fn step(mut self) -> (Batch, Option<Self>) {
        if !self.ended && find_newline(&self.buffer).is_none() {
            match self.body.append_chunk(&mut self.buffer).await {
                Ok(more) => self.ended = !more,
                Err(err) => return (vec![Err(err)], None),
            }
        }
        if self.skipping {
            self.skip_rest_of_line();
        }
        if self.skipping {
            return (Vec::new(), (!self.ended).then_some(self));
        }
        let mut batch = self.complete_lines();
        if self.ended {
            let last = std::mem::take(&mut self.buffer);
            batch.extend(self.parse_line(&last));
            return (batch, None);
        }
        if self.buffer.len() > self.body.max_value_bytes() {
            batch.push(Err(self
                .body
                .too_large(Position::Line(self.line), "the line")));
            self.skipping = true;
            self.buffer.clear();
        }
        self.body.buffered(self.buffer.len());
        (batch, Some(self))
    }

    /// Drops bytes up to the end of the line being skipped.
    fn skip_rest_of_line(&mut self) {
        match find_newline(&self.buffer) {
            Some(at) => {
                self.buffer.advance(at + 1);
                self.line += 1;
                self.row += 1;
                self.skipping = false;
            }
            None => self.buffer.clear(),
        }
        self.body.buffered(self.buffer.len());
    }

    /// Parses every line ended by a `\n` in the buffer and drops them from it.
    fn complete_lines(&mut self) -> Batch {
        let mut buffer = std::mem::take(&mut self.buffer);
        let mut batch = Vec::new();
        let mut consumed = 0;
        while let Some(length) = find_newline(&buffer[consumed..]) {
            batch.extend(self.parse_line(&buffer[consumed..consumed + length]));
            consumed += length + 1;
        }
        buffer.advance(consumed);
        self.buffer = buffer;
        batch
    }

    /// One physical line: `None` when it is blank, else its task or its error.
    fn parse_line(&mut self, line: &[u8]) -> Option<Result<TaskItem, ItemError>> {
        let line_number = self.line;
        self.line += 1;
        let content = trim(line);
        if content.is_empty() {
            return None;
        }
        let row_index = self.row;
        self.row += 1;
        let position = Position::Line(line_number);
        let key = self.body.key();
        let value = match serde_json::from_slice::<Value>(content) {
            Ok(value) => value,
            Err(err) => {
                let message = format!(
                    "invalid JSON: {} at column {}",
                    json_error_message(&err),
                    err.column()
                );
                return Some(Err(ItemError::new(key, position, message)));
            }
        };
        Some(
            task_from_value(value)
                .map(|task| TaskItem {
                    row_index: Some(row_index),
                    row_group: None,
                    task,
                })
                .map_err(|message| ItemError::new(key, position, message)),
        )
    }
}

#[cfg(test)]
mod tests {
    use futures::{FutureExt, StreamExt};
    use serde_json::json;

    use super::super::test_support::{
        NO_LIMIT, chunked, limit, read_chunked, read_json, read_limited, tasks, try_count,
    };
    use super::super::{TaskFileFormat, read_tasks};
    use super::*;

    #[tokio::test]
    async fn broken_second_line_is_one_error_and_the_third_line_is_read() {
        let content = "{\"n\": 1}\n{\"n\": oops}\n{\"n\": 3}\n";
        let results = read_json("data/a.jsonl", content).await;
        assert_eq!(results.len(), 3);
        let first = results[0].as_ref().unwrap();
        assert_eq!(
            (first.row_index, &first.task.data),
            (Some(0), &json!({"n": 1}))
        );
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.key, "data/a.jsonl");
        assert_eq!(err.position, Position::Line(2));
        assert!(
            err.to_string()
                .starts_with(r#""data/a.jsonl" line 2: invalid JSON: expected value at column 7"#),
            "{err}"
        );
        let third = results[2].as_ref().unwrap();
        assert_eq!(
            (third.row_index, &third.task.data),
            (Some(2), &json!({"n": 3}))
        );
    }

    #[tokio::test]
    async fn ndjson_with_blank_lines_and_crlf() {
        let content = "\r\n{\"n\": 1}\r\n\r\n   \r\n{\"n\": 2}\r\n[1]\r\n{\"n\": 4}";
        let results = read_json("b.ndjson", content).await;
        assert_eq!(results.len(), 4, "{results:?}");
        let rows: Vec<_> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|i| i.row_index)
            .collect();
        assert_eq!(rows, vec![Some(0), Some(1), Some(3)]);
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Line(6));
        assert_eq!(err.message, "a task must be a JSON object, not an array");
    }

    #[tokio::test]
    async fn predictions_without_data_fail_only_their_line() {
        let content = "{\"data\": {\"a\": 1}, \"predictions\": [{}]}\n{\"a\": 2, \"predictions\": [{}]}\n{\"a\": 3}\n";
        let results = read_json("p.jsonl", content).await;
        assert!(results[0].is_ok() && results[2].is_ok());
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Line(2));
        assert!(
            err.message.starts_with(r#"If you use "predictions""#),
            "{err}"
        );
    }

    #[tokio::test]
    async fn chunks_ending_mid_line_give_the_same_tasks() {
        let content: String = (0..50)
            .map(|n| format!("{{\"n\": {n}, \"text\": \"line {n} é\"}}\n"))
            .collect();
        let whole = read_json("c.jsonl", &content).await;
        for chunk_size in [1, 3, 5, 64] {
            let chunked = read_chunked(
                "c.jsonl",
                TaskFileFormat::Json,
                content.as_bytes(),
                chunk_size,
            )
            .await;
            assert_eq!(chunked, whole, "chunk size {chunk_size}");
        }
        let items = tasks(whole);
        assert_eq!(items.len(), 50);
        assert_eq!(items[49].row_index, Some(49));
        assert_eq!(items[49].task.data, json!({"n": 49, "text": "line 49 é"}));
    }

    #[tokio::test]
    async fn hundred_thousand_lines_stream_through() {
        let content: String = (0..100_000).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        let stream = read_tasks(
            "big.jsonl".into(),
            TaskFileFormat::Json,
            chunked(content.as_bytes(), 8192),
            NO_LIMIT,
        );
        assert_eq!(try_count(stream).await, 100_000);
    }

    #[tokio::test]
    async fn lines_are_yielded_before_the_body_ends() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Result<bytes::Bytes, _>>();
        let body = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
        .boxed();
        let mut stream = read_tasks("live.jsonl".into(), TaskFileFormat::Json, body, NO_LIMIT);
        sender
            .send(Ok("{\"n\": 0}\n{\"n\": 1}\n{\"n\"".into()))
            .unwrap();
        let row = |next: Option<Option<Result<TaskItem, ItemError>>>| {
            next.flatten().unwrap().unwrap().row_index
        };
        assert_eq!(row(stream.next().now_or_never()), Some(0));
        assert_eq!(row(stream.next().now_or_never()), Some(1));
        assert!(
            stream.next().now_or_never().is_none(),
            "line 3 is not complete yet"
        );
        sender.send(Ok(": 2}\n".into())).unwrap();
        assert_eq!(row(stream.next().now_or_never()), Some(2));
        drop(sender);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_an_error_and_the_next_lines_are_read() {
        let long = format!("{{\"text\": \"{}\"}}", "x".repeat(100));
        let content = format!("{{\"n\": 0}}\n{long}\n{{\"n\": 2}}\n{long}");
        let results = read_limited(
            "l.jsonl",
            TaskFileFormat::Json,
            content.as_bytes(),
            7,
            limit(40),
        )
        .await;
        assert_eq!(results.len(), 4, "{results:?}");
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Line(2));
        assert!(
            err.message.starts_with(
                "the line is larger than 40 bytes, the limit set by LABELSYNC_MAX_TASK"
            ),
            "{err}"
        );
        let third = results[2].as_ref().unwrap();
        assert_eq!(
            (third.row_index, &third.task.data),
            (Some(2), &json!({"n": 2}))
        );
        assert_eq!(results[3].as_ref().unwrap_err().position, Position::Line(4));
    }
}
