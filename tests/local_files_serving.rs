//! `GET /data/local-files/?d=` through the running process (spec §6): only files a source
//! storage covers, ranges, weak ETags and 304, and no way out of the document root.

mod common;

use common::{Server, write};
use serde_json::json;

#[tokio::test]
async fn serves_covered_files_with_ranges_and_etags() {
    let server = Server::start();
    let ds = server.dir("dataset");
    write(&ds.join("nested/deep/a.txt"), "1234");
    write(&server.root.join("dataset-private/secret.txt"), "secret");
    write(&server.root.join("outside.txt"), "outside");
    let project = server.project().await;
    server.local_import(project, &ds, json!({})).await;

    let whole = server
        .get("/data/local-files/?d=dataset/nested/deep/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "text/plain");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(whole.text().await.unwrap(), "1234");

    let again = server
        .get("/data/local-files/?d=dataset/nested/deep/a.txt")
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    let ranged = server
        .get("/data/local-files/?d=dataset/nested/deep/a.txt")
        .header("Range", "bytes=1-2")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], "bytes 1-2/4");
    assert_eq!(ranged.text().await.unwrap(), "23");
    let suffix = server
        .get("/data/local-files/?d=dataset/nested/deep/a.txt")
        .header("Range", "bytes=-3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (suffix.status().as_u16(), suffix.text().await.unwrap()),
        (206, "234".to_owned())
    );
    let past = server
        .get("/data/local-files/?d=dataset/nested/deep/a.txt")
        .header("Range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(past.headers()["content-range"], "bytes */4");

    for refused in [
        "dataset-private/secret.txt",
        "outside.txt",
        "dataset/missing.txt",
        "../etc/passwd",
        "dataset/../../etc/passwd",
    ] {
        let response = server
            .get(&format!("/data/local-files/?d={refused}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{refused}");
    }
    assert_eq!(
        server
            .get("/data/local-files/")
            .send()
            .await
            .unwrap()
            .status(),
        403,
        "no d"
    );
}

#[tokio::test]
async fn symlinks_cannot_leak_files_outside_the_storage() {
    let server = Server::start();
    let ds = server.dir("ds");
    write(&server.root.join("private/secret.txt"), "secret");
    std::os::unix::fs::symlink(server.root.join("private/secret.txt"), ds.join("link.txt"))
        .unwrap();
    let project = server.project().await;
    server.local_import(project, &ds, json!({})).await;
    let response = server
        .get("/data/local-files/?d=ds/link.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
