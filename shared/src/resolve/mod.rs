//! Media: storage URIs in task data, the `fileuri` parameter, HTTP ranges and streamed
//! responses with the caching headers browsers need, and the signatures that let a browser load
//! them without a token.

pub mod range;
pub mod rewrite;
pub mod signing;
pub mod stream;
pub mod uri;
