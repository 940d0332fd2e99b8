//! Parquet in Tasks mode: one task per row. The body is collected (Parquet keeps its metadata in
//! a footer), then a blocking task reads it row group by row group, turns each record batch into
//! JSON objects with `arrow_json` (struct columns become objects, lists arrays, timestamps
//! RFC 3339 strings) and makes each row a task with [`task_from_value`], so a `data` struct
//! column gives wrapped tasks. Rows travel through a bounded channel to the stream.

use ::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use arrow_array::RecordBatch;
use arrow_json::writer::{LineDelimited, WriterBuilder};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::body::{Body, Limit};
use super::error::{ItemError, Position};
use super::item::{TaskItem, task_from_value};
use crate::backends::BackendError;

/// Rows (tasks) waiting in the channel at most.
const CHANNEL_CAPACITY: usize = 1024;
/// Rows decoded per record batch.
const ROWS_PER_BATCH: usize = 1024;

type Row = Result<TaskItem, ItemError>;

/// Where the Parquet stream is.
enum Phase {
    /// The body is still to be collected.
    Collect(Body),
    /// The blocking reader sends rows; the body holds the large-value permit until it is done.
    Receive {
        body: Body,
        rows: mpsc::Receiver<Row>,
        reader: JoinHandle<()>,
    },
}

/// Streams the rows of a Parquet object as tasks.
pub(crate) fn read_parquet_tasks(
    key: String,
    chunks: BoxStream<'static, Result<Bytes, BackendError>>,
    limit: Limit,
) -> BoxStream<'static, Result<TaskItem, ItemError>> {
    let start = Phase::Collect(Body::new(key, chunks, limit));
    stream::unfold(Some(start), |phase| async move {
        let (row, next) = step(phase?).await;
        Some((row, next))
    })
    .filter_map(|row| async move { row })
    .boxed()
}

/// One step: collect and start the reader, or take the next row from it.
async fn step(phase: Phase) -> (Option<Row>, Option<Phase>) {
    match phase {
        Phase::Collect(mut body) => {
            let mut buffer = BytesMut::new();
            if let Err(err) = body.read_to_end(&mut buffer).await {
                return (Some(Err(err)), None);
            }
            let (sender, rows) = mpsc::channel(CHANNEL_CAPACITY);
            let file = buffer.freeze();
            let reader_key = body.key().to_owned();
            let reader = tokio::task::spawn_blocking(move || {
                let emit = |row: Row| sender.blocking_send(row).is_ok();
                if let Err(err) = read_rows(&reader_key, file, emit) {
                    let _ = sender.blocking_send(Err(err));
                }
            });
            (None, Some(Phase::Receive { body, rows, reader }))
        }
        Phase::Receive {
            body,
            mut rows,
            reader,
        } => match rows.recv().await {
            Some(row) => (Some(row), Some(Phase::Receive { body, rows, reader })),
            None => match reader.await {
                Ok(()) => (None, None),
                Err(err) => {
                    let message = format!("the Parquet reader stopped unexpectedly: {err}");
                    (
                        Some(Err(ItemError::new(body.key(), Position::Whole, message))),
                        None,
                    )
                }
            },
        },
    }
}

/// Reads every row of the Parquet `file` and hands each to `emit`, which returns `false` when
/// nobody listens any more. Errors for one row are emitted; an error that leaves the rest
/// unreadable is returned.
fn read_rows(key: &str, file: Bytes, mut emit: impl FnMut(Row) -> bool) -> Result<(), ItemError> {
    let metadata =
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|err| {
            ItemError::new(
                key,
                Position::Whole,
                format!("not a readable Parquet file: {err}"),
            )
        })?;
    let mut row = 0u64;
    for group_index in 0..metadata.metadata().num_row_groups() {
        let group = group_index as u64;
        let unreadable = |row: u64, err: String| {
            let message = format!("reading the Parquet file failed: {err}");
            ItemError::new(key, Position::Row { group, row }, message)
        };
        let batches =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), metadata.clone())
                .with_row_groups(vec![group_index])
                .with_batch_size(ROWS_PER_BATCH)
                .build()
                .map_err(|err| unreadable(row, err.to_string()))?;
        for batch in batches {
            let batch = batch.map_err(|err| unreadable(row, err.to_string()))?;
            for value in batch_to_json(&batch).map_err(|err| unreadable(row, err))? {
                let position = Position::Row { group, row };
                let item = task_from_value(value)
                    .map(|task| TaskItem {
                        row_index: Some(row),
                        row_group: Some(group),
                        task,
                    })
                    .map_err(|message| ItemError::new(key, position, message));
                row += 1;
                if !emit(item) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// The rows of a record batch as JSON objects; null columns are kept as `null`.
fn batch_to_json(batch: &RecordBatch) -> Result<Vec<Value>, String> {
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, LineDelimited>(Vec::new());
    writer.write(batch).map_err(|err| err.to_string())?;
    writer.finish().map_err(|err| err.to_string())?;
    let lines = writer.into_inner();
    lines
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).map_err(|err| err.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ::parquet::arrow::ArrowWriter;
    use ::parquet::file::properties::WriterProperties;
    use arrow_array::types::Int64Type;
    use arrow_array::{
        ArrayRef, BooleanArray, Int64Array, ListArray, StringArray, StructArray,
        TimestampMillisecondArray,
    };
    use serde_json::json;

    use super::super::TaskFileFormat;
    use super::super::test_support::{limit, only_error, read_chunked, read_limited, tasks};
    use super::*;

    /// `columns` written as a Parquet file with at most `rows_per_group` rows per row group.
    fn parquet_file(columns: Vec<(&str, ArrayRef)>, rows_per_group: usize) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows_per_group))
            .build();
        let mut file = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        file
    }

    /// Five bare rows (text, n, a UTC timestamp) in row groups of 3 and 2.
    fn bare_rows_file() -> Vec<u8> {
        let text = StringArray::from(vec![Some("a"), Some("b"), None, Some("d"), Some("e")]);
        let n = Int64Array::from(vec![10, 11, 12, 13, 14]);
        let second = 1_700_000_000_000i64;
        let at =
            TimestampMillisecondArray::from((0..5).map(|i| second + i * 1000).collect::<Vec<_>>())
                .with_timezone("UTC");
        parquet_file(
            vec![
                ("text", Arc::new(text)),
                ("n", Arc::new(n)),
                ("at", Arc::new(at)),
            ],
            3,
        )
    }

    #[tokio::test]
    async fn bare_rows_get_their_row_group_and_global_row_index() {
        let items = tasks(
            read_chunked(
                "rows.parquet",
                TaskFileFormat::Parquet,
                &bare_rows_file(),
                3,
            )
            .await,
        );
        let places: Vec<_> = items
            .iter()
            .map(|item| (item.row_group, item.row_index))
            .collect();
        assert_eq!(
            places,
            vec![
                (Some(0), Some(0)),
                (Some(0), Some(1)),
                (Some(0), Some(2)),
                (Some(1), Some(3)),
                (Some(1), Some(4))
            ]
        );
        assert_eq!(
            items[0].task.data,
            json!({"text": "a", "n": 10, "at": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(items[2].task.data["text"], Value::Null);
        assert_eq!(items[4].task.data["n"], json!(14));
        assert_eq!(items[4].task.data["at"], json!("2023-11-14T22:13:24Z"));
        assert!(
            items
                .iter()
                .all(|item| item.task.allow_skip && item.task.predictions.is_empty())
        );
    }

    #[tokio::test]
    async fn data_struct_column_makes_wrapped_tasks() {
        let data = StructArray::try_from(vec![
            (
                "text",
                Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let allow_skip = BooleanArray::from(vec![Some(false), None]);
        let file = parquet_file(
            vec![
                ("data", Arc::new(data)),
                ("allow_skip", Arc::new(allow_skip)),
            ],
            1,
        );
        let items =
            tasks(read_chunked("wrapped.parquet", TaskFileFormat::Parquet, &file, 64).await);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].task.data, json!({"text": "x", "n": 1}));
        assert!(!items[0].task.allow_skip);
        assert_eq!((items[1].row_group, items[1].row_index), (Some(1), Some(1)));
        assert_eq!(items[1].task.data, json!({"text": "y", "n": 2}));
        assert!(items[1].task.allow_skip);
    }

    #[tokio::test]
    async fn a_bad_row_is_an_error_at_that_row_and_reading_goes_on() {
        let predictions = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![]),
            Some(vec![Some(7)]),
            None,
        ]);
        let text = StringArray::from(vec!["a", "b", "c"]);
        let file = parquet_file(
            vec![
                ("text", Arc::new(text)),
                ("predictions", Arc::new(predictions)),
            ],
            2,
        );
        let results = read_chunked("p.parquet", TaskFileFormat::Parquet, &file, 1000).await;
        assert_eq!(results.len(), 3);
        assert_eq!(
            results[0].as_ref().unwrap().task.data,
            json!({"text": "a", "predictions": []})
        );
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.position, Position::Row { group: 0, row: 1 });
        assert!(
            err.to_string()
                .starts_with(r#""p.parquet" row 1 (row group 0): If you use "predictions""#),
            "{err}"
        );
        assert_eq!(results[2].as_ref().unwrap().row_index, Some(2));
    }

    #[tokio::test]
    async fn corrupt_or_truncated_parquet_is_one_error() {
        let err = only_error(
            read_chunked(
                "bad.parquet",
                TaskFileFormat::Parquet,
                b"PAR1 not really",
                4,
            )
            .await,
        );
        assert_eq!(err.position, Position::Whole);
        assert!(
            err.to_string()
                .starts_with(r#""bad.parquet": not a readable Parquet file"#),
            "{err}"
        );

        let file = bare_rows_file();
        let truncated = &file[..file.len() / 2];
        let err =
            only_error(read_chunked("cut.parquet", TaskFileFormat::Parquet, truncated, 100).await);
        assert_eq!(err.position, Position::Whole);

        let err = only_error(read_chunked("empty.parquet", TaskFileFormat::Parquet, b"", 1).await);
        assert_eq!(err.position, Position::Whole);
    }

    #[tokio::test]
    async fn file_over_the_limit_is_one_error_naming_the_limit() {
        let file = bare_rows_file();
        let at_limit = read_limited(
            "r.parquet",
            TaskFileFormat::Parquet,
            &file,
            100,
            limit(file.len()),
        )
        .await;
        assert_eq!(tasks(at_limit).len(), 5);
        let bytes = file.len() - 1;
        let err = only_error(
            read_limited(
                "r.parquet",
                TaskFileFormat::Parquet,
                &file,
                100,
                limit(bytes),
            )
            .await,
        );
        assert_eq!(err.position, Position::Whole);
        let expected = format!("the object is larger than {bytes} bytes, the limit set by");
        assert!(err.message.starts_with(&expected), "{err}");
        assert!(err.message.contains("LABELSYNC_MAX_PARQUET_BYTES"), "{err}");
    }

    #[test]
    fn reading_stops_when_nobody_listens() {
        let mut seen = 0;
        read_rows("rows.parquet", Bytes::from(bare_rows_file()), |_| {
            seen += 1;
            seen < 2
        })
        .unwrap();
        assert_eq!(seen, 2);
    }
}
