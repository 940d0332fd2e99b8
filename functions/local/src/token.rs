//! The API token: from `LABELSYNC_API_TOKEN`, else the one saved in the data directory, else a
//! new random one, saved (mode 0600) in a private data directory. It is never logged. The media
//! signing key, when `LABELSYNC_MEDIA_SIGNING_KEYS` is unset, is kept the same way.

use std::io::Write;
use std::path::Path;

/// File name of the saved token inside the data directory.
pub const TOKEN_FILE: &str = "api_token";

/// File name of the generated media signing key inside the data directory.
pub const MEDIA_KEY_FILE: &str = "media_signing_key";

/// The token to accept, and whether it was just generated (so the caller prints it).
pub fn api_token(configured: Option<&str>, data_dir: &Path) -> std::io::Result<(String, bool)> {
    if let Some(token) = configured {
        return Ok((token.to_owned(), false));
    }
    saved_or_new(data_dir, TOKEN_FILE)
}

/// The key that signs media URLs when the operator sets none: random, made on the first start
/// and kept, so URLs handed out before a restart still load after it.
pub fn media_signing_key(data_dir: &Path) -> std::io::Result<String> {
    saved_or_new(data_dir, MEDIA_KEY_FILE).map(|(key, _)| key)
}

/// The secret saved in `data_dir/file`, or a new random one (244 random bits) saved there
/// readable by this user only; and whether it is new.
fn saved_or_new(data_dir: &Path, file: &str) -> std::io::Result<(String, bool)> {
    let path = data_dir.join(file);
    if let Ok(saved) = std::fs::read_to_string(&path)
        && !saved.trim().is_empty()
    {
        return Ok((saved.trim().to_owned(), false));
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    labelsync::embedded_db::private_dir(data_dir)?;
    let mut file = open_private(&path)?;
    file.write_all(secret.as_bytes())?;
    Ok((secret, true))
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, generated) = api_token(None, dir.path()).unwrap();
        assert!(generated && first.len() == 64);
        let (again, generated) = api_token(None, dir.path()).unwrap();
        assert_eq!((again.as_str(), generated), (first.as_str(), false));
        assert_eq!(
            api_token(Some("mine"), dir.path()).unwrap(),
            ("mine".to_owned(), false)
        );
    }

    #[test]
    fn the_media_key_is_private_kept_and_not_the_token() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = media_signing_key(dir.path()).unwrap();
        assert_eq!(key, media_signing_key(dir.path()).unwrap());
        assert_ne!(key, api_token(None, dir.path()).unwrap().0);
        let mode = std::fs::metadata(dir.path().join(MEDIA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
