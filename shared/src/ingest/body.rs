//! The body of one object, read chunk by chunk, with read errors named after the object.
//!
//! Readers buffer one value at a time (a line, an array item, a whole object, a Parquet file).
//! A value may not grow past its [`Limit`], and only one reader in the process holds a value
//! over [`LARGE_VALUE_BYTES`] at a time, so memory stays bounded however many objects are read
//! at once.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::error::{ItemError, Position};
use crate::backends::BackendError;

/// A buffered value larger than this needs the process-wide large-value permit.
pub(crate) const LARGE_VALUE_BYTES: usize = 1024 * 1024;

/// One large value buffered at a time in the whole process.
static LARGE_VALUES: Semaphore = Semaphore::const_new(1);

/// The most bytes one value may take, and the setting that says so.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    pub(crate) bytes: usize,
    pub(crate) variable: &'static str,
}

/// A streaming object body that knows its key and its size limit.
pub(crate) struct Body {
    key: String,
    chunks: BoxStream<'static, Result<Bytes, BackendError>>,
    limit: Limit,
    large: Option<SemaphorePermit<'static>>,
}

impl Body {
    pub(crate) fn new(
        key: String,
        chunks: BoxStream<'static, Result<Bytes, BackendError>>,
        limit: Limit,
    ) -> Self {
        Body {
            key,
            chunks,
            limit,
            large: None,
        }
    }

    /// The object key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The most bytes one value may take.
    pub(crate) fn max_value_bytes(&self) -> usize {
        self.limit.bytes
    }

    /// The next chunk, `None` at the end of the body.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>, ItemError> {
        match self.chunks.next().await {
            None => Ok(None),
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(err)) => Err(ItemError::new(
                &self.key,
                Position::Whole,
                format!("reading the object failed: {err}"),
            )),
        }
    }

    /// Appends the next chunk to `buffer`, which holds an unfinished value; `Ok(false)` at the
    /// end of the body. Waits for the large-value permit when the buffer grows past
    /// [`LARGE_VALUE_BYTES`].
    pub(crate) async fn append_chunk(&mut self, buffer: &mut BytesMut) -> Result<bool, ItemError> {
        let Some(chunk) = self.next_chunk().await? else {
            return Ok(false);
        };
        if buffer.len() + chunk.len() > LARGE_VALUE_BYTES && self.large.is_none() {
            let permit = LARGE_VALUES.acquire().await.expect("never closed");
            self.large = Some(permit);
        }
        buffer.extend_from_slice(&chunk);
        Ok(true)
    }

    /// Gives the large-value permit back once the buffer is small again.
    pub(crate) fn buffered(&mut self, length: usize) {
        if length <= LARGE_VALUE_BYTES {
            self.large = None;
        }
    }

    /// Appends the rest of the body to `buffer`, refusing a body over the limit.
    pub(crate) async fn read_to_end(&mut self, buffer: &mut BytesMut) -> Result<(), ItemError> {
        while self.append_chunk(buffer).await? {
            if buffer.len() > self.limit.bytes {
                return Err(self.too_large(Position::Whole, "the object"));
            }
        }
        Ok(())
    }

    /// The error for a value (`what`: "the object", "the line", "the item") over the limit.
    pub(crate) fn too_large(&self, position: Position, what: &str) -> ItemError {
        let message = format!(
            "{what} is larger than {}, the limit set by {}; split it, or ask the operator to \
             raise the limit",
            human_bytes(self.limit.bytes),
            self.limit.variable
        );
        ItemError::new(&self.key, position, message)
    }
}

/// `16777216` as `16 MiB`, `1000` as `1000 bytes`.
fn human_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    const KIB: usize = 1024;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_bytes(64 * 1024), "64 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
