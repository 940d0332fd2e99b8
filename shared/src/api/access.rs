//! Who is calling, and what they may see. The operator's token is the admin: it sees every
//! project and mints the others. A project token sees only its projects and everything in
//! them (storages, tasks, annotations, media); anything else answers 404, as Label Studio
//! answers for objects you may not see, so a token cannot even learn what exists.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;

use super::error::{ApiError, ApiResult};
use crate::model::{ProjectId, TokenId};

/// The caller of one request, put in the request's extensions by the token check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Projects {
        token: TokenId,
        projects: Arc<BTreeSet<ProjectId>>,
    },
    /// A media request with a valid signature instead of a token: it sees the one project the
    /// signed task or project is in, and the signature itself pins the route and the object.
    SignedMedia {
        project: ProjectId,
    },
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin)
    }

    /// Whether the caller may see `project` and what is in it.
    pub fn sees(&self, project: ProjectId) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Projects { projects, .. } => projects.contains(&project),
            Caller::SignedMedia { project: signed } => *signed == project,
        }
    }

    /// `what` of `project`: fine when the caller may see it, else the 404 the caller would get
    /// if it did not exist.
    pub fn check(&self, project: ProjectId, what: impl std::fmt::Display) -> ApiResult<()> {
        if self.sees(project) {
            return Ok(());
        }
        Err(ApiError::not_found(what))
    }

    /// Admin-only actions (minting tokens, creating projects) answer 403 to project tokens.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_tokens_see_their_projects_only() {
        let caller = Caller::Projects {
            token: 1,
            projects: Arc::new([2, 3].into()),
        };
        assert!(caller.sees(2) && caller.sees(3) && !caller.sees(4));
        assert_eq!(caller.check(4, "Project 4").unwrap_err().status, 404);
        assert_eq!(caller.require_admin().unwrap_err().status, 403);
        assert!(Caller::Admin.sees(4));
        Caller::Admin.require_admin().unwrap();
        let signed = Caller::SignedMedia { project: 2 };
        assert!(signed.sees(2) && !signed.sees(3) && !signed.is_admin());
    }
}
