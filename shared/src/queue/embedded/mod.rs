//! The embedded durable queue: the local stand-in for SQS, kept in the same `redb` store file as
//! the embedded state (tables prefixed `queue_`), so that a crash loses nothing that was sent
//! and forgets no receive count.
//!
//! Every `send`, `receive`, `ack` and `extend` is one committed write transaction, run on
//! tokio's blocking pool. A `receive` that finds nothing waits, without polling, until a `send`
//! (or an `extend` to zero) on that queue wakes it, the earliest in-flight message becomes
//! visible, or its `wait` runs out.

mod store;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::embedded_db::EmbeddedDb;
use crate::queue::{Delivery, Queue, QueueError, QueueName, QueueResult, check_body_sizes};
use store::{LeaseCheck, TakeRequest};

/// The durable queue in the embedded store file. See the [module docs](self).
#[derive(Debug)]
pub struct EmbeddedQueue {
    db: Arc<EmbeddedDb>,
    max_receives: u32,
    /// Woken when messages of the queue (indexed like [`QueueName::ALL`]) become visible.
    wakers: [Notify; QueueName::ALL.len()],
}

impl EmbeddedQueue {
    /// Opens the queue tables in `db`; a message received more than `max_receives` times goes to
    /// its queue's dead letters.
    ///
    /// Every message that was in flight becomes visible at once: the embedded queue serves
    /// exactly one process (`redb` locks the store file), so when it is opened again no worker
    /// that could still hold a lease is alive, and waiting out the visibility timeouts would
    /// only delay the retry. Receive counts are kept, so a message that crashed the process
    /// still ends in the dead letters. This is one blocking write transaction; call it at
    /// start-up.
    pub fn open(db: Arc<EmbeddedDb>, max_receives: u32) -> Result<Self, QueueError> {
        let queues = QueueName::ALL.map(QueueName::as_str);
        store::open(db.database(), &queues, now_ms()).map_err(|source| QueueError::Queue {
            queue: "all",
            operation: "open",
            source: Box::new(source),
        })?;
        Ok(EmbeddedQueue {
            db,
            max_receives,
            wakers: std::array::from_fn(|_| Notify::new()),
        })
    }

    fn waker(&self, queue: QueueName) -> &Notify {
        let index = match queue {
            QueueName::Sync => 0,
            QueueName::Ingest => 1,
            QueueName::Export => 2,
        };
        &self.wakers[index]
    }

    /// Runs one store transaction on the blocking pool, naming the queue and the operation in
    /// its error.
    async fn run<T, F>(&self, queue: QueueName, operation: &'static str, work: F) -> QueueResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&redb::Database) -> Result<T, redb::Error> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| QueueError::Queue {
            queue: queue.as_str(),
            operation,
            source,
        };
        match tokio::task::spawn_blocking(move || work(db.database())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(failed(Box::new(error))),
            Err(join_error) => Err(failed(Box::new(join_error))),
        }
    }

    /// One receive transaction: what it delivered, or when to look again.
    async fn take(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> QueueResult<store::Taken> {
        let max_receives = self.max_receives;
        let visibility_ms = duration_ms(visibility);
        self.run(queue, "receive", move |db| {
            let request = TakeRequest {
                queue: queue.as_str(),
                max,
                visibility_ms,
                max_receives,
                now_ms: now_ms(),
            };
            store::take(db, request)
        })
        .await
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, queue: QueueName, bodies: Vec<String>) -> QueueResult<()> {
        check_body_sizes(queue, &bodies)?;
        if bodies.is_empty() {
            return Ok(());
        }
        self.run(queue, "send", move |db| {
            store::send(db, queue.as_str(), &bodies, now_ms())
        })
        .await?;
        self.waker(queue).notify_waiters();
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        let deadline = Instant::now() + wait;
        loop {
            // Created before looking, so a send between the look and the sleep still wakes us.
            let woken = self.waker(queue).notified();
            let taken = self.take(queue, max, visibility).await?;
            let now = Instant::now();
            if !taken.deliveries.is_empty() || max == 0 || now >= deadline {
                return Ok(taken.deliveries);
            }
            let until = match taken.next_visible_at_ms {
                Some(at_ms) => {
                    deadline.min(now + Duration::from_millis(at_ms.saturating_sub(now_ms())))
                }
                None => deadline,
            };
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> QueueResult<()> {
        let (seq, lease) = parse_receipt(receipt)?;
        let check = self
            .run(queue, "ack", move |db| {
                store::ack(db, queue.as_str(), seq, lease)
            })
            .await?;
        current_or_stale(check, receipt)
    }

    async fn extend(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> QueueResult<()> {
        let (seq, lease) = parse_receipt(receipt)?;
        let visibility_ms = duration_ms(visibility);
        let check = self
            .run(queue, "extend", move |db| {
                let visible_at_ms = now_ms().saturating_add(visibility_ms);
                store::extend(db, queue.as_str(), seq, lease, visible_at_ms)
            })
            .await?;
        current_or_stale(check, receipt)?;
        if visibility.is_zero() {
            self.waker(queue).notify_waiters();
        }
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName, limit: usize) -> QueueResult<Vec<String>> {
        self.run(queue, "dead_letters", move |db| {
            store::dead_letters(db, queue.as_str(), limit)
        })
        .await
    }
}

/// Splits a receipt `"{seq}:{lease}"`; one that does not parse was never issued, so it is stale.
fn parse_receipt(receipt: &str) -> QueueResult<(u64, u64)> {
    receipt
        .split_once(':')
        .and_then(|(seq, lease)| Some((seq.parse().ok()?, lease.parse().ok()?)))
        .ok_or_else(|| QueueError::StaleReceipt {
            receipt: receipt.to_owned(),
        })
}

fn current_or_stale(check: LeaseCheck, receipt: &str) -> QueueResult<()> {
    match check {
        LeaseCheck::Current => Ok(()),
        LeaseCheck::Stale => Err(QueueError::StaleReceipt {
            receipt: receipt.to_owned(),
        }),
    }
}

/// Wall-clock milliseconds since the Unix epoch: visibility times outlive the process.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, duration_ms)
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::EmbeddedQueue;
    use crate::embedded_db::EmbeddedDb;
    use crate::queue::{Queue, QueueError, QueueName, conformance};

    const MAX_RECEIVES: u32 = 3;
    const HOUR: Duration = Duration::from_secs(3600);

    fn open(dir: &tempfile::TempDir) -> EmbeddedQueue {
        EmbeddedQueue::open(EmbeddedDb::open(dir.path()).unwrap(), MAX_RECEIVES).unwrap()
    }

    async fn conformance_on(name: QueueName) {
        let dir = tempfile::tempdir().unwrap();
        conformance::run_all(&open(&dir), name, MAX_RECEIVES).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_sync() {
        conformance_on(QueueName::Sync).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_ingest() {
        conformance_on(QueueName::Ingest).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_export() {
        conformance_on(QueueName::Export).await;
    }

    /// All three queues in one store at the same time: the checks' drains and leftovers must
    /// not cross queues.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_all_queues_at_once_in_one_store() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        let [sync, ingest, export] =
            QueueName::ALL.map(|name| conformance::run_all(&queue, name, MAX_RECEIVES));
        tokio::join!(sync, ingest, export);
    }

    /// Consumers racing on one queue still get each message exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_consumers_share_the_messages() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        let bodies: Vec<String> = (0..300).map(|index| index.to_string()).collect();
        queue.send(QueueName::Ingest, bodies).await.unwrap();
        let consume = || async {
            let mut bodies = Vec::new();
            loop {
                let batch = queue
                    .receive(QueueName::Ingest, 7, HOUR, Duration::ZERO)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return bodies;
                }
                for delivery in batch {
                    queue
                        .ack(QueueName::Ingest, &delivery.receipt)
                        .await
                        .unwrap();
                    bodies.push(delivery.body.parse::<u32>().unwrap());
                }
            }
        };
        let (a, b, c, d) = tokio::join!(consume(), consume(), consume(), consume());
        let mut all: Vec<u32> = [a, b, c, d].concat();
        all.sort_unstable();
        assert_eq!(all, (0..300).collect::<Vec<u32>>());
    }

    #[tokio::test]
    async fn messages_survive_reopen_and_in_flight_ones_are_visible_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        let bodies: Vec<String> = (0..3).map(|index| format!("m{index}")).collect();
        queue.send(QueueName::Ingest, bodies.clone()).await.unwrap();
        let in_flight = queue
            .receive(QueueName::Ingest, 2, HOUR, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(in_flight.len(), 2);
        drop(queue);

        let reopened = open(&dir);
        let after = reopened
            .receive(QueueName::Ingest, 10, HOUR, Duration::ZERO)
            .await
            .unwrap();
        let counts: HashMap<String, u32> = after
            .iter()
            .map(|delivery| (delivery.body.clone(), delivery.receive_count))
            .collect();
        let expected: HashMap<String, u32> = [("m0", 2), ("m1", 2), ("m2", 1)]
            .map(|(body, count)| (body.to_owned(), count))
            .into();
        assert_eq!(counts, expected);
        for old in &in_flight {
            let result = reopened.ack(QueueName::Ingest, &old.receipt).await;
            assert!(
                matches!(result, Err(QueueError::StaleReceipt { .. })),
                "{result:?}"
            );
        }
    }

    /// A message that "crashes the process" on every delivery: receive counts survive the
    /// restarts, so it ends in the dead letters instead of crashing the process forever.
    #[tokio::test]
    async fn receive_counts_survive_reopen_so_a_poison_message_is_dead_lettered() {
        let dir = tempfile::tempdir().unwrap();
        open(&dir)
            .send(QueueName::Sync, vec!["poison".to_owned()])
            .await
            .unwrap();
        for expected_count in 1..=MAX_RECEIVES {
            let queue = open(&dir);
            let batch = queue
                .receive(QueueName::Sync, 1, HOUR, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(batch.len(), 1);
            assert_eq!(batch[0].receive_count, expected_count);
        }
        let queue = open(&dir);
        let batch = queue
            .receive(QueueName::Sync, 1, HOUR, Duration::ZERO)
            .await
            .unwrap();
        assert!(batch.is_empty(), "{batch:?}");
        drop(queue);
        let dead = open(&dir).dead_letters(QueueName::Sync, 10).await.unwrap();
        assert_eq!(dead, ["poison"]);
    }

    /// A receive waiting an hour returns when a send (or an in-flight message's visibility
    /// timeout, or an extend to zero) makes a message visible. The 30 s guard is no timing
    /// assertion: it only turns "sleeps the whole hour" into a failure.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_receive_wakes_without_waiting_out_its_wait() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        let wait_for_one = || async {
            let receive = queue.receive(QueueName::Sync, 1, HOUR, HOUR);
            let batch = tokio::time::timeout(Duration::from_secs(30), receive)
                .await
                .expect("the waiting receive was not woken")
                .unwrap();
            assert_eq!(batch.len(), 1);
            batch.into_iter().next().unwrap()
        };
        let send_later = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            queue
                .send(QueueName::Sync, vec!["late".to_owned()])
                .await
                .unwrap();
        };
        let (sent, ()) = tokio::join!(wait_for_one(), send_later);
        assert_eq!(sent.body, "late");

        queue
            .extend(QueueName::Sync, &sent.receipt, Duration::from_millis(300))
            .await
            .unwrap();
        let timed_out = wait_for_one().await;
        assert_eq!(
            (timed_out.body.as_str(), timed_out.receive_count),
            ("late", 2)
        );

        let release_later = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            queue
                .extend(QueueName::Sync, &timed_out.receipt, Duration::ZERO)
                .await
                .unwrap();
        };
        let (released, ()) = tokio::join!(wait_for_one(), release_later);
        assert_eq!(
            (released.body.as_str(), released.receive_count),
            ("late", 3)
        );
    }

    #[tokio::test]
    async fn queues_do_not_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        for name in QueueName::ALL {
            let bodies = (0..5)
                .map(|index| format!("{}-{index}", name.as_str()))
                .collect();
            queue.send(name, bodies).await.unwrap();
        }
        for name in QueueName::ALL {
            let batch = queue
                .receive(name, 100, HOUR, Duration::ZERO)
                .await
                .unwrap();
            let bodies: Vec<String> = batch.into_iter().map(|delivery| delivery.body).collect();
            let expected: Vec<String> = (0..5)
                .map(|index| format!("{}-{index}", name.as_str()))
                .collect();
            assert_eq!(bodies, expected, "{name:?}");
        }
    }

    #[tokio::test]
    async fn receipts_that_were_never_issued_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        queue
            .send(QueueName::Export, vec!["x".to_owned()])
            .await
            .unwrap();
        let batch = queue
            .receive(QueueName::Export, 1, HOUR, Duration::ZERO)
            .await
            .unwrap();
        let seq = &batch[0].message_id;
        for receipt in [
            "",
            "garbage",
            "1:",
            ":1",
            &format!("{seq}:0"),
            &format!("{seq}:999"),
        ] {
            let result = queue.ack(QueueName::Export, receipt).await;
            assert!(
                matches!(result, Err(QueueError::StaleReceipt { .. })),
                "{receipt}: {result:?}"
            );
        }
        queue
            .ack(QueueName::Export, &batch[0].receipt)
            .await
            .unwrap();
        let again = queue.ack(QueueName::Export, &batch[0].receipt).await;
        assert!(
            matches!(again, Err(QueueError::StaleReceipt { .. })),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn dead_letters_are_oldest_first_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let queue = EmbeddedQueue::open(EmbeddedDb::open(dir.path()).unwrap(), 0).unwrap();
        let bodies: Vec<String> = (0..4).map(|index| format!("d{index}")).collect();
        queue.send(QueueName::Sync, bodies).await.unwrap();
        let batch = queue
            .receive(QueueName::Sync, 10, HOUR, Duration::ZERO)
            .await
            .unwrap();
        assert!(
            batch.is_empty(),
            "max_receives 0 delivers nothing: {batch:?}"
        );
        assert_eq!(
            queue.dead_letters(QueueName::Sync, 3).await.unwrap(),
            ["d0", "d1", "d2"]
        );
        assert!(
            queue
                .dead_letters(QueueName::Ingest, 3)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// 10,000 messages sent in batches of 100, received and acked in batches of 10: each comes
    /// exactly once. This is also the throughput yardstick: it takes seconds, with every transaction
    /// durable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_thousand_messages_each_delivered_once() {
        let dir = tempfile::tempdir().unwrap();
        let queue = open(&dir);
        for batch in 0..100 {
            let bodies = (0..100)
                .map(|index| format!("{}", batch * 100 + index))
                .collect();
            queue.send(QueueName::Ingest, bodies).await.unwrap();
        }
        let mut seen = vec![false; 10_000];
        loop {
            let batch = queue
                .receive(QueueName::Ingest, 10, HOUR, Duration::ZERO)
                .await
                .unwrap();
            if batch.is_empty() {
                break;
            }
            for delivery in batch {
                let index: usize = delivery.body.parse().unwrap();
                assert!(!seen[index], "{index} delivered twice");
                seen[index] = true;
                queue
                    .ack(QueueName::Ingest, &delivery.receipt)
                    .await
                    .unwrap();
            }
        }
        assert!(seen.iter().all(|&delivered| delivered));
    }
}
