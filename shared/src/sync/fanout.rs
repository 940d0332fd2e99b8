//! `ListPage`: list one page of a source storage, announce its batches, send the next page and
//! the batches. One message per page keeps every step short and bounded in memory.
//!
//! A listing is one or more parts, each a key range listed as its own chain of pages. Where the
//! storage can start a listing after a key, a page whose part goes on may split the rest of its
//! range into new parts ([`super::key_ranges`]) while fewer than `list_parallelism` parts are
//! listing. The split is recorded with the page, so a redelivered page sends exactly the parts
//! its first delivery counted, and the job knows the listing is over when every part is.

use std::collections::HashSet;

use super::batches;
use super::complete::complete_sync;
use super::key_ranges::split_points;
use crate::backends::{BackendError, ListPage, ListRequest, ObjectMeta, ObjectStore};
use crate::connectors::SourceSpec;
use crate::context::Context;
use crate::jobs::finish::fail_job;
use crate::jobs::start::mark_in_progress;
use crate::jobs::{BatchKey, HandlerError, Message, describe, is_permanent, running_job};
use crate::model::{
    BatchId, BatchOutcome, JobId, PageRecord, StorageId, StorageRecord, SyncJob, page_key,
};

/// Where one `ListPage` message lists: page `page` of part `part`, after `continuation` (or,
/// on a part's first page, after `start_after`), up to key `until` included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageCursor {
    pub part: u64,
    pub page: u64,
    pub continuation: Option<String>,
    pub start_after: Option<String>,
    pub until: Option<String>,
}

impl PageCursor {
    fn key(&self) -> u64 {
        page_key(self.part, self.page)
    }

    fn into_message(self, job: JobId, storage: StorageId) -> Message {
        Message::ListPage {
            job,
            storage,
            part: self.part,
            page: self.page,
            continuation: self.continuation,
            start_after: self.start_after,
            until: self.until,
        }
    }
}

/// A listed page cut at its part's end.
struct PartPage {
    /// The keys in the part that the storage's filter accepts.
    keys: Vec<BatchKey>,
    skipped: Vec<String>,
    next: Option<String>,
    /// The last key in the part.
    last_key: Option<String>,
    /// Keys dropped because their task exists.
    existed: u64,
    ends_part: bool,
}

impl PartPage {
    fn cut(listed: ListPage, until: Option<&str>, spec: &SourceSpec) -> Self {
        let crossed = |key: &str| until.is_some_and(|u| key >= u);
        let ends_part =
            listed.next.is_none() || listed.objects.last().is_some_and(|o| crossed(&o.key));
        let in_part = |o: &&ObjectMeta| until.is_none_or(|u| o.key.as_str() <= u);
        let objects: Vec<&ObjectMeta> = listed.objects.iter().filter(in_part).collect();
        PartPage {
            keys: objects
                .iter()
                .filter(|o| spec.accepts(&o.key))
                .map(|o| BatchKey::from(*o))
                .collect(),
            last_key: objects.last().map(|o| o.key.clone()),
            existed: 0,
            skipped: listed.skipped,
            next: listed.next,
            ends_part,
        }
    }

    /// Drops the keys that made their task before (Files mode: one task per key, so a link
    /// means done), counting them: a re-sync of an unchanged bucket then sends no batch and
    /// writes nothing per key. Ingest still dedupes, so a task made meanwhile is not doubled.
    async fn drop_linked(&mut self, ctx: &Context, scope: u64) -> Result<(), HandlerError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let asked = self.keys.iter().map(|k| k.key.clone()).collect();
        let linked: HashSet<String> = ctx
            .state
            .linked_keys(scope, asked)
            .await?
            .into_iter()
            .collect();
        self.keys.retain(|k| !linked.contains(&k.key));
        self.existed = linked.len() as u64;
        Ok(())
    }

    /// The key the part goes on after, unless this page ends it.
    fn resume_after(&self) -> Option<&str> {
        self.last_key.as_deref().filter(|_| !self.ends_part)
    }
}

/// Handles one `ListPage` message.
pub async fn handle_list_page(
    ctx: &Context,
    job: JobId,
    storage_id: StorageId,
    cursor: PageCursor,
) -> Result<(), HandlerError> {
    let Some((job_record, storage)) = running_job(ctx, job, storage_id).await? else {
        return Ok(());
    };
    if cursor.key() == 0 {
        mark_in_progress(ctx, &storage, job).await?;
    }
    let bound = ctx
        .storage(&storage)
        .and_then(|s| Ok((ctx.backend(&storage)?, s)));
    let (backend, bound) = match bound {
        Ok(opened) => opened,
        Err(e) => return fail_job(ctx, job, format!("{}: {e}", describe(&storage))).await,
    };
    let spec = bound.source();
    let listed = match list(ctx, &*backend, spec, &cursor).await {
        Ok(listed) => listed,
        Err(e) if is_permanent(&e) => {
            let page = cursor.page;
            let failure = format!("{}: listing page {page} failed: {e}", describe(&storage));
            return fail_job(ctx, job, failure).await;
        }
        Err(source) => {
            return Err(HandlerError::Backend {
                storage: storage.id,
                source,
            });
        }
    };
    let mut page = PartPage::cut(listed, cursor.until.as_deref(), spec);
    if spec.files_mode {
        let scope = storage.link_scope(&bound.location()).unwrap_or(storage.id);
        page.drop_linked(ctx, scope).await?;
    }
    let splits = plan_splits(ctx, &*backend, &job_record, spec, &page, &cursor);
    announce(ctx, &storage, job, cursor, page, splits).await
}

async fn list(
    ctx: &Context,
    backend: &dyn ObjectStore,
    spec: &SourceSpec,
    cursor: &PageCursor,
) -> Result<ListPage, BackendError> {
    let start_after = cursor.start_after.as_deref();
    let request = ListRequest {
        prefix: &spec.prefix,
        recursive: spec.recursive,
        continuation: cursor.continuation.as_deref(),
        start_after: start_after.filter(|_| cursor.continuation.is_none()),
        max_keys: ctx.settings.list_page_size,
    };
    backend.list_page(request).await
}

/// Where to split the rest of the part, if listers are free and the storage can list after a
/// key: into as many parts as there are free listers, plus this one.
fn plan_splits(
    ctx: &Context,
    backend: &dyn ObjectStore,
    job: &SyncJob,
    spec: &SourceSpec,
    page: &PartPage,
    cursor: &PageCursor,
) -> Vec<String> {
    let listing = usize::try_from(job.parts_listing()).unwrap_or(usize::MAX);
    let free = ctx.settings.list_parallelism.saturating_sub(listing);
    match page.resume_after() {
        Some(after) if free > 0 && backend.lists_after_key() => {
            split_points(&spec.prefix, after, cursor.until.as_deref(), free + 1)
        }
        _ => Vec::new(),
    }
}

/// Records the page and sends what follows it: its batches, its part's next page, new parts.
async fn announce(
    ctx: &Context,
    storage: &StorageRecord,
    job: JobId,
    cursor: PageCursor,
    page: PartPage,
    splits: Vec<String>,
) -> Result<(), HandlerError> {
    let keys = page.keys.clone();
    let cut = batches::cut(keys, ctx.settings.ingest_batch_size, batches::KEYS_BUDGET);
    let batches: Vec<Message> = cut
        .batches
        .into_iter()
        .enumerate()
        .map(|(i, keys)| Message::IngestBatch {
            job,
            storage: storage.id,
            part: cursor.part,
            page: cursor.page,
            batch: i as u64,
            keys,
        })
        .collect();
    // Entries the listing could not offer as keys, and keys too long for any message, count as
    // one more batch of this page, made only of errors, so they reach the traceback once
    // however often the page is delivered.
    let mut refused = page.skipped.clone();
    refused.extend(cut.too_long);
    let skipped_batch = (!refused.is_empty()).then_some(BatchId {
        page: cursor.key(),
        batch: batches.len() as u64,
    });
    let record = PageRecord {
        batches: batches.len() as u64 + u64::from(skipped_batch.is_some()),
        is_last: page.ends_part,
        existed: page.existed,
        splits,
        first_part: 0,
    };
    // Record the page before sending anything, so no batch can be counted done before the job
    // knows it exists; a redelivery re-sends, and ingest is idempotent.
    let (mut progress, recorded) = ctx.state.record_page(job, cursor.key(), record).await?;
    if let Some(batch) = skipped_batch {
        let errors = refused
            .iter()
            .map(|s| format!("{}: {s}", describe(storage)))
            .collect();
        let outcome = BatchOutcome {
            errors,
            ..BatchOutcome::default()
        };
        progress = ctx.state.record_batch(job, batch, outcome).await?;
    }
    if !ctx.state.page_sent(job, cursor.key()).await? {
        let key = cursor.key();
        let listings = follow_up_listings(cursor, &page, &recorded);
        let listings = listings
            .into_iter()
            .map(|c| c.into_message(job, storage.id));
        send(ctx, listings.collect(), &batches).await?;
        ctx.state.mark_page_sent(job, key).await?;
    }
    if progress.is_complete() {
        complete_sync(ctx, &progress).await?;
    }
    Ok(())
}

/// The part's next page (unless its first record ended it) and the first page of every part
/// the first record split off, each up to the next split or where the part ends.
fn follow_up_listings(
    cursor: PageCursor,
    page: &PartPage,
    recorded: &PageRecord,
) -> Vec<PageCursor> {
    let mut bounds: Vec<Option<String>> = recorded.splits.iter().cloned().map(Some).collect();
    bounds.push(cursor.until.clone());
    let mut out = Vec::new();
    if !recorded.is_last {
        let next = match (&page.next, page.ends_part) {
            (Some(token), false) => PageCursor {
                continuation: Some(token.clone()),
                start_after: None,
                ..cursor.clone()
            },
            // This delivery listed the part's end where the first one did not (keys went
            // away in between): the next page lists after this one's last key and ends it.
            _ => PageCursor {
                continuation: None,
                start_after: page.last_key.clone().or(cursor.start_after.clone()),
                ..cursor.clone()
            },
        };
        out.push(PageCursor {
            page: cursor.page + 1,
            until: bounds[0].clone(),
            ..next
        });
    }
    for (i, split) in recorded.splits.iter().enumerate() {
        out.push(PageCursor {
            part: recorded.first_part + i as u64,
            page: 0,
            continuation: None,
            start_after: Some(split.clone()),
            until: bounds[i + 1].clone(),
        });
    }
    out
}

/// Sends the listing pages, then the ingest batches.
async fn send(
    ctx: &Context,
    listings: Vec<Message>,
    batches: &[Message],
) -> Result<(), HandlerError> {
    for messages in [listings.as_slice(), batches] {
        if let Some(first) = messages.first() {
            let bodies = messages.iter().map(Message::to_body).collect();
            ctx.queue.send(first.queue(), bodies).await?;
        }
    }
    Ok(())
}
