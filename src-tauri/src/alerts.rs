//! Where new alerts go: the window (an event; it then reads the list) and the desktop (each
//! notice the watch gathered, through the notification plugin).

use std::sync::Arc;

use mes_core::sync::{AlertListener, AlertNews};
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::commands::alerts::AlertsArrived;

pub fn listener<R: Runtime>(app: AppHandle<R>) -> AlertListener {
    Arc::new(move |news: &AlertNews| {
        let arrived = AlertsArrived {
            new_alerts: u32::try_from(news.new_alerts).unwrap_or(u32::MAX),
        };
        if let Err(e) = arrived.emit(&app) {
            tracing::warn!(error = %e, "could not tell the window of new alerts");
        }
        for notice in &news.notices {
            let shown = app
                .notification()
                .builder()
                .title(&notice.title)
                .body(desktop_body(&notice.body))
                .show();
            match shown {
                Ok(()) => tracing::info!(title = %notice.title, "desktop notification"),
                Err(e) => tracing::warn!(error = %e, "could not show a desktop notification"),
            }
        }
    })
}

/// Linux's notification servers read a subset of HTML in the body: machine names are escaped.
#[cfg(all(unix, not(target_os = "macos")))]
fn desktop_body(body: &str) -> String {
    mes_core::domain::escape_markup(body)
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn desktop_body(body: &str) -> String {
    body.to_owned()
}
