//! A storage as the API shows it: common fields, the type's settings without secrets, and the
//! live progress of a running sync.

use serde_json::{Map, Value, json};

use crate::connectors::Connector;
use crate::context::Context;
use crate::model::{JobStatus, StorageRecord, StorageRole, iso_time};

/// The storage's JSON; `running_job` fills live counters while a sync runs.
pub async fn storage_json(ctx: &Context, ty: &dyn Connector, record: &StorageRecord) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(record.id));
    out.insert("type".into(), json!(record.storage_type));
    out.insert("synchronizable".into(), json!(record.synchronizable));
    out.insert(
        "last_sync".into(),
        json!(record.last_sync.as_ref().map(iso_time)),
    );
    out.insert("last_sync_count".into(), json!(record.last_sync_count));
    // Label Studio shows a job id as text.
    let job = record.last_sync_job.map(|j| j.to_string());
    out.insert("last_sync_job".into(), json!(job));
    out.insert("status".into(), json!(record.status));
    out.insert("traceback".into(), json!(record.traceback));
    out.insert("meta".into(), Value::Object(record.meta.clone()));
    out.insert("title".into(), json!(record.title));
    out.insert("description".into(), json!(record.description));
    out.insert("created_at".into(), json!(iso_time(&record.created_at)));
    for field in ty.fields(record.role).iter().filter(|f| !f.secret) {
        out.insert(
            field.name.into(),
            record
                .settings
                .get(field.name)
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    out.insert("project".into(), json!(record.project));
    if record.role == StorageRole::Import {
        out.insert(
            "sync_interval_minutes".into(),
            json!(record.schedule.every_minutes),
        );
        out.insert(
            "removed_objects".into(),
            json!(record.removed_objects.name()),
        );
    }
    if record.status.is_active() {
        add_progress(ctx, record, &mut out).await;
    }
    Value::Object(out)
}

/// While a sync runs: `last_sync_count` and `meta.tasks_existed` so far (as Label Studio's
/// progress pings), plus `meta.progress` with pages, batches and errors.
async fn add_progress(ctx: &Context, record: &StorageRecord, out: &mut Map<String, Value>) {
    let Some(job_id) = record.last_sync_job else {
        return;
    };
    let Ok(Some(job)) = ctx.state.get_job(job_id).await else {
        return;
    };
    if job.status != JobStatus::Running {
        return;
    }
    out.insert("last_sync_count".into(), json!(job.created));
    if let Some(Value::Object(meta)) = out.get_mut("meta") {
        meta.insert("tasks_existed".into(), json!(job.existed));
        meta.insert(
            "progress".into(),
            json!({
                "pages_listed": job.pages_recorded,
                "parts_listed": job.parts_listed,
                "parts_total": job.parts_total,
                "listing_done": job.pages_total.is_some(),
                "batches_done": job.batches_done,
                "batches_total": job.batches_expected,
                "errors": job.error_count,
            }),
        );
    }
}
