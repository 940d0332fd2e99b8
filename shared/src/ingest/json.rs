//! The JSON family in Tasks mode: one JSON object, a JSON array of tasks, or JSONL/NDJSON,
//! told apart by the content (Label Studio's `load_tasks_json_lso`).
//!
//! The first non-whitespace byte (after an optional UTF-8 BOM) decides: `[` is an array
//! ([`super::json_array`]); `{` is one object when the whole content is one JSON object,
//! otherwise JSONL ([`super::jsonl`]), streamed line by line. To decide without holding a large
//! JSONL file, only the first line is buffered: if it parses alone and another non-empty line
//! follows, the file is JSONL; if it does not parse alone, the file can only be one
//! (pretty-printed) object, so the whole document is buffered and parsed.

use bytes::{Buf, BytesMut};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde_json::Value;

use super::body::{Body, Limit};
use super::error::{ItemError, Position};
use super::item::{TaskItem, task_from_value};
use super::json_array::ArrayItems;
use super::json_bytes::{Batch, count_newlines, find_newline, is_json_whitespace, trim};
use super::jsonl::JsonLines;
use crate::backends::BackendError;

/// The UTF-8 byte order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What to tell the user whose object is not JSON.
const NOT_JSON_ADVICE: &str = "Tasks mode (use_blob_urls=false) reads every object as tasks in \
    JSON, JSONL or Parquet. If you're trying to import non-JSON data (images, audio, text, etc.), \
    edit the storage settings and switch the import method to Files (use_blob_urls=true)";

/// Streams the tasks of a JSON, JSON array or JSONL object.
pub(crate) fn read_json_tasks(
    key: String,
    chunks: BoxStream<'static, Result<bytes::Bytes, BackendError>>,
    limit: Limit,
) -> BoxStream<'static, Result<TaskItem, ItemError>> {
    let start = Phase::Start(Body::new(key, chunks, limit));
    stream::unfold(Some(start), |phase| async move {
        let (batch, next) = phase?.step().await;
        Some((stream::iter(batch), next))
    })
    .flatten()
    .boxed()
}

/// Where the reader is.
enum Phase {
    /// Nothing decided yet.
    Start(Body),
    /// A JSON array, streamed item by item.
    Array(ArrayItems),
    /// JSONL, read line by line as chunks arrive.
    Lines(JsonLines),
}

impl Phase {
    /// The next tasks, and the phase after them (`None` when the object is done).
    async fn step(self) -> (Batch, Option<Phase>) {
        match self {
            Phase::Start(body) => start(body).await,
            Phase::Array(mut items) => {
                let batch = items.next_batch().await;
                let next = (!items.is_done()).then_some(Phase::Array(items));
                (batch, next)
            }
            Phase::Lines(lines) => {
                let (batch, lines) = lines.step().await;
                (batch, lines.map(Phase::Lines))
            }
        }
    }
}

/// A buffered prefix of the body.
struct Prefix {
    body: Body,
    buffer: BytesMut,
    ended: bool,
}

impl Prefix {
    /// Reads one more chunk; `Ok(false)` at the end of the body.
    async fn read_more(&mut self) -> Result<bool, ItemError> {
        self.ended = !self.body.append_chunk(&mut self.buffer).await?;
        Ok(!self.ended)
    }

    /// Reads the rest of the body into the buffer, within the size limit.
    async fn read_all(&mut self) -> Result<(), ItemError> {
        if !self.ended {
            self.body.read_to_end(&mut self.buffer).await?;
            self.ended = true;
        }
        Ok(())
    }

    /// Length of the BOM at the start of the buffer (0 or 3).
    fn bom_len(&self) -> usize {
        if self.buffer.starts_with(BOM) {
            BOM.len()
        } else {
            0
        }
    }
}

/// Detects the format from the first content byte and starts the matching reader.
async fn start(body: Body) -> (Batch, Option<Phase>) {
    let mut prefix = Prefix {
        body,
        buffer: BytesMut::new(),
        ended: false,
    };
    let first = loop {
        match content_start(&prefix.buffer, prefix.ended) {
            Scan::Found(at) => break at,
            Scan::Empty => return fatal(not_json(prefix.body.key(), None)),
            Scan::NeedMore => {
                if let Err(err) = prefix.read_more().await {
                    return fatal(err);
                }
            }
        }
    };
    match prefix.buffer[first] {
        b'[' => start_array(prefix, first),
        b'{' => match object_or_lines(prefix, first).await {
            Ok(started) => started,
            Err(err) => fatal(err),
        },
        other => fatal(not_json(prefix.body.key(), Some(other))),
    }
}

/// Starts streaming the array's items from the byte after its `[`.
fn start_array(mut prefix: Prefix, first: usize) -> (Batch, Option<Phase>) {
    let bom = prefix.bom_len();
    let before_items = &prefix.buffer[bom..=first];
    let line = 1 + count_newlines(before_items);
    let line_start = before_items
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let column = (before_items.len() - line_start) as u64 + 1;
    prefix.buffer.advance(first + 1);
    let items = ArrayItems::new(prefix.body, prefix.buffer, prefix.ended, line, column);
    (Vec::new(), Some(Phase::Array(items)))
}

/// A `{` file: one object (pretty-printed or not) or JSONL.
async fn object_or_lines(
    mut prefix: Prefix,
    first: usize,
) -> Result<(Batch, Option<Phase>), ItemError> {
    let newline = loop {
        if let Some(at) = find_newline(&prefix.buffer[first..]) {
            break first + at;
        }
        if prefix.buffer.len() > prefix.body.max_value_bytes() {
            return Err(prefix.body.too_large(Position::Whole, "the first line"));
        }
        if !prefix.read_more().await? {
            return Ok((whole_document(&prefix), None));
        }
    };
    let Ok(first_value) = serde_json::from_slice::<Value>(trim(&prefix.buffer[first..newline]))
    else {
        prefix.read_all().await?;
        return Ok((whole_document(&prefix), None));
    };
    while is_blank(&prefix.buffer[newline + 1..]) {
        if prefix.buffer.len() > prefix.body.max_value_bytes() {
            return Err(prefix.body.too_large(Position::Whole, "the object"));
        }
        if !prefix.read_more().await? {
            return Ok((vec![single_task(prefix.body.key(), first_value)], None));
        }
    }
    Ok(start_lines(prefix, first, newline, first_value))
}

/// JSONL: the first line's task, then a line reader for the rest.
fn start_lines(
    mut prefix: Prefix,
    first: usize,
    newline: usize,
    first_value: Value,
) -> (Batch, Option<Phase>) {
    let first_line = 1 + count_newlines(&prefix.buffer[..first]);
    let key = prefix.body.key().to_owned();
    let item = task_from_value(first_value)
        .map(|task| TaskItem {
            row_index: Some(0),
            row_group: None,
            task,
        })
        .map_err(|message| ItemError::new(&key, Position::Line(first_line), message));
    prefix.buffer.advance(newline + 1);
    let lines = JsonLines::new(prefix.body, prefix.buffer, prefix.ended, first_line + 1, 1);
    (vec![item], Some(Phase::Lines(lines)))
}

/// The buffer holds the whole object: one task, or one error naming line and column.
fn whole_document(prefix: &Prefix) -> Batch {
    let key = prefix.body.key();
    match serde_json::from_slice::<Value>(&prefix.buffer[prefix.bom_len()..]) {
        Ok(value) => vec![single_task(key, value)],
        Err(err) => vec![Err(ItemError::new(
            key,
            Position::Whole,
            format!("invalid JSON: {err}"),
        ))],
    }
}

/// The one task of a single-object file.
fn single_task(key: &str, value: Value) -> Result<TaskItem, ItemError> {
    task_from_value(value)
        .map(|task| TaskItem {
            row_index: None,
            row_group: None,
            task,
        })
        .map_err(|message| ItemError::new(key, Position::Whole, message))
}

/// The error for content that is neither JSON nor JSONL (`first`: its first byte, if any).
fn not_json(key: &str, first: Option<u8>) -> ItemError {
    let found = match first {
        None => "the object is empty or holds only whitespace".to_owned(),
        Some(byte) if byte.is_ascii_graphic() => {
            format!(
                "the content starts with '{}', not '{{' or '['",
                byte as char
            )
        }
        Some(byte) => format!("the content starts with byte 0x{byte:02X}, not '{{' or '['"),
    };
    let message = format!("can't import JSON-formatted tasks: {found}. {NOT_JSON_ADVICE}");
    ItemError::new(key, Position::Whole, message)
}

/// A single error that ends the object.
fn fatal(err: ItemError) -> (Batch, Option<Phase>) {
    (vec![Err(err)], None)
}

/// Where content starts in a buffered prefix.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// The offset of the first content byte.
    Found(usize),
    /// The body ended with no content.
    Empty,
    /// Only a BOM and whitespace so far.
    NeedMore,
}

/// Finds the first byte after an optional BOM and JSON whitespace.
fn content_start(buffer: &[u8], ended: bool) -> Scan {
    if !ended && buffer.len() < BOM.len() && BOM.starts_with(buffer) {
        return Scan::NeedMore;
    }
    let bom = if buffer.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    match buffer[bom..]
        .iter()
        .position(|byte| !is_json_whitespace(*byte))
    {
        Some(at) => Scan::Found(bom + at),
        None if ended => Scan::Empty,
        None => Scan::NeedMore,
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|byte| is_json_whitespace(*byte))
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use serde_json::json;

    use super::super::TaskFileFormat;
    use super::super::test_support::{
        NO_LIMIT, failing_after, limit, only_error, read_chunked, read_json, read_limited, tasks,
    };
    use super::*;
    use crate::model::NewTask;

    #[tokio::test]
    async fn one_object_is_one_task_without_row() {
        let items = tasks(read_json("t.json", r#"{"text": "hi"}"#).await);
        assert_eq!(
            items,
            vec![TaskItem {
                row_index: None,
                row_group: None,
                task: NewTask::from_data(json!({"text": "hi"}))
            }]
        );
    }

    #[tokio::test]
    async fn pretty_printed_object_is_one_task_in_any_chunking() {
        let content = "\n{\n  \"text\": \"hi\",\n  \"inner\": {\"a\": 1}\n}\n\n";
        for chunk_size in [1, 3, 7, content.len()] {
            let items = tasks(
                read_chunked(
                    "t.json",
                    TaskFileFormat::Json,
                    content.as_bytes(),
                    chunk_size,
                )
                .await,
            );
            assert_eq!(items.len(), 1, "chunk size {chunk_size}");
            assert_eq!(items[0].row_index, None);
            assert_eq!(items[0].task.data, json!({"text": "hi", "inner": {"a": 1}}));
        }
    }

    #[tokio::test]
    async fn object_on_one_line_followed_by_blank_lines_is_one_task() {
        let items = tasks(read_json("t.json", "{\"a\": 1}\r\n\n  \n").await);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].row_index, None);
    }

    #[tokio::test]
    async fn wrapped_object_keeps_meta_and_allow_skip_false() {
        let content = r#"{"data": {"text": "x"}, "meta": {"src": "a"}, "allow_skip": false}"#;
        let items = tasks(read_json("t.json", content).await);
        assert_eq!(items[0].task.data, json!({"text": "x"}));
        assert_eq!(items[0].task.meta, json!({"src": "a"}));
        assert!(!items[0].task.allow_skip);
    }

    #[tokio::test]
    async fn array_items_get_rows_and_may_mix_bare_and_wrapped() {
        let content =
            r#"[{"text": "a"}, {"data": {"text": "b"}, "predictions": [{"result": []}]}]"#;
        let items = tasks(read_json("t.json", content).await);
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].row_index, items[1].row_index), (Some(0), Some(1)));
        assert_eq!(items[0].task.data, json!({"text": "a"}));
        assert_eq!(items[1].task.data, json!({"text": "b"}));
        assert_eq!(items[1].task.predictions.len(), 1);
        assert!(items.iter().all(|item| item.row_group.is_none()));
    }

    #[tokio::test]
    async fn bom_is_skipped() {
        let items = tasks(read_json("t.json", "\u{FEFF}{\"a\": 1}").await);
        assert_eq!(items[0].task.data, json!({"a": 1}));
        let content = "\u{FEFF}[{\"a\": 1}]".as_bytes();
        let items = tasks(read_chunked("t.json", TaskFileFormat::Json, content, 1).await);
        assert_eq!(items[0].row_index, Some(0));
        let content = "\u{FEFF}{\"a\": 1}\n{\"a\": 2}\n".as_bytes();
        let items = tasks(read_chunked("t.jsonl", TaskFileFormat::Json, content, 2).await);
        assert_eq!(items.len(), 2);
    }

    #[tokio::test]
    async fn empty_or_blank_content_is_one_error() {
        for content in ["", "  \n\t\r\n", "\u{FEFF}"] {
            let err = only_error(read_json("e.json", content).await);
            assert_eq!(err.position, Position::Whole);
            assert!(err.message.contains("empty"), "{err}");
            assert!(err.message.contains("Files (use_blob_urls=true)"), "{err}");
        }
    }

    #[tokio::test]
    async fn text_is_not_json() {
        let err = only_error(read_json("notes.json", "hello\nworld\n").await);
        assert_eq!(err.position, Position::Whole);
        let text = err.to_string();
        assert!(
            text.starts_with(r#""notes.json": can't import JSON-formatted tasks"#),
            "{text}"
        );
        assert!(text.contains("starts with 'h'"), "{text}");
        let err = only_error(read_chunked("png", TaskFileFormat::Json, b"\x89PNG\r\n", 3).await);
        assert!(err.message.contains("starts with byte 0x89"), "{err}");
    }

    #[tokio::test]
    async fn broken_object_is_one_error_with_line_and_column() {
        let err = only_error(read_json("b.json", "{broken").await);
        assert_eq!(err.position, Position::Whole);
        assert!(err.message.starts_with("invalid JSON: "), "{err}");
        assert!(err.message.contains("line 1 column 2"), "{err}");

        let err = only_error(read_json("b.json", "{\n  \"a\": 1,\n  \"b\": oops\n}\n").await);
        assert!(err.message.contains("line 3 column"), "{err}");
    }

    #[tokio::test]
    async fn predictions_without_data_is_an_error_for_the_object() {
        let err = only_error(
            read_json(
                "p.json",
                r#"{"text": "x", "predictions": [{"result": []}]}"#,
            )
            .await,
        );
        assert_eq!(err.position, Position::Whole);
        assert_eq!(
            err.message,
            r#"If you use "predictions" field in the task, you must put "data" field in the task too"#
        );
    }

    #[tokio::test]
    async fn body_read_error_is_yielded_once() {
        let results: Vec<_> = read_tasks_from("r.json", failing_after(b"{\"a\":"))
            .collect()
            .await;
        let err = only_error(results);
        assert_eq!(err.position, Position::Whole);
        assert!(err.message.contains("connection reset"), "{err}");
    }

    fn read_tasks_from(
        key: &str,
        body: BoxStream<'static, Result<bytes::Bytes, BackendError>>,
    ) -> BoxStream<'static, Result<TaskItem, ItemError>> {
        super::super::read_tasks(key.to_owned(), TaskFileFormat::Json, body, NO_LIMIT)
    }

    #[tokio::test]
    async fn object_or_first_line_over_the_limit_is_one_error_naming_the_limit() {
        let pretty = format!("{{\n  \"text\": \"{}\"\n}}\n", "x".repeat(100));
        let one_line = format!("{{\"text\": \"{}\"}}", "x".repeat(100));
        for (content, what) in [(pretty, "the object"), (one_line, "the first line")] {
            let content = content.as_bytes();
            let fits = read_limited(
                "o.json",
                TaskFileFormat::Json,
                content,
                9,
                limit(content.len()),
            )
            .await;
            assert_eq!(tasks(fits).len(), 1);
            let err = only_error(
                read_limited("o.json", TaskFileFormat::Json, content, 9, limit(64)).await,
            );
            assert_eq!(err.position, Position::Whole);
            let expected = format!(
                "{what} is larger than 64 bytes, the limit set by LABELSYNC_MAX_TASK_BYTES"
            );
            assert!(err.message.starts_with(&expected), "{err}");
        }
    }

    #[test]
    fn content_start_waits_for_a_whole_bom() {
        assert_eq!(content_start(b"", false), Scan::NeedMore);
        assert_eq!(content_start(b"\xEF\xBB", false), Scan::NeedMore);
        assert_eq!(content_start(b"\xEF\xBB\xBF \n", false), Scan::NeedMore);
        assert_eq!(content_start(b"\xEF\xBB\xBF \n{", false), Scan::Found(5));
        assert_eq!(content_start(b"\xEF\xBB", true), Scan::Found(0));
        assert_eq!(content_start(b" \r\n", true), Scan::Empty);
    }
}
