//! Annotations out: every annotation is one JSON object in each target storage of its project,
//! rewritten on every change and deleted with it when the storage has `can_delete_objects`.
//!
//! An annotation change is recorded in the state store's outbox in the same commit as the
//! change; [`relay`] turns each into one `ExportAnnotation` message per target storage, so a
//! failing target is retried on its own while the healthy ones are written at once
//! ([`target`]). A target storage's sync writes every annotation of the project ([`page`]).

mod document;
pub mod page;
pub mod relay;
pub mod target;

pub use document::annotation_document;
pub use page::handle_export_page;
pub use relay::{announce, drain_outbox, relay_outbox};
pub use target::{LiveExport, handle_export_annotation, show_live_export, write_annotation};
