//! Egress guard: the one way to connect to a host a user typed (a storage's `host`,
//! `s3_endpoint`, ...).
//!
//! Threat: an API user names an address inside the server's network (loopback, the cloud
//! metadata service at 169.254.169.254, private ranges) and makes the server connect there
//! for them (server-side request forgery), directly, through a DNS name, through a name that
//! answers differently the second time it is asked (DNS rebinding), or through a redirect.
//!
//! The rules:
//! - check at connect time: HTTP clients resolve through [`Guard`] ([`reqwest_builder`],
//!   [`aws_http_client`]), other clients connect to [`connect_tcp`]'s address;
//! - connect to what was checked: a name is resolved once, every address must pass, and the
//!   connection goes to those addresses, never to a second answer;
//! - never follow redirects;
//! - IP literals never reach a resolver, so they are checked where the URL or host is taken in
//!   ([`Guard::check_url`], [`Guard::check_literal`]);
//! - operator settings are trusted: endpoints from the environment are not user input, and
//!   `LABELSYNC_ALLOW_PRIVATE_ENDPOINTS` ([`EgressPolicy::parse`]) opens private addresses,
//!   all or by range.

mod address;
mod error;
mod http;
mod policy;
mod resolver;

pub use address::{embedded_ipv4, special_purpose};
pub use error::{EgressError, refusal_in};
#[cfg(feature = "aws-http-client")]
pub use http::aws_http_client;
pub use http::{connect_tcp, reqwest_builder};
pub use policy::{EgressPolicy, InvalidNet, IpNet, PrivateAllowance};
pub use resolver::{Guard, Resolve, SystemResolver};
