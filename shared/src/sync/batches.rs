//! Cuts a listing page's keys into ingest batches that fit one queue message: at most
//! `ingest_batch_size` keys, and at most [`MAX_BODY_BYTES`] once encoded. A key too long to fit
//! any message is refused by name instead of failing the send (and so the page) for good.

use crate::jobs::BatchKey;
use crate::queue::MAX_BODY_BYTES;

/// Room left in every message for everything but its keys (type, ids, brackets), with margin:
/// an `IngestBatch` with every id at `u64::MAX` and no keys encodes in under 150 bytes.
const ENVELOPE_BYTES: usize = 1024;

/// The most bytes a batch's keys may take once encoded.
pub const KEYS_BUDGET: usize = MAX_BODY_BYTES - ENVELOPE_BYTES;

/// A page's keys, cut.
#[derive(Debug, Default, PartialEq)]
pub struct Cut {
    pub batches: Vec<Vec<BatchKey>>,
    /// Keys whose encoding alone is over [`KEYS_BUDGET`], described for the traceback.
    pub too_long: Vec<String>,
}

/// Cuts `keys` in listing order into batches of at most `max_keys` keys and `budget` encoded bytes.
pub fn cut(keys: Vec<BatchKey>, max_keys: usize, budget: usize) -> Cut {
    let mut out = Cut::default();
    let mut current: Vec<BatchKey> = Vec::new();
    let mut used = 0;
    for key in keys {
        let cost = encoded_len(&key);
        if cost > budget {
            out.too_long.push(too_long(&key, cost, budget));
            continue;
        }
        if !current.is_empty() && (current.len() == max_keys.max(1) || used + cost > budget) {
            out.batches.push(std::mem::take(&mut current));
            used = 0;
        }
        used += cost;
        current.push(key);
    }
    if !current.is_empty() {
        out.batches.push(current);
    }
    out
}

/// The bytes `key` adds to a message: its JSON and the comma before the next one.
fn encoded_len(key: &BatchKey) -> usize {
    serde_json::to_string(key).map_or(usize::MAX, |json| json.len() + 1)
}

fn too_long(key: &BatchKey, cost: usize, budget: usize) -> String {
    let start: String = key.key.chars().take(80).collect();
    format!(
        "key {start:?}… is {cost} bytes long once encoded, over the {budget}-byte room of a queue message"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Message;

    fn keys(count: usize, length: usize) -> Vec<BatchKey> {
        (0..count)
            .map(|i| BatchKey {
                key: format!("{i:06}{}", "k".repeat(length.saturating_sub(6))),
                size: u64::MAX,
            })
            .collect()
    }

    #[test]
    fn short_keys_are_cut_by_count() {
        let sizes: Vec<usize> = cut(keys(250, 10), 100, KEYS_BUDGET)
            .batches
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
    }

    /// 500 keys of 1,000 bytes (S3's keys go to 1,024) were one 500 KB message before.
    #[test]
    fn long_keys_are_cut_by_size_and_every_message_fits_the_queue() {
        let cut = cut(keys(500, 1000), 500, KEYS_BUDGET);
        assert!(cut.batches.len() > 1, "500 long keys stayed in one batch");
        assert_eq!(cut.batches.iter().map(Vec::len).sum::<usize>(), 500);
        for (i, keys) in cut.batches.into_iter().enumerate() {
            let body = Message::IngestBatch {
                job: u64::MAX,
                storage: u64::MAX,
                part: u64::MAX,
                page: u64::MAX,
                batch: i as u64,
                keys,
            }
            .to_body();
            assert!(
                body.len() <= MAX_BODY_BYTES,
                "batch {i} is {} bytes",
                body.len()
            );
        }
    }

    #[test]
    fn a_key_over_the_budget_is_refused_by_name_and_the_rest_go_on() {
        let mut listed = keys(3, 10);
        listed.insert(
            1,
            BatchKey {
                key: "x".repeat(2000),
                size: 1,
            },
        );
        let cut = cut(listed, 100, 1000);
        assert_eq!(cut.batches, vec![keys(3, 10)]);
        assert_eq!(cut.too_long.len(), 1);
        assert!(
            cut.too_long[0].contains("over the 1000-byte room"),
            "{:?}",
            cut.too_long
        );
    }
}
