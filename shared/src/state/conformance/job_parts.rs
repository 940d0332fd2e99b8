//! The conformance check of listings split into parts: a page that splits its part is recorded
//! once with the parts it made, a redelivery gets the first record back whatever it would
//! split now, and the listing is over only when every part is. Part of [`super::run_all`].

use super::fixtures::{new_project, new_storage};
use crate::model::{BatchId, BatchOutcome, JobKind, PageRecord, StorageRole, page_key};
use crate::state::StateStore;

fn page(batches: u64, is_last: bool, splits: &[&str]) -> PageRecord {
    PageRecord {
        batches,
        is_last,
        existed: 0,
        splits: splits.iter().map(|s| (*s).to_owned()).collect(),
        first_part: 0,
    }
}

pub async fn listing_parts_are_counted_once(store: &dyn StateStore) {
    let project = new_project(store, "job-parts", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await.id;
    let job = store.create_job(storage, JobKind::Import).await;
    let job = job.expect("create_job").id;
    assert_eq!(
        store
            .get_job(job)
            .await
            .expect("get")
            .map(|j| j.parts_total),
        Some(1)
    );

    let first = PageRecord {
        existed: 3,
        ..page(1, false, &["k/3", "k/6"])
    };
    let recorded = store.record_page(job, page_key(0, 0), first.clone()).await;
    let (after, recorded) = recorded.expect("record_page");
    assert_eq!((after.parts_total, after.parts_listed), (3, 0));
    assert_eq!(
        after.existed, 3,
        "keys whose tasks existed, counted with the page"
    );
    assert_eq!(recorded.splits, first.splits);
    assert_eq!(recorded.first_part, 1, "parts 1 and 2 are new");

    // A redelivery that would split differently (or not at all) gets the first record back
    // and counts nothing.
    for again in [page(1, false, &["k/4"]), page(1, false, &[])] {
        let (after, recorded) = store
            .record_page(job, page_key(0, 0), again)
            .await
            .expect("again");
        assert_eq!(
            (after.parts_total, after.pages_recorded, after.existed),
            (3, 1, 3)
        );
        assert_eq!(
            (recorded.splits, recorded.first_part),
            (first.splits.clone(), 1)
        );
    }

    // Part 2 and part 0 end; part 1 splits once more (into part 3), then every part ends.
    let record = |part, number, record| store.record_page(job, page_key(part, number), record);
    let (after, _) = record(2, 0, page(1, true, &[])).await.expect("part 2");
    assert_eq!((after.parts_listed, after.pages_total), (1, None));
    // A redelivery that would go on where the first ended the part is told it ended.
    let (after, again) = record(2, 0, page(1, false, &[])).await.expect("again");
    assert!(again.is_last, "{again:?}");
    assert_eq!(after.parts_listed, 1);
    let (after, _) = record(0, 1, page(0, true, &[])).await.expect("part 0 ends");
    assert_eq!(after.pages_total, None, "part 1 still lists");
    let (after, split) = record(1, 0, page(1, false, &["k/5"]))
        .await
        .expect("part 1");
    assert_eq!((after.parts_total, split.first_part), (4, 3));
    let (after, _) = record(3, 0, page(1, true, &[])).await.expect("part 3");
    assert_eq!(after.pages_total, None, "part 1 still lists");
    assert!(!after.is_complete());
    let (after, _) = record(1, 1, page(0, true, &[])).await.expect("part 1 ends");
    assert_eq!((after.parts_listed, after.parts_total), (4, 4));
    assert_eq!((after.pages_recorded, after.pages_total), (6, Some(6)));

    // Batches of pages of different parts are different batches.
    let one = BatchOutcome {
        created: 1,
        ..BatchOutcome::default()
    };
    let mut last = after;
    for part in 0..4 {
        let batch = BatchId {
            page: page_key(part, 0),
            batch: 0,
        };
        last = store
            .record_batch(job, batch, one.clone())
            .await
            .expect("batch");
    }
    assert_eq!((last.batches_done, last.created), (4, 4));
    assert!(last.is_complete(), "{last:?}");
}
