//! Checks every [`ObjectStore`] must pass. Each check creates all its objects with `put` under
//! the `prefix` it is given (ending in `/`), so suites can share a real bucket and run at once.

use bytes::Bytes;

use super::{BackendError, ByteRange, ListRequest, ObjectStore};

/// Every check, in order.
pub async fn run_all(store: &dyn ObjectStore, prefix: &str) {
    put_get_overwrite_delete(store, &format!("{prefix}crud/")).await;
    missing_objects_are_not_found(store, &format!("{prefix}missing/")).await;
    ranges(store, &format!("{prefix}ranges/")).await;
    listing_pages_in_byte_order(store, &format!("{prefix}pages/")).await;
    recursive_and_direct_children(store, &format!("{prefix}tree/")).await;
    partial_name_prefix(store, &format!("{prefix}partial/")).await;
    empty_prefix_lists_nothing(store, &format!("{prefix}empty/")).await;
    listing_after_a_key(store, &format!("{prefix}after/")).await;
}

async fn put(store: &dyn ObjectStore, key: &str, body: &str) {
    store
        .put(key, Bytes::from(body.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
}

async fn read(
    store: &dyn ObjectStore,
    key: &str,
    range: Option<ByteRange>,
) -> (std::ops::Range<u64>, String) {
    let got = store
        .get(key, range)
        .await
        .unwrap_or_else(|e| panic!("get {key} {range:?}: {e}"));
    let served = got.range.clone();
    let bytes = got
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("read body of {key}: {e}"));
    (served, String::from_utf8_lossy(&bytes).into_owned())
}

/// Every key under `prefix`, following continuations with pages of `max_keys`.
pub async fn list_all(
    store: &dyn ObjectStore,
    prefix: &str,
    recursive: bool,
    max_keys: usize,
) -> Vec<String> {
    list_after(store, prefix, recursive, None, max_keys).await
}

/// Every key under `prefix` after `start_after`, following continuations.
pub async fn list_after(
    store: &dyn ObjectStore,
    prefix: &str,
    recursive: bool,
    start_after: Option<&str>,
    max_keys: usize,
) -> Vec<String> {
    let mut keys = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let request = ListRequest {
            prefix,
            recursive,
            continuation: next.as_deref(),
            start_after: start_after.filter(|_| next.is_none()),
            max_keys,
        };
        let page = store
            .list_page(request)
            .await
            .unwrap_or_else(|e| panic!("list {prefix}: {e}"));
        assert!(
            page.objects.len() <= max_keys,
            "page of {} keys exceeds max_keys {max_keys}",
            page.objects.len()
        );
        keys.extend(page.objects.into_iter().map(|o| o.key));
        match page.next {
            Some(n) => next = Some(n),
            None => return keys,
        }
    }
}

pub async fn put_get_overwrite_delete(store: &dyn ObjectStore, prefix: &str) {
    let key = format!("{prefix}object.json");
    put(store, &key, "first").await;
    assert_eq!(read(store, &key, None).await, (0..5, "first".to_owned()));
    put(store, &key, "second!").await;
    assert_eq!(read(store, &key, None).await.1, "second!", "put overwrites");
    let head = store
        .head(&key)
        .await
        .unwrap_or_else(|e| panic!("head {key}: {e}"));
    assert_eq!((head.key.as_str(), head.size), (key.as_str(), 7));
    let nested = format!("{prefix}deep/er/x.bin");
    put(store, &nested, "").await;
    assert_eq!(
        read(store, &nested, None).await,
        (0..0, String::new()),
        "empty objects read empty"
    );
    store
        .delete(&key)
        .await
        .unwrap_or_else(|e| panic!("delete {key}: {e}"));
    assert!(
        matches!(
            store.get(&key, None).await,
            Err(BackendError::NotFound { .. })
        ),
        "deleted object is gone"
    );
    store
        .delete(&key)
        .await
        .unwrap_or_else(|e| panic!("deleting a missing key must succeed: {e}"));
}

pub async fn missing_objects_are_not_found(store: &dyn ObjectStore, prefix: &str) {
    let key = format!("{prefix}nothing-here");
    assert!(
        matches!(
            store.get(&key, None).await,
            Err(BackendError::NotFound { .. })
        ),
        "get of a missing key"
    );
    assert!(
        matches!(store.head(&key).await, Err(BackendError::NotFound { .. })),
        "head of a missing key"
    );
}

pub async fn ranges(store: &dyn ObjectStore, prefix: &str) {
    let key = format!("{prefix}digits.txt");
    put(store, &key, "0123456789").await;
    let range = |start, end| Some(ByteRange { start, end });
    assert_eq!(
        read(store, &key, range(2, Some(4))).await,
        (2..5, "234".to_owned()),
        "inclusive end"
    );
    assert_eq!(
        read(store, &key, range(7, None)).await,
        (7..10, "789".to_owned()),
        "open end"
    );
    assert_eq!(
        read(store, &key, range(8, Some(100))).await,
        (8..10, "89".to_owned()),
        "end clamped"
    );
    assert_eq!(
        read(store, &key, range(0, Some(0))).await,
        (0..1, "0".to_owned()),
        "one byte"
    );
    let past = store.get(&key, range(10, None)).await;
    assert!(
        matches!(past, Err(BackendError::InvalidRange { size: 10, .. })),
        "start past the end: {past:?}"
    );
}

pub async fn listing_pages_in_byte_order(store: &dyn ObjectStore, prefix: &str) {
    let names = ["a.txt", "a/b.txt", "a b/c", "ab", "b", "c/d/e.json", "z"];
    for name in names {
        put(store, &format!("{prefix}{name}"), name).await;
    }
    let mut expected: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
    expected.sort();
    for max_keys in [1, 2, 3, 1000] {
        let keys = list_all(store, prefix, true, max_keys).await;
        assert_eq!(keys, expected, "recursive listing with pages of {max_keys}");
    }
}

pub async fn recursive_and_direct_children(store: &dyn ObjectStore, prefix: &str) {
    for name in [
        "image1.jpg",
        "sub/image1.jpg",
        "sub/image2.jpg",
        "sub/another/image2.jpg",
    ] {
        put(store, &format!("{prefix}{name}"), name).await;
    }
    let direct = list_all(store, prefix, false, 2).await;
    assert_eq!(
        direct,
        vec![format!("{prefix}image1.jpg")],
        "non-recursive lists direct children only"
    );
    assert_eq!(
        list_all(store, prefix, true, 2).await.len(),
        4,
        "recursive lists everything"
    );
    let sub = list_all(store, &format!("{prefix}sub/"), false, 10).await;
    assert_eq!(
        sub,
        vec![
            format!("{prefix}sub/image1.jpg"),
            format!("{prefix}sub/image2.jpg")
        ]
    );
    assert_eq!(
        list_all(store, &format!("{prefix}sub/"), true, 10)
            .await
            .len(),
        3
    );
}

pub async fn partial_name_prefix(store: &dyn ObjectStore, prefix: &str) {
    for name in ["image1.jpg", "img.png", "other.jpg"] {
        put(store, &format!("{prefix}{name}"), name).await;
    }
    assert_eq!(
        list_all(store, &format!("{prefix}im"), false, 10)
            .await
            .len(),
        2
    );
    assert_eq!(
        list_all(store, &format!("{prefix}ima"), true, 10).await,
        vec![format!("{prefix}image1.jpg")]
    );
}

pub async fn empty_prefix_lists_nothing(store: &dyn ObjectStore, prefix: &str) {
    let request = ListRequest {
        prefix,
        recursive: true,
        continuation: None,
        start_after: None,
        max_keys: 10,
    };
    let page = store
        .list_page(request)
        .await
        .unwrap_or_else(|e| panic!("list of an empty prefix: {e}"));
    assert_eq!((page.objects.len(), page.next), (0, None));
}

/// A listing that starts after a key (how a sync splits a listing into key ranges) holds
/// exactly the keys after it, whether the key exists, names a directory, or lies past the
/// end; directly or recursively; across pages.
pub async fn listing_after_a_key(store: &dyn ObjectStore, prefix: &str) {
    let names = ["k1", "k2", "k3/deep", "k4", "k5"];
    for name in names {
        put(store, &format!("{prefix}{name}"), name).await;
    }
    let under =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| format!("{prefix}{n}")).collect() };
    let after = |key: &str| format!("{prefix}{key}");
    for max_keys in [1, 2, 1000] {
        let listed = list_after(store, prefix, true, Some(&after("k2")), max_keys).await;
        assert_eq!(
            listed,
            under(&["k3/deep", "k4", "k5"]),
            "after k2, pages of {max_keys}"
        );
    }
    let listed = list_after(store, prefix, true, Some(&after("k3")), 2).await;
    assert_eq!(
        listed,
        under(&["k3/deep", "k4", "k5"]),
        "after a directory's name"
    );
    let listed = list_after(store, prefix, true, Some(&after("k3/deep")), 2).await;
    assert_eq!(listed, under(&["k4", "k5"]), "after a key in a directory");
    let listed = list_after(store, prefix, false, Some(&after("k2")), 1).await;
    assert_eq!(listed, under(&["k4", "k5"]), "direct children after k2");
    let listed = list_after(store, prefix, true, Some(&after("z")), 2).await;
    assert!(listed.is_empty(), "after the last key: {listed:?}");
    let whole = list_all(store, prefix, true, 2).await;
    let mut joined = list_after(store, prefix, true, None, 2).await;
    joined.retain(|k| k.as_str() <= after("k2").as_str());
    joined.extend(list_after(store, prefix, true, Some(&after("k2")), 2).await);
    assert_eq!(joined, whole, "two key ranges make the whole listing");
}
