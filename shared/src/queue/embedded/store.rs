//! The embedded queue's tables in the store file and the write transactions on them. Every
//! function here is one committed `redb` write transaction and blocks; [`super::EmbeddedQueue`]
//! runs them on tokio's blocking pool.

use std::collections::HashSet;
use std::ops::Bound;

use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition};

use crate::queue::Delivery;

/// (queue, seq) -> (body, receive count, lease, visible at in ms since the epoch). The lease is 0
/// until the first delivery and changes with every delivery; only the current one acks.
const MESSAGES: TableDefinition<(&str, u64), (&str, u32, u64, u64)> =
    TableDefinition::new("queue_messages");
/// (queue, visible at in ms, seq) -> (): every live message, in flight or ready, ordered by when
/// it is (or becomes) visible, so the oldest ready ones and the next to become visible are a
/// range read away.
const READY: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("queue_ready");
/// (queue, seq) -> body of a message that exhausted its receives.
const DEAD_LETTERS: TableDefinition<(&str, u64), &str> = TableDefinition::new("queue_dead_letters");
/// counter name -> next unused value.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("queue_counters");

const NEXT_SEQ: &str = "next_seq";
const NEXT_LEASE: &str = "next_lease";

/// The result of one receive transaction.
#[derive(Debug, Default)]
pub(super) struct Taken {
    pub deliveries: Vec<Delivery>,
    /// When nothing was delivered: when the earliest in-flight message becomes visible.
    pub next_visible_at_ms: Option<u64>,
}

/// What `ack` and `extend` found for a receipt.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LeaseCheck {
    Current,
    Stale,
}

/// Creates the tables (so that readers never meet a missing one) and makes every in-flight
/// message of `queues` visible at `now_ms`: see [`super::EmbeddedQueue::open`] for why.
pub(super) fn open(db: &Database, queues: &[&str], now_ms: u64) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    {
        txn.open_table(COUNTERS)?;
        txn.open_table(DEAD_LETTERS)?;
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ready = txn.open_table(READY)?;
        for &queue in queues {
            let in_flight = ready_keys(
                &ready,
                queue,
                Bound::Excluded((now_ms, u64::MAX)),
                Bound::Included((u64::MAX, u64::MAX)),
                usize::MAX,
            )?;
            for (visible_at, seq) in in_flight {
                reschedule(&mut messages, &mut ready, queue, seq, visible_at, now_ms)?;
            }
        }
    }
    txn.commit()?;
    Ok(())
}

/// Appends the bodies to `queue`, visible at `now_ms`, in one transaction.
pub(super) fn send(
    db: &Database,
    queue: &str,
    bodies: &[String],
    now_ms: u64,
) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut counters = txn.open_table(COUNTERS)?;
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ready = txn.open_table(READY)?;
        let mut seq = counter(&counters, NEXT_SEQ)?;
        for body in bodies {
            messages.insert((queue, seq), (body.as_str(), 0, 0, now_ms))?;
            ready.insert((queue, now_ms, seq), ())?;
            seq += 1;
        }
        counters.insert(NEXT_SEQ, seq)?;
    }
    txn.commit()?;
    Ok(())
}

/// Delivery parameters of one receive.
#[derive(Clone, Copy, Debug)]
pub(super) struct TakeRequest<'a> {
    pub queue: &'a str,
    pub max: usize,
    pub visibility_ms: u64,
    pub max_receives: u32,
    pub now_ms: u64,
}

/// Delivers up to `max` messages visible at `now_ms`, oldest first, dead-lettering those that
/// would exceed `max_receives`.
pub(super) fn take(db: &Database, request: TakeRequest<'_>) -> Result<Taken, redb::Error> {
    let TakeRequest {
        queue,
        max,
        visibility_ms,
        max_receives,
        now_ms,
    } = request;
    let txn = db.begin_write()?;
    let mut taken = Taken::default();
    {
        let mut counters = txn.open_table(COUNTERS)?;
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ready = txn.open_table(READY)?;
        let mut dead_letters = txn.open_table(DEAD_LETTERS)?;
        let mut lease = counter(&counters, NEXT_LEASE)?.max(1);
        let visible_at = now_ms.saturating_add(visibility_ms);
        // With a zero visibility a delivered message lands in the range again; never twice.
        let mut seen = HashSet::new();
        let mut after = Bound::Unbounded;
        while taken.deliveries.len() < max {
            let wanted = max - taken.deliveries.len();
            let due = ready_keys(
                &ready,
                queue,
                after,
                Bound::Included((now_ms, u64::MAX)),
                wanted,
            )?;
            let Some(&last) = due.last() else { break };
            after = Bound::Excluded(last);
            for (due_at, seq) in due {
                if !seen.insert(seq) {
                    continue;
                }
                ready.remove((queue, due_at, seq))?;
                let Some((body, count)) = messages
                    .get((queue, seq))?
                    .map(|guard| (guard.value().0.to_owned(), guard.value().1))
                else {
                    continue;
                };
                let count = count.saturating_add(1);
                if count > max_receives {
                    messages.remove((queue, seq))?;
                    dead_letters.insert((queue, seq), body.as_str())?;
                    continue;
                }
                messages.insert((queue, seq), (body.as_str(), count, lease, visible_at))?;
                ready.insert((queue, visible_at, seq), ())?;
                taken.deliveries.push(Delivery {
                    message_id: seq.to_string(),
                    receipt: format!("{seq}:{lease}"),
                    body,
                    receive_count: count,
                });
                lease += 1;
            }
        }
        counters.insert(NEXT_LEASE, lease)?;
        if taken.deliveries.is_empty() {
            taken.next_visible_at_ms = ready_keys(
                &ready,
                queue,
                Bound::Unbounded,
                Bound::Included((u64::MAX, u64::MAX)),
                1,
            )?
            .first()
            .map(|&(due_at, _)| due_at);
        }
    }
    txn.commit()?;
    Ok(taken)
}

/// Deletes the message if `lease` is its current lease.
pub(super) fn ack(
    db: &Database,
    queue: &str,
    seq: u64,
    lease: u64,
) -> Result<LeaseCheck, redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ready = txn.open_table(READY)?;
        let Some(visible_at) = current_visible_at(&messages, queue, seq, lease)? else {
            return Ok(LeaseCheck::Stale);
        };
        messages.remove((queue, seq))?;
        ready.remove((queue, visible_at, seq))?;
    }
    txn.commit()?;
    Ok(LeaseCheck::Current)
}

/// Makes the message visible at `visible_at_ms` if `lease` is its current lease.
pub(super) fn extend(
    db: &Database,
    queue: &str,
    seq: u64,
    lease: u64,
    visible_at_ms: u64,
) -> Result<LeaseCheck, redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ready = txn.open_table(READY)?;
        let Some(visible_at) = current_visible_at(&messages, queue, seq, lease)? else {
            return Ok(LeaseCheck::Stale);
        };
        reschedule(
            &mut messages,
            &mut ready,
            queue,
            seq,
            visible_at,
            visible_at_ms,
        )?;
    }
    txn.commit()?;
    Ok(LeaseCheck::Current)
}

/// Bodies of the dead letters of `queue`, oldest first, at most `limit`.
pub(super) fn dead_letters(
    db: &Database,
    queue: &str,
    limit: usize,
) -> Result<Vec<String>, redb::Error> {
    let txn = db.begin_read()?;
    let table = txn.open_table(DEAD_LETTERS)?;
    let mut bodies = Vec::new();
    for entry in table.range((queue, 0)..=(queue, u64::MAX))?.take(limit) {
        let (_, body) = entry?;
        bodies.push(body.value().to_owned());
    }
    Ok(bodies)
}

/// The message's visible-at time if it exists and `lease` is its current (non-zero) lease.
fn current_visible_at(
    messages: &Table<(&str, u64), (&str, u32, u64, u64)>,
    queue: &str,
    seq: u64,
    lease: u64,
) -> Result<Option<u64>, redb::Error> {
    Ok(messages.get((queue, seq))?.and_then(|guard| {
        let (_, _, current, visible_at) = guard.value();
        (lease != 0 && current == lease).then_some(visible_at)
    }))
}

/// Moves a message from `from_ms` to `to_ms` in both tables.
fn reschedule(
    messages: &mut Table<(&str, u64), (&str, u32, u64, u64)>,
    ready: &mut Table<(&str, u64, u64), ()>,
    queue: &str,
    seq: u64,
    from_ms: u64,
    to_ms: u64,
) -> Result<(), redb::Error> {
    let Some((body, count, lease)) = messages.get((queue, seq))?.map(|guard| {
        let (body, count, lease, _) = guard.value();
        (body.to_owned(), count, lease)
    }) else {
        return Ok(());
    };
    messages.insert((queue, seq), (body.as_str(), count, lease, to_ms))?;
    ready.remove((queue, from_ms, seq))?;
    ready.insert((queue, to_ms, seq), ())?;
    Ok(())
}

/// Up to `limit` (visible at, seq) keys of `queue` in the ready index between the bounds.
fn ready_keys(
    ready: &impl ReadableTable<(&'static str, u64, u64), ()>,
    queue: &str,
    from: Bound<(u64, u64)>,
    to: Bound<(u64, u64)>,
    limit: usize,
) -> Result<Vec<(u64, u64)>, redb::Error> {
    let with_queue = |bound: Bound<(u64, u64)>, unbounded: (u64, u64)| match bound {
        Bound::Included((at, seq)) => Bound::Included((queue, at, seq)),
        Bound::Excluded((at, seq)) => Bound::Excluded((queue, at, seq)),
        Bound::Unbounded => Bound::Included((queue, unbounded.0, unbounded.1)),
    };
    let range = (
        with_queue(from, (0, 0)),
        with_queue(to, (u64::MAX, u64::MAX)),
    );
    let mut keys = Vec::new();
    for entry in ready.range::<(&str, u64, u64)>(range)?.take(limit) {
        let (key, _) = entry?;
        let (_, visible_at, seq) = key.value();
        keys.push((visible_at, seq));
    }
    Ok(keys)
}

/// The counter's next unused value (0 when it was never written).
fn counter(counters: &Table<&str, u64>, name: &str) -> Result<u64, redb::Error> {
    Ok(counters.get(name)?.map_or(0, |guard| guard.value()))
}
