//! labelsync's common crate: everything that is not a Lambda entry point.
//!
//! The layering, bottom up (`docs/ARCHITECTURE.md` draws it): [`model`] (records) and
//! [`config`]; the guarded network [`egress`]; the three seams [`backends`] (storage), [`state`]
//! and [`queue`]; [`connectors`] (one folder per storage type, behind one registry); [`ingest`]
//! (Tasks-mode parsers); the job engine [`jobs`]; the two pipelines [`sync`] (import) and
//! [`export`]; [`dispatch`] above them; [`resolve`] and [`api`] (the HTTP surface as one axum
//! Router); [`context`] is what a process builds once and hands to every handler.
//!
//! Cargo features choose what a binary links: one per storage type, the runtimes (`embedded`,
//! `aws`), the HTTP `api`, `parquet`; `full` is all of them.

#[cfg(feature = "api")]
pub mod api;
#[cfg(feature = "aws")]
pub mod aws;
pub mod backends;
pub mod config;
pub mod connectors;
pub mod context;
pub mod dispatch;
pub mod egress;
#[cfg(feature = "embedded")]
pub mod embedded_db;
pub mod export;
pub mod ingest;
pub mod jobs;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod metrics;
pub mod model;
pub mod queue;
#[cfg(feature = "api")]
pub mod resolve;
pub mod state;
pub mod sync;
pub mod triggers;
