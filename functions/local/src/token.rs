//! The API token: from `LABELSYNC_API_TOKEN`, else the one saved in the data directory, else a
//! new random one, saved (mode 0600) in a private data directory. It is never logged.

use std::io::Write;
use std::path::Path;

/// File name of the saved token inside the data directory.
pub const TOKEN_FILE: &str = "api_token";

/// The token to accept, and whether it was just generated (so the caller prints it).
pub fn api_token(configured: Option<&str>, data_dir: &Path) -> std::io::Result<(String, bool)> {
    if let Some(token) = configured {
        return Ok((token.to_owned(), false));
    }
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(saved) = std::fs::read_to_string(&path)
        && !saved.trim().is_empty()
    {
        return Ok((saved.trim().to_owned(), false));
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    labelsync::embedded_db::private_dir(data_dir)?;
    let mut file = open_private(&path)?;
    file.write_all(token.as_bytes())?;
    Ok((token, true))
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
}
