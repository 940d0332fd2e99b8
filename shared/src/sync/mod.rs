//! Import: a sync lists its storage one page per `ListPage` message ([`fanout`]) and turns
//! each page's keys into tasks ([`ingest`]), on the job engine in [`crate::jobs`].

pub mod batches;
pub mod fanout;
pub mod ingest;
