//! Media: storage URIs in task data, the `fileuri` parameter, HTTP ranges and streamed
//! responses with the caching headers browsers need.

pub mod range;
pub mod rewrite;
pub mod stream;
pub mod uri;
