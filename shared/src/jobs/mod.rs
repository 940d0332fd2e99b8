//! The job engine both pipelines share (import: list → ingest; export: annotations out): the
//! queue messages, starting a job, marking it in progress, telling whether a message still
//! belongs to a running job, finishing it and showing the result on its storage, and the one
//! decision of what becomes of a failed message. Neither pipeline imports the other; both
//! import this, and `dispatch` sits above them.

pub mod error;
pub mod finish;
pub mod messages;
pub mod running;
pub mod start;

pub use error::{Fate, HandlerError, is_permanent};
pub use messages::{BatchKey, Message};
pub use running::{describe, fail_if_stale, running_job, running_job_storage};
