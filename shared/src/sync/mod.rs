//! Import: a sync lists its storage one page per `ListPage` message ([`fanout`]) and turns
//! each page's keys into tasks ([`ingest`]), on the job engine in [`crate::jobs`]; when every
//! page is done it completes ([`complete`]), sweeping objects that are gone ([`removed`]).

pub mod batches;
pub mod complete;
pub mod fanout;
pub mod ingest;
pub mod key_ranges;
pub mod removed;
