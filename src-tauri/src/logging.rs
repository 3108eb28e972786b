//! Logs to stdout and to a daily-rolling file in the app's log directory. Filter with RUST_LOG.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

pub const LOG_FILE_PREFIX: &str = "mes-machine-manager.log";

/// Installs the global subscriber. Returns the file writer's guard (keep it alive: dropping it
/// flushes and stops file logging), or `None` when a subscriber was already installed.
pub fn init(log_dir: &Path) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tao=warn,wry=warn"));
    // Logs name machines and users: for this user's eyes only.
    if let Err(e) = mes_core::private::create_private_dir(log_dir) {
        eprintln!("cannot create the log folder {}: {e}", log_dir.display());
    }
    let file_appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .max_log_files(14)
        .build(log_dir);
    let (file_layer, guard) = match file_appender {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_ansi(false).with_writer(writer)),
                Some(guard),
            )
        }
        Err(e) => {
            eprintln!("cannot write logs to {}: {e}", log_dir.display());
            (None, None)
        }
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer())
        .with(file_layer)
        .try_init()
        .ok()
        .and(guard)
}
