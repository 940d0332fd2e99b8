use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProjectId;

/// An API token's id, allocated by the state store like every other kind's.
pub type TokenId = u64;

/// A project-scoped API token as stored: what it may reach, never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub id: TokenId,
    /// A label for people; the token works without one.
    pub name: Option<String>,
    /// The projects the token may act on.
    pub projects: Vec<ProjectId>,
    /// hex SHA-256 of the secret; the secret itself is never stored
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
}

/// What a caller supplies to create a token; the store assigns id and time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: Option<String>,
    pub projects: Vec<ProjectId>,
    /// hex SHA-256 of the secret, computed by the caller.
    pub secret_hash: String,
}

impl NewApiToken {
    /// The record this becomes once the store gives it `id`.
    pub fn into_record(self, id: TokenId, created_at: DateTime<Utc>) -> ApiTokenRecord {
        ApiTokenRecord {
            id,
            name: self.name,
            projects: self.projects,
            secret_hash: self.secret_hash,
            created_at,
        }
    }
}
