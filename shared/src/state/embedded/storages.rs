//! Storages: a record table and the (project, role, id) index.

use redb::{Database, ReadableTable, Table, WriteTransaction};

use super::tables::{
    During, IdKind, RecordTable, STORAGES, STORAGES_BY_LOCATION, STORAGES_BY_PROJECT,
    STORAGES_SCHEDULED, allocate_id, get_record, put_record, read, role_code, write,
};
use crate::model::{NewStorage, ProjectId, StorageId, StorageRecord, StorageRole, now};
use crate::state::StateResult;

const WHAT: &str = "storage";

type StorageIndex<'t> = Table<'t, (u64, u8, u64), ()>;

pub(super) fn create(db: &Database, new: NewStorage) -> StateResult<StorageRecord> {
    const OP: &str = "create_storage";
    write(db, OP, |txn| {
        let id = allocate_id(txn, IdKind::Storage, OP)?;
        let record = new.into_record(id, now());
        put_record(
            &mut txn.open_table(STORAGES).during(OP)?,
            WHAT,
            OP,
            id,
            &record,
        )?;
        let mut index = txn.open_table(STORAGES_BY_PROJECT).during(OP)?;
        index.insert(index_key(&record), ()).during(OP)?;
        locate(txn, None, Some(&record), OP)?;
        Ok(record)
    })
}

/// Moves a storage's index entries by location and schedule from `before` to `after` (either
/// may be absent).
fn locate(
    txn: &WriteTransaction,
    before: Option<&StorageRecord>,
    after: Option<&StorageRecord>,
    operation: &'static str,
) -> StateResult<()> {
    let scheduled = |r: Option<&StorageRecord>| {
        r.filter(|r| r.role == StorageRole::Import && r.schedule.every_minutes.is_some())
            .map(|r| r.id)
    };
    let (was, is) = (scheduled(before), scheduled(after));
    if was != is {
        let mut index = txn.open_table(STORAGES_SCHEDULED).during(operation)?;
        if let Some(id) = was {
            index.remove(id).during(operation)?;
        }
        if let Some(id) = is {
            index.insert(id, ()).during(operation)?;
        }
    }
    let entry = |r: Option<&StorageRecord>| {
        r.filter(|r| r.role == StorageRole::Import)
            .and_then(|r| Some((r.location.clone()?, r.id)))
    };
    let (old, new) = (entry(before), entry(after));
    if old == new {
        return Ok(());
    }
    let mut index = txn.open_table(STORAGES_BY_LOCATION).during(operation)?;
    if let Some((location, id)) = &old {
        index.remove((location.as_str(), *id)).during(operation)?;
    }
    if let Some((location, id)) = &new {
        index
            .insert((location.as_str(), *id), ())
            .during(operation)?;
    }
    Ok(())
}

pub(super) fn scheduled(db: &Database) -> StateResult<Vec<StorageRecord>> {
    const OP: &str = "scheduled_storages";
    read(db, OP, |txn| {
        let index = txn.open_table(STORAGES_SCHEDULED).during(OP)?;
        let records = txn.open_table(STORAGES).during(OP)?;
        let mut storages = Vec::new();
        for entry in index.iter().during(OP)? {
            let (key, _) = entry.during(OP)?;
            if let Some(record) = get_record(&records, WHAT, OP, key.value())? {
                storages.push(record);
            }
        }
        Ok(storages)
    })
}

pub(super) fn at_location(db: &Database, location: &str) -> StateResult<Vec<StorageRecord>> {
    const OP: &str = "storages_at";
    read(db, OP, |txn| {
        let index = txn.open_table(STORAGES_BY_LOCATION).during(OP)?;
        let records = txn.open_table(STORAGES).during(OP)?;
        let mut storages = Vec::new();
        for entry in index
            .range((location, 0)..=(location, u64::MAX))
            .during(OP)?
        {
            let (key, _) = entry.during(OP)?;
            if let Some(record) = get_record(&records, WHAT, OP, key.value().1)? {
                storages.push(record);
            }
        }
        Ok(storages)
    })
}

pub(super) fn get(db: &Database, id: StorageId) -> StateResult<Option<StorageRecord>> {
    const OP: &str = "get_storage";
    read(db, OP, |txn| {
        get_record(&txn.open_table(STORAGES).during(OP)?, WHAT, OP, id)
    })
}

pub(super) fn list(
    db: &Database,
    project: ProjectId,
    role: StorageRole,
) -> StateResult<Vec<StorageRecord>> {
    const OP: &str = "list_storages";
    read(db, OP, |txn| {
        let index = txn.open_table(STORAGES_BY_PROJECT).during(OP)?;
        let records = txn.open_table(STORAGES).during(OP)?;
        let code = role_code(role);
        let mut storages = Vec::new();
        for entry in index
            .range((project, code, 0)..=(project, code, u64::MAX))
            .during(OP)?
        {
            let (key, _) = entry.during(OP)?;
            let (_, _, id) = key.value();
            if let Some(record) = get_record(&records, WHAT, OP, id)? {
                storages.push(record);
            }
        }
        Ok(storages)
    })
}

/// Reads the storage for [`super::EmbeddedState::update_storage`], which applies the update.
pub(super) fn read_for_update(
    txn: &WriteTransaction,
    id: StorageId,
) -> StateResult<Option<StorageRecord>> {
    const OP: &str = "update_storage";
    get_record(&txn.open_table(STORAGES).during(OP)?, WHAT, OP, id)
}

/// Writes back an updated storage, moving its index entry if project or role changed.
pub(super) fn write_updated(
    txn: &WriteTransaction,
    before: &StorageRecord,
    after: &StorageRecord,
) -> StateResult<()> {
    const OP: &str = "update_storage";
    put_record(
        &mut txn.open_table(STORAGES).during(OP)?,
        WHAT,
        OP,
        before.id,
        after,
    )?;
    if index_key(before) != index_key(after) {
        let mut index = txn.open_table(STORAGES_BY_PROJECT).during(OP)?;
        index.remove(index_key(before)).during(OP)?;
        index.insert(index_key(after), ()).during(OP)?;
    }
    locate(txn, Some(before), Some(after), OP)
}

pub(super) fn delete(db: &Database, id: StorageId) -> StateResult<bool> {
    const OP: &str = "delete_storage";
    write(db, OP, |txn| delete_in(txn, id, OP))
}

/// [`delete`] in `txn`.
fn delete_in(txn: &WriteTransaction, id: StorageId, operation: &'static str) -> StateResult<bool> {
    let mut records: RecordTable<'_> = txn.open_table(STORAGES).during(operation)?;
    let Some(record) = get_record::<StorageRecord>(&records, WHAT, operation, id)? else {
        return Ok(false);
    };
    records.remove(id).during(operation)?;
    let mut index: StorageIndex<'_> = txn.open_table(STORAGES_BY_PROJECT).during(operation)?;
    index.remove(index_key(&record)).during(operation)?;
    drop(index);
    locate(txn, Some(&record), None, operation)?;
    // Its links stay: the tasks keep them, so the same location added again finds them.
    Ok(true)
}

/// Deletes every storage of `project`, both roles, in `txn`.
pub(super) fn delete_of_project(
    txn: &WriteTransaction,
    project: ProjectId,
    operation: &'static str,
) -> StateResult<()> {
    let ids: Vec<StorageId> = {
        let index = txn.open_table(STORAGES_BY_PROJECT).during(operation)?;
        let entries = index
            .range((project, 0, 0)..=(project, u8::MAX, u64::MAX))
            .during(operation)?;
        entries
            .map(|entry| entry.during(operation).map(|(key, _)| key.value().2))
            .collect::<StateResult<_>>()?
    };
    for id in ids {
        delete_in(txn, id, operation)?;
    }
    Ok(())
}

fn index_key(record: &StorageRecord) -> (u64, u8, u64) {
    (record.project, role_code(record.role), record.id)
}
