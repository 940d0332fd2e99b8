//! labelsync's common crate: everything that is not a Lambda entry point.
//!
//! The layering, bottom up: [`model`] (records), the three seams [`backends`] (storage),
//! [`state`] and [`queue`], then the logic over them: [`storage_types`] (Label Studio's storage
//! types and their settings), [`ingest`] (objects to tasks), [`sync`] (the job state machine and
//! the queue message handlers), [`resolve`] (storage URIs to URLs and proxy streams), [`export`]
//! (annotations out), and on top [`api`], the HTTP surface as one axum Router. [`context`] is
//! what a process builds once and hands to every handler. [`egress`] is the one way to connect
//! to a host a user typed.

pub mod api;
pub mod aws;
pub mod backends;
pub mod config;
pub mod connectors;
pub mod context;
pub mod dispatch;
pub mod egress;
pub mod embedded_db;
pub mod export;
pub mod ingest;
pub mod jobs;
pub mod lambda;
pub mod model;
pub mod queue;
pub mod resolve;
pub mod state;
pub mod sync;
