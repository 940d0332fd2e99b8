//! API tokens on the table: documents in the `TOKENS` partition, keyed by padded id.

use super::table::{Table, decode, doc_item, padded};
use crate::model::{ApiTokenRecord, NewApiToken, TokenId, now};
use crate::state::StateResult;

const PK: &str = "TOKENS";
const WHAT: &str = "API token";

pub async fn create_api_token(table: &Table, new: NewApiToken) -> StateResult<ApiTokenRecord> {
    const OP: &str = "create_api_token";
    let id = table.allocate("api_token", 1, OP).await?;
    let token = new.into_record(id, now());
    table
        .put(doc_item(PK, &padded(id), &token, 1, WHAT)?, OP)
        .await?;
    Ok(token)
}

pub async fn get_api_token(table: &Table, id: TokenId) -> StateResult<Option<ApiTokenRecord>> {
    Ok(table
        .get_doc(PK, &padded(id), WHAT, "get_api_token")
        .await?
        .map(|(token, _)| token))
}

pub async fn list_api_tokens(table: &Table) -> StateResult<Vec<ApiTokenRecord>> {
    table
        .query_keys(PK, None, usize::MAX, "list_api_tokens")
        .await?
        .iter()
        .map(|item| decode(item, WHAT))
        .collect()
}

pub async fn delete_api_token(table: &Table, id: TokenId) -> StateResult<bool> {
    table
        .delete_existing(PK, &padded(id), "delete_api_token")
        .await
}
