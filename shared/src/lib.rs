//! labelsync's common crate: everything that is not a Lambda entry point.
//!
//! The layering, bottom up: [`model`] (records), the three seams [`backends`] (storage),
//! [`state`] and [`queue`], then the logic over them: [`storage_types`] (Label Studio's storage
//! types and their settings), [`ingest`] (objects to tasks), [`sync`] (the job state machine and
//! the queue message handlers), [`resolve`] (storage URIs to URLs and proxy streams), [`export`]
//! (annotations out), and on top [`api`], the HTTP surface as one axum Router.

pub mod backends;
pub mod embedded_db;
pub mod ingest;
pub mod model;
pub mod queue;
pub mod state;
