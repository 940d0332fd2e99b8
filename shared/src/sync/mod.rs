//! Sync: the job state machine and the queue message handlers.
//!
//! `POST …/sync` → [`start::start_sync`] (job row, storage `queued`, first message) →
//! [`fanout`] lists one page per `ListPage` message and cuts it into `IngestBatch` messages →
//! [`ingest`] turns keys into tasks → [`finish`] moves the storage to its final status once the
//! last page is listed and every batch is done. [`worker`] runs handlers from a queue.

pub mod batch;
pub mod dispatch;
pub mod error;
pub mod fanout;
pub mod finish;
pub mod ingest;
pub mod messages;
pub mod start;
pub mod worker;

pub use error::HandlerError;
pub use messages::Message;
