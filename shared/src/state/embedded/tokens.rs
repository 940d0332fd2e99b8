//! API tokens: one record table.

use redb::{Database, ReadableTable};

use super::tables::{
    API_TOKENS, During, IdKind, allocate_id, decode, get_record, put_record, read, write,
};
use crate::model::{ApiTokenRecord, NewApiToken, TokenId, now};
use crate::state::StateResult;

const WHAT: &str = "API token";

pub(super) fn create(db: &Database, new: NewApiToken) -> StateResult<ApiTokenRecord> {
    const OP: &str = "create_api_token";
    write(db, OP, |txn| {
        let id = allocate_id(txn, IdKind::ApiToken, OP)?;
        let token = new.into_record(id, now());
        put_record(
            &mut txn.open_table(API_TOKENS).during(OP)?,
            WHAT,
            OP,
            id,
            &token,
        )?;
        Ok(token)
    })
}

pub(super) fn get(db: &Database, id: TokenId) -> StateResult<Option<ApiTokenRecord>> {
    const OP: &str = "get_api_token";
    read(db, OP, |txn| {
        get_record(&txn.open_table(API_TOKENS).during(OP)?, WHAT, OP, id)
    })
}

pub(super) fn list(db: &Database) -> StateResult<Vec<ApiTokenRecord>> {
    const OP: &str = "list_api_tokens";
    read(db, OP, |txn| {
        let table = txn.open_table(API_TOKENS).during(OP)?;
        let mut tokens = Vec::new();
        for entry in table.iter().during(OP)? {
            let (_, bytes) = entry.during(OP)?;
            tokens.push(decode(WHAT, bytes.value())?);
        }
        Ok(tokens)
    })
}

pub(super) fn delete(db: &Database, id: TokenId) -> StateResult<bool> {
    const OP: &str = "delete_api_token";
    write(db, OP, |txn| {
        let mut table = txn.open_table(API_TOKENS).during(OP)?;
        let removed = table.remove(id).during(OP)?;
        Ok(removed.is_some())
    })
}
