//! A queue consumer for one process: receive, handle with bounded concurrency, keep long work
//! invisible with heartbeats, acknowledge what succeeded, back off what failed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{Settle, handler_of, run_delivery};
use crate::context::Context;
use crate::queue::{Delivery, QueueName};

/// How one queue is consumed.
#[derive(Clone, Copy, Debug)]
pub struct WorkerOptions {
    /// Messages handled at the same time.
    pub concurrency: usize,
    pub visibility: Duration,
    /// Long-poll wait of one receive.
    pub wait: Duration,
}

/// Consumes `queue` until the task running it is aborted. Aborting loses nothing: a message is
/// acknowledged only after its handler finished, so unfinished ones are delivered again.
pub async fn run_worker(ctx: Context, queue: QueueName, options: WorkerOptions) {
    let slots = Arc::new(Semaphore::new(options.concurrency));
    loop {
        let Ok(first) = slots.clone().acquire_owned().await else {
            return;
        };
        let free = 1 + slots.available_permits().min(9);
        let deliveries = match ctx
            .queue
            .receive(queue, free, options.visibility, options.wait)
            .await
        {
            Ok(deliveries) => deliveries,
            Err(e) => {
                tracing::error!(queue = queue.as_str(), error = %e, "receive failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut first = Some(first);
        for delivery in deliveries {
            let permit = match first.take() {
                Some(permit) => permit,
                None => match slots.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let ctx = ctx.clone();
            tokio::spawn(async move {
                handle_delivery(&ctx, queue, delivery, options.visibility).await;
                drop(permit);
            });
        }
    }
}

async fn handle_delivery(
    ctx: &Context,
    queue: QueueName,
    delivery: Delivery,
    visibility: Duration,
) {
    let heartbeat = tokio::spawn(keep_invisible(
        ctx.clone(),
        queue,
        delivery.receipt.clone(),
        visibility,
    ));
    let handler = handler_of(queue);
    let settle = run_delivery(ctx, handler, &delivery.body, delivery.receive_count).await;
    heartbeat.abort();
    let settled = match settle {
        Settle::Done => ctx.queue.ack(queue, &delivery.receipt).await,
        Settle::Retry => {
            let delay = retry_delay(delivery.receive_count, visibility);
            ctx.queue.extend(queue, &delivery.receipt, delay).await
        }
    };
    if let Err(e) = settled {
        tracing::warn!(queue = queue.as_str(), message = %delivery.message_id, error = %e, "could not settle message");
    }
}

/// Extends the message's invisibility every half timeout while its handler runs.
async fn keep_invisible(ctx: Context, queue: QueueName, receipt: String, visibility: Duration) {
    loop {
        tokio::time::sleep(visibility / 2).await;
        if ctx.queue.extend(queue, &receipt, visibility).await.is_err() {
            return;
        }
    }
}

/// Exponential back-off from one second, capped at the visibility timeout.
fn retry_delay(receive_count: u32, visibility: Duration) -> Duration {
    Duration::from_secs(1u64 << receive_count.min(10)).min(visibility)
}
