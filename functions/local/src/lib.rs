//! The embedded default: labelsync's HTTP API and its sync, ingest and export workers in one
//! process, on the embedded store (one `redb` file) and the embedded queue inside it.

pub mod config;
mod follow;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use labelsync::api::{ApiToken, app};
use labelsync::context::{BackendLayer, Context, OutboxRelay};
use labelsync::dispatch::worker::{WorkerOptions, run_worker};
use labelsync::embedded_db::EmbeddedDb;
use labelsync::export::drain_outbox;
use labelsync::queue::QueueName;
use labelsync::queue::embedded::EmbeddedQueue;
use labelsync::state::embedded::EmbeddedState;
use labelsync::triggers::schedule::start_due_syncs;
use labelsync::triggers::sqs_events::consume_events_queue;

pub use config::LocalConfig;

/// The `labelsync` command: `--help`, or configuration from the environment and [`run`].
pub fn main_entry() -> std::process::ExitCode {
    use std::process::ExitCode;
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{}", config::help_text());
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match LocalConfig::from_env(&labelsync::config::ProcessEnv) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("labelsync: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("labelsync: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labelsync: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Receives from the object-events queue at the same time (each handles up to 10 at once).
const EVENT_CONSUMERS: usize = 4;

/// Why the process could not start or stopped with an error.
pub type RunError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the store, starts the workers and serves the API until Ctrl-C or SIGTERM.
pub async fn run(config: LocalConfig) -> Result<(), RunError> {
    let running = start(config, None).await?;
    println!("labelsync listening on http://{}", running.addr);
    running.served.await?
}

/// A started process: where it listens, and its server, which ends at Ctrl-C or SIGTERM.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub served: tokio::task::JoinHandle<Result<(), RunError>>,
}

/// Opens the store and starts the workers, the outbox relay and the API; `layer` wraps every
/// backend (fault injection in tests; `None` in the product).
pub async fn start(config: LocalConfig, layer: Option<BackendLayer>) -> Result<Running, RunError> {
    let db = EmbeddedDb::open(&config.data_dir)?;
    let state = Arc::new(EmbeddedState::new(db.clone())?);
    let queue = Arc::new(EmbeddedQueue::open(db, config.settings.max_receives)?);
    let mut settings = config.settings.clone();
    if settings.media.signing_keys.is_empty() {
        let key = token::media_signing_key(&config.data_dir)?;
        settings.media.signing_keys = vec![labelsync::model::Secret::new(key)];
    }
    let mut ctx = Context::new(state, queue, settings);
    if let Some(layer) = layer {
        ctx = ctx.with_backend_layer(layer);
    }
    let wake = Arc::new(tokio::sync::Notify::new());
    ctx.relay = OutboxRelay::Background(wake.clone());
    let (token, generated) = token::api_token(config.api_token.as_deref(), &config.data_dir)?;
    if generated {
        // The token is a secret: the log says where it is, never what it is.
        println!(
            "Generated the admin API token; read it from {} (readable by this user only)",
            config.data_dir.join(token::TOKEN_FILE).display()
        );
    }
    let mut workers = start_workers(&ctx, &config);
    workers.push(tokio::spawn(relay_outbox(ctx.clone(), wake)));
    workers.push(tokio::spawn(run_schedules(
        ctx.clone(),
        config.schedule_tick,
    )));
    workers.push(tokio::spawn(follow::follow_directories(ctx.clone())));
    if let Some(url) = config.events_queue_url.clone() {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_sqs::Client::new(&sdk);
        for _ in 0..EVENT_CONSUMERS {
            let consumer = consume_events_queue(ctx.clone(), client.clone(), url.clone());
            workers.push(tokio::spawn(consumer));
        }
    }
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    // Without it a response's last small write waits for the client's delayed ACK (Nagle):
    // about 40 ms on a reused connection.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "TCP_NODELAY could not be set");
        }
    });
    let service = app(ctx, ApiToken(token.into()));
    let served = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(service),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        workers.iter().for_each(tokio::task::JoinHandle::abort);
        Ok(served?)
    });
    Ok(Running { addr, served })
}

fn start_workers(ctx: &Context, config: &LocalConfig) -> Vec<tokio::task::JoinHandle<()>> {
    let visibility = config.settings.visibility_timeout;
    let wait = Duration::from_secs(20);
    [
        (QueueName::Sync, config.settings.list_parallelism.max(2)),
        (QueueName::Ingest, config.ingest_workers),
        (QueueName::Export, 4),
    ]
    .into_iter()
    .map(|(queue, concurrency)| {
        let options = WorkerOptions {
            concurrency,
            visibility,
            wait,
        };
        tokio::spawn(run_worker(ctx.clone(), queue, options))
    })
    .collect()
}

/// Moves annotation changes from the outbox to the export queue: when a write wakes it, and
/// every second anyway (entries left by a crash, or by a failed pass).
async fn relay_outbox(ctx: Context, wake: Arc<tokio::sync::Notify>) {
    loop {
        if let Err(e) = drain_outbox(&ctx).await {
            tracing::warn!(error = %e, "the outbox relay failed; trying again");
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
    }
}

/// Starts the scheduled syncs that are due, every `tick`.
async fn run_schedules(ctx: Context, tick: Duration) {
    loop {
        tokio::time::sleep(tick).await;
        if let Err(e) = start_due_syncs(&ctx).await {
            tracing::warn!(error = %e, "starting scheduled syncs failed; trying again");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
