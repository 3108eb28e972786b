use std::path::PathBuf;
use std::sync::Arc;

use mes_app_lib::AppState;
use mes_core::config::ConfigSource;
use mes_core::sync::{Outbox, SyncedRegistry};
use mes_core::{DatabaseTarget, Registry};
use serde_json::{json, Value};
use sqlx::PgPool;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow};

pub struct MockApp {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

impl MockApp {
    pub fn new(synced: SyncedRegistry) -> Self {
        let builder = mes_app_lib::specta_builder::<MockRuntime>();
        let app = mock_builder()
            .invoke_handler(builder.invoke_handler())
            .manage(AppState::signed_in(
                synced,
                PathBuf::from("/nonexistent/config.toml"),
            ))
            .build(mock_context(noop_assets()))
            .expect("build mock app");
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("mock window");
        Self { _app: app, window }
    }

    /// The app's registry, for checks after the commands.
    pub fn synced(&self) -> Arc<SyncedRegistry> {
        use tauri::Manager;
        self._app
            .state::<AppState>()
            .shared()
            .expect("the app is set up")
    }

    /// Invokes a command as the UI does: JSON arguments in, JSON result or error out.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        tauri::test::get_ipc_response(&self.window, request)
            .map(|body| body.deserialize::<Value>().expect("JSON response"))
    }
}

pub fn registry(pool: PgPool) -> Registry {
    let target = DatabaseTarget {
        display: "test".into(),
        source: ConfigSource::Environment,
        insecure: false,
    };
    Registry::from_pool(pool, target)
}

/// The registry with an outbox in a fresh temporary file.
pub async fn synced(registry: Registry) -> SyncedRegistry {
    let path =
        std::env::temp_dir().join(format!("mes-ipc-outbox-{}.sqlite3", uuid::Uuid::new_v4()));
    let outbox = Outbox::open(&path).await.expect("outbox");
    SyncedRegistry::new(Arc::new(registry), outbox)
}

/// Runs `test` on a blocking thread: `get_ipc_response` blocks until the command's future, which
/// needs the test runtime's connections, completes.
pub async fn with_app(registry: Registry, test: impl FnOnce(MockApp) + Send + 'static) {
    let synced = synced(registry).await;
    tokio::task::spawn_blocking(move || test(MockApp::new(synced)))
        .await
        .expect("test thread");
}

pub fn machine_json(name: &str) -> Value {
    json!({
        "machine_name": name,
        "machine_type": "Milling Machine",
        "operational_status": "Running",
        "efficiency": 85.5,
        "last_maintenance": "2024-01-10T08:00:00Z"
    })
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
