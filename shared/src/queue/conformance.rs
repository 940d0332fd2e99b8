//! The checks every [`Queue`] implementation must pass; each implementation's tests call
//! [`run_all`] (or single checks) on a real instance.
//!
//! The checks assume that nothing else sends to the queue while they run, but not that it is
//! empty when they start: each first drains (receives and acks) what is visible, and tags its
//! own bodies with a unique prefix, so that a leftover from an earlier run that turns up later is
//! acked and ignored. A check that fails panics with what it expected.
//!
//! No check asserts on elapsed time. Where a message is expected, the receive waits
//! [`PATIENCE`] (it returns as soon as the message comes); where none is, the receive waits a
//! few short visibility timeouts.

use std::time::Duration;

use crate::queue::{Delivery, MAX_BODY_BYTES, Queue, QueueError, QueueName, QueueResult};

/// The visibility timeout of checks that wait for a redelivery.
pub const SHORT_VISIBILITY: Duration = Duration::from_millis(300);
/// A visibility timeout no check outlasts.
pub const LONG_VISIBILITY: Duration = Duration::from_secs(60);
/// How long a receive waits for a message that is expected to come.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// How long a receive waits when no message is expected.
const QUIET_WAIT: Duration = Duration::from_millis(200);
/// How long a receive waits to show that a message is *not* redelivered.
const NOT_REDELIVERED_WAIT: Duration = Duration::from_millis(900);
/// The batch size checks receive with (the SQS maximum).
const BATCH: usize = 10;

/// Runs every check on `name`, one after the other. `max_receives` is the number of deliveries
/// after which `queue` dead-letters a message.
pub async fn run_all(queue: &dyn Queue, name: QueueName, max_receives: u32) {
    receives_each_sent_message_once(queue, name, 25).await;
    unacked_message_is_redelivered(queue, name).await;
    acked_message_is_not_redelivered(queue, name).await;
    stale_receipt_is_rejected(queue, name).await;
    extend_keeps_message_invisible(queue, name).await;
    extend_to_zero_makes_message_visible(queue, name).await;
    exhausted_message_goes_to_dead_letters(queue, name, max_receives).await;
    receive_returns_message_sent_during_wait(queue, name).await;
    empty_queue_receive_returns_nothing(queue, name).await;
    largest_body_is_delivered_whole_and_larger_is_refused(queue, name).await;
}

/// `count` messages sent in one call are each received exactly once, with receive count 1,
/// by a loop of batch receives.
pub async fn receives_each_sent_message_once(queue: &dyn Queue, name: QueueName, count: usize) {
    drain(queue, name).await;
    let tag = Tag::new("receive-once");
    let sent: Vec<String> = (0..count).map(|index| tag.body(index)).collect();
    must(queue.send(name, sent.clone()).await, "send");
    let mut received = Vec::new();
    while received.len() < count {
        let batch = receive_ours(queue, name, &tag, BATCH, LONG_VISIBILITY, PATIENCE).await;
        if batch.is_empty() {
            break;
        }
        for delivery in batch {
            assert_eq!(
                delivery.receive_count, 1,
                "first delivery of {:?}",
                delivery.body
            );
            must(queue.ack(name, &delivery.receipt).await, "ack");
            received.push(delivery.body);
        }
    }
    received.sort();
    let mut expected = sent;
    expected.sort();
    assert_eq!(
        received, expected,
        "{name:?}: every sent message exactly once"
    );
    let more = receive_ours(queue, name, &tag, BATCH, LONG_VISIBILITY, QUIET_WAIT).await;
    assert!(
        more.is_empty(),
        "{name:?}: acked messages came again: {more:?}"
    );
}

/// A message that is not acked comes again after its visibility timeout, with receive count 2
/// and a new receipt.
pub async fn unacked_message_is_redelivered(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("redelivered");
    must(queue.send(name, vec![tag.body(0)]).await, "send");
    let first = receive_one(queue, name, &tag, SHORT_VISIBILITY).await;
    assert_eq!(first.receive_count, 1, "{name:?}: first delivery");
    let second = receive_one(queue, name, &tag, LONG_VISIBILITY).await;
    assert_eq!(
        second.body, first.body,
        "{name:?}: the same message comes again"
    );
    assert_eq!(
        second.message_id, first.message_id,
        "{name:?}: redelivery keeps the id"
    );
    assert_eq!(second.receive_count, 2, "{name:?}: second delivery");
    assert_ne!(
        second.receipt, first.receipt,
        "{name:?}: a redelivery has a new receipt"
    );
    must(queue.ack(name, &second.receipt).await, "ack");
}

/// An acked message does not come again, even after its visibility timeout.
pub async fn acked_message_is_not_redelivered(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("acked");
    must(queue.send(name, vec![tag.body(0)]).await, "send");
    let delivery = receive_one(queue, name, &tag, SHORT_VISIBILITY).await;
    must(queue.ack(name, &delivery.receipt).await, "ack");
    let again = receive_ours(
        queue,
        name,
        &tag,
        BATCH,
        LONG_VISIBILITY,
        NOT_REDELIVERED_WAIT,
    )
    .await;
    assert!(
        again.is_empty(),
        "{name:?}: an acked message came again: {again:?}"
    );
}

/// After a redelivery, the first delivery's receipt no longer acks nor extends; the current
/// one does. Queues that cannot tell (SQS accepts old receipt handles: "the request succeeds,
/// but the message might not be deleted") say so with `Queue::rejects_stale_receipts`, and only
/// the current receipt's ack is checked for them.
pub async fn stale_receipt_is_rejected(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("stale");
    must(queue.send(name, vec![tag.body(0)]).await, "send");
    let first = receive_one(queue, name, &tag, SHORT_VISIBILITY).await;
    let second = receive_one(queue, name, &tag, LONG_VISIBILITY).await;
    if queue.rejects_stale_receipts() {
        assert_stale(
            queue.ack(name, &first.receipt).await,
            "ack with the first receipt",
        );
        assert_stale(
            queue.extend(name, &first.receipt, Duration::ZERO).await,
            "extend with the first receipt",
        );
    }
    must(
        queue.ack(name, &second.receipt).await,
        "ack with the current receipt",
    );
}

/// Extending a delivery keeps the message invisible past its first visibility timeout, and
/// its receipt stays current.
pub async fn extend_keeps_message_invisible(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("extend");
    must(queue.send(name, vec![tag.body(0)]).await, "send");
    let delivery = receive_one(queue, name, &tag, SHORT_VISIBILITY).await;
    must(
        queue.extend(name, &delivery.receipt, LONG_VISIBILITY).await,
        "extend",
    );
    let again = receive_ours(
        queue,
        name,
        &tag,
        BATCH,
        LONG_VISIBILITY,
        NOT_REDELIVERED_WAIT,
    )
    .await;
    assert!(
        again.is_empty(),
        "{name:?}: an extended message came again: {again:?}"
    );
    must(queue.ack(name, &delivery.receipt).await, "ack after extend");
}

/// Extending a delivery by zero makes the message visible at once.
pub async fn extend_to_zero_makes_message_visible(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("extend-zero");
    must(queue.send(name, vec![tag.body(0)]).await, "send");
    let first = receive_one(queue, name, &tag, LONG_VISIBILITY).await;
    must(
        queue.extend(name, &first.receipt, Duration::ZERO).await,
        "extend to zero",
    );
    let second = receive_one(queue, name, &tag, LONG_VISIBILITY).await;
    assert_eq!(
        second.body, first.body,
        "{name:?}: the released message comes again"
    );
    assert_eq!(second.receive_count, 2, "{name:?}: second delivery");
    must(queue.ack(name, &second.receipt).await, "ack");
}

/// A message delivered `max_receives` times (released each time by an extend to zero) goes to
/// the dead letters on the next receive instead of being delivered.
pub async fn exhausted_message_goes_to_dead_letters(
    queue: &dyn Queue,
    name: QueueName,
    max_receives: u32,
) {
    drain(queue, name).await;
    let tag = Tag::new("dead-letter");
    let body = tag.body(0);
    must(queue.send(name, vec![body.clone()]).await, "send");
    for expected_count in 1..=max_receives {
        let delivery = receive_one(queue, name, &tag, LONG_VISIBILITY).await;
        assert_eq!(
            delivery.receive_count, expected_count,
            "{name:?}: delivery count"
        );
        must(
            queue.extend(name, &delivery.receipt, Duration::ZERO).await,
            "release",
        );
    }
    let again = receive_ours(queue, name, &tag, BATCH, LONG_VISIBILITY, QUIET_WAIT).await;
    assert!(
        again.is_empty(),
        "{name:?}: an exhausted message was delivered: {again:?}"
    );
    let dead = must(queue.dead_letters(name, 10_000).await, "dead_letters");
    assert!(
        dead.contains(&body),
        "{name:?}: {body:?} is not among the dead letters {dead:?}"
    );
}

/// A receive that is waiting returns a message sent during its wait.
pub async fn receive_returns_message_sent_during_wait(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let tag = Tag::new("wake");
    let body = tag.body(0);
    let send_later = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        must(queue.send(name, vec![body.clone()]).await, "send");
    };
    let (received, ()) = tokio::join!(
        receive_ours(queue, name, &tag, BATCH, LONG_VISIBILITY, PATIENCE),
        send_later
    );
    let bodies: Vec<&str> = received
        .iter()
        .map(|delivery| delivery.body.as_str())
        .collect();
    assert_eq!(
        bodies,
        [body.as_str()],
        "{name:?}: the message sent during the wait"
    );
    for delivery in &received {
        must(queue.ack(name, &delivery.receipt).await, "ack");
    }
}

/// A receive on an empty queue returns an empty batch once its wait runs out.
pub async fn empty_queue_receive_returns_nothing(queue: &dyn Queue, name: QueueName) {
    drain(queue, name).await;
    let batch = must(
        queue
            .receive(name, BATCH, LONG_VISIBILITY, QUIET_WAIT)
            .await,
        "receive",
    );
    assert!(
        batch.is_empty(),
        "{name:?}: a drained queue delivered {batch:?}"
    );
}

/// A body of exactly [`MAX_BODY_BYTES`] comes back byte for byte; a send with one byte more
/// fails as `TooLarge` and queues none of its bodies.
pub async fn largest_body_is_delivered_whole_and_larger_is_refused(
    queue: &dyn Queue,
    name: QueueName,
) {
    drain(queue, name).await;
    let tag = Tag::new("largest");
    let body = |index: usize, length: usize| {
        let mut body = tag.body(index);
        let fill = length.saturating_sub(body.len());
        body.extend((0..fill).map(|at| char::from(b'a' + (at % 26) as u8)));
        body
    };
    let refused = queue
        .send(name, vec![body(0, 0), body(1, MAX_BODY_BYTES + 1)])
        .await;
    assert!(
        matches!(refused, Err(QueueError::TooLarge { bytes, .. }) if bytes == MAX_BODY_BYTES + 1),
        "{name:?}: a body over the limit was not refused: {refused:?}"
    );
    let largest = body(2, MAX_BODY_BYTES);
    must(queue.send(name, vec![largest.clone()]).await, "send");
    let batch = receive_ours(queue, name, &tag, BATCH, LONG_VISIBILITY, PATIENCE).await;
    let bodies: Vec<&str> = batch.iter().map(|d| d.body.as_str()).collect();
    assert_eq!(
        bodies.len(),
        1,
        "{name:?}: expected only the largest body (the refused send queued nothing)"
    );
    assert!(
        bodies[0] == largest,
        "{name:?}: the largest body came back changed"
    );
    for delivery in batch {
        must(queue.ack(name, &delivery.receipt).await, "ack");
    }
}

/// Receives and acks whatever is visible until a receive comes back empty.
async fn drain(queue: &dyn Queue, name: QueueName) {
    loop {
        let batch = must(
            queue
                .receive(name, BATCH, LONG_VISIBILITY, QUIET_WAIT)
                .await,
            "receive while draining",
        );
        if batch.is_empty() {
            return;
        }
        for delivery in batch {
            must(
                queue.ack(name, &delivery.receipt).await,
                "ack while draining",
            );
        }
    }
}

/// Receives until a batch holds messages of `tag` or comes back empty; acks the others.
async fn receive_ours(
    queue: &dyn Queue,
    name: QueueName,
    tag: &Tag,
    max: usize,
    visibility: Duration,
    wait: Duration,
) -> Vec<Delivery> {
    loop {
        let batch = must(queue.receive(name, max, visibility, wait).await, "receive");
        if batch.is_empty() {
            return batch;
        }
        let (ours, others): (Vec<Delivery>, Vec<Delivery>) = batch
            .into_iter()
            .partition(|delivery| tag.owns(&delivery.body));
        for leftover in others {
            must(queue.ack(name, &leftover.receipt).await, "ack a leftover");
        }
        if !ours.is_empty() {
            return ours;
        }
    }
}

/// Receives the single message of `tag` that the check expects now.
async fn receive_one(
    queue: &dyn Queue,
    name: QueueName,
    tag: &Tag,
    visibility: Duration,
) -> Delivery {
    let mut batch = receive_ours(queue, name, tag, 1, visibility, PATIENCE).await;
    assert_eq!(
        batch.len(),
        1,
        "{name:?}: expected one message of {}, got {batch:?}",
        tag.0
    );
    batch.remove(0)
}

/// The unique body prefix of one check run.
struct Tag(String);

impl Tag {
    fn new(check: &str) -> Self {
        Tag(format!("conformance-{check}-{}", uuid::Uuid::new_v4()))
    }

    fn body(&self, index: usize) -> String {
        format!("{}/{index}", self.0)
    }

    fn owns(&self, body: &str) -> bool {
        body.strip_prefix(self.0.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }
}

fn must<T>(result: QueueResult<T>, operation: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{operation} failed: {error}"),
    }
}

fn assert_stale(result: QueueResult<()>, what: &str) {
    match result {
        Err(QueueError::StaleReceipt { .. }) => {}
        other => panic!("{what}: expected a stale-receipt error, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Tag;

    #[test]
    fn tag_owns_only_its_bodies() {
        let tag = Tag::new("t");
        assert!(tag.owns(&tag.body(3)));
        assert!(!tag.owns(&Tag::new("t").body(3)));
        assert!(!tag.owns(&format!("{}0/1", tag.0)));
    }
}
