//! The body of one object, read chunk by chunk, with read errors named after the object.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::error::{ItemError, Position};
use crate::backends::BackendError;

/// A streaming object body that knows its key.
pub(crate) struct Body {
    key: String,
    chunks: BoxStream<'static, Result<Bytes, BackendError>>,
}

impl Body {
    pub(crate) fn new(
        key: String,
        chunks: BoxStream<'static, Result<Bytes, BackendError>>,
    ) -> Self {
        Body { key, chunks }
    }

    /// The object key.
    pub(crate) fn key(&self) -> &str {
        &self.key
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

    /// Appends the rest of the body to `buffer`.
    pub(crate) async fn read_to_end(&mut self, buffer: &mut BytesMut) -> Result<(), ItemError> {
        while let Some(chunk) = self.next_chunk().await? {
            buffer.extend_from_slice(&chunk);
        }
        Ok(())
    }
}
