//! Where a local-files storage may live: strictly below `LOCAL_FILES_DOCUMENT_ROOT`, checked
//! as written and as resolved on the disk (no `..`, no symlink out), with Label Studio's messages.

use std::path::{Component, Path};

use crate::connectors::SettingsError;

/// Label Studio's checks, in its order, plus two it lacks: `..` components and symlinks that
/// lead out of the document root are refused.
pub fn check_path(
    path: Option<&str>,
    root: &Path,
    serving_enabled: bool,
) -> Result<(), SettingsError> {
    let Some(path) = path else {
        return Err(SettingsError::Connection(
            "Path must be set for Local Files storage".into(),
        ));
    };
    let path = Path::new(path);
    let root_shown = root.display();
    if path == root {
        return Err(SettingsError::Connection(format!(
            "Absolute local path \"{}\" cannot be the same as LOCAL_FILES_DOCUMENT_ROOT=\"{root_shown}\" by security reasons. \
             Please add a subdirectory. For example: \"{}\".",
            path.display(),
            root.join("dataset1").display()
        )));
    }
    let not_below = || {
        SettingsError::Connection(format!(
            "Absolute local path \"{}\" must be a subdirectory of LOCAL_FILES_DOCUMENT_ROOT=\"{root_shown}\" \
             (and must not use \"..\" or a symlink to leave it)",
            path.display()
        ))
    };
    // Outside the root the answer is the same whether the path exists or not: validation is
    // no way to probe the server's file system.
    if !is_lexically_below(path, root) {
        return Err(not_below());
    }
    if !path.exists() {
        return Err(SettingsError::Connection(format!(
            "Absolute local path \"{}\" does not exist",
            path.display()
        )));
    }
    if !resolves_below(path, root) {
        return Err(not_below());
    }
    if !serving_enabled {
        return Err(SettingsError::Connection(
            "Serving local files from the host filesystem can be a security risk, so LOCAL_FILES_SERVING_ENABLED is \
             disabled by default. To enable it, set LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and \
             LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT to the directory your storages live below, then restart labelsync."
                .into(),
        ));
    }
    Ok(())
}

/// Below `root` as written, with no `..`.
fn is_lexically_below(path: &Path, root: &Path) -> bool {
    path.starts_with(root) && path != root && !path.components().any(|c| c == Component::ParentDir)
}

/// Still strictly below `root` once symlinks are resolved.
pub fn resolves_below(path: &Path, root: &Path) -> bool {
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(&r) && p != r,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), SettingsError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn path_checks_follow_label_studio_order() {
        let root = tempfile::tempdir().unwrap();
        let ds = root.path().join("ds");
        std::fs::create_dir(&ds).unwrap();
        let r = root.path();
        assert_eq!(
            message(check_path(None, r, true)),
            "Path must be set for Local Files storage"
        );
        let missing = r.join("no/such/dir");
        assert!(message(check_path(missing.to_str(), r, true)).ends_with("does not exist"));
        // Outside the root, existing or not, the answer is the same.
        assert_eq!(
            message(check_path(Some("/no/such/dir"), r, true)),
            message(check_path(Some("/tmp"), r, true)).replace("\"/tmp\"", "\"/no/such/dir\"")
        );
        assert!(
            message(check_path(r.to_str(), r, true))
                .contains("cannot be the same as LOCAL_FILES_DOCUMENT_ROOT")
        );
        assert!(message(check_path(Some("/tmp"), &ds, true)).contains("must be a subdirectory of"));
        assert!(message(check_path(ds.to_str(), r, false)).contains("LOCAL_FILES_SERVING_ENABLED"));
        check_path(ds.to_str(), r, true).unwrap();
    }

    #[test]
    fn parent_components_and_symlinks_cannot_leave_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("ds")).unwrap();
        let dotdot = format!(
            "{}/ds/../../{}",
            root.path().display(),
            outside.path().file_name().unwrap().to_str().unwrap()
        );
        assert!(
            message(check_path(Some(&dotdot), root.path(), true))
                .contains("must be a subdirectory")
        );
        let link = root.path().join("link");
        std::os::unix::fs::symlink(outside.path(), &link).unwrap();
        assert!(
            message(check_path(link.to_str(), root.path(), true))
                .contains("must be a subdirectory")
        );
    }
}
