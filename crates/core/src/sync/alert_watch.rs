//! The alert watch: while online, the sync worker reads the change history after the last row
//! it looked at (so it sees changes by every PC and tool, including short Down periods that a
//! look at the current state would miss) and, once a minute, which machines are overdue.
//!
//! History ids are taken when a change is made, not when it commits: a row can appear after
//! rows with higher ids. The watch keeps its position before the first gap and remembers the
//! rows it looked at beyond it. A missing row was made no later than the row after it, so once
//! that row is [`GAP_PATIENCE`] old by the server's clock, the gap is taken as a change rolled
//! back (a transaction held open longer than that is not waited for). A watch catching up on
//! a long absence so steps over old gaps at once.
//!
//! Desktop notifications are gathered: at most one round every [`NOTICE_QUIET`], and more than
//! a few alerts in a round become one summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::alert_store::{WatchPosition, KEPT_ALERTS};
use super::{Connection, SyncedRegistry};
use crate::domain::{
    notices_for, percent, AlertKind, AlertList, AlertSettings, DueState, NewAlert, Notice,
};
use crate::error::RegistryError;
use crate::repo::HistoryEvent;

/// History rows read per query; a watch that is behind reads up to [`BATCHES_PER_LOOK`] of them.
const HISTORY_BATCH: i64 = 1000;
const BATCHES_PER_LOOK: usize = 20;
/// How long a gap in the history's ids is waited for before it is taken as rolled back.
pub const GAP_PATIENCE: Duration = Duration::from_secs(120);
/// How often the overdue machines are looked at.
pub const OVERDUE_EVERY: Duration = Duration::from_secs(60);
/// The shortest time between two rounds of desktop notifications.
pub const NOTICE_QUIET: Duration = Duration::from_secs(10);
/// How often the history is looked at while online and no live updates are heard.
const LOOK_EVERY: Duration = Duration::from_secs(3);
/// After a wake-up by live changes, the watch waits this long for more before it looks (a
/// burst of changes makes a look a second, not one per batch).
const GATHER_WAKES: Duration = Duration::from_secs(1);

/// What a look found: how many alerts are new, and the desktop notifications to show now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertNews {
    pub new_alerts: usize,
    pub notices: Vec<Notice>,
}

/// Called when alerts arrive (the app updates the window and shows the notifications).
pub type AlertListener = Arc<dyn Fn(&AlertNews) + Send + Sync>;

/// The watch's memory between looks (its position itself is kept in the cache file).
#[derive(Default)]
pub struct AlertWatch {
    last_overdue_look: Option<Instant>,
    /// Alerts waiting for the next round of notifications.
    held: Vec<NewAlert>,
    last_round: Option<Instant>,
    last_error: Option<String>,
}

impl AlertWatch {
    /// When notices are held for the quiet moment: how long until they may be shown.
    pub fn next_round_in(&self) -> Option<Duration> {
        if self.held.is_empty() {
            return None;
        }
        Some(self.last_round.map_or(Duration::ZERO, |at| {
            NOTICE_QUIET.saturating_sub(at.elapsed())
        }))
    }

    /// Logs a failed look once per distinct failure (a lasting one would fill the log).
    pub fn failed(&mut self, error: &RegistryError) {
        let text = error.to_string();
        if self.last_error.as_deref() != Some(&text) {
            tracing::warn!(error = %text, "could not look for alerts");
            self.last_error = Some(text);
        }
    }
}

impl SyncedRegistry {
    /// Where new alerts go (the app: to the window and the desktop).
    pub fn set_alert_listener(&self, listener: AlertListener) {
        if let Ok(mut slot) = self.alert_listener.lock() {
            *slot = Some(listener);
        }
    }

    /// The alerts kept for this user, newest first.
    pub async fn alerts(&self) -> Result<AlertList, RegistryError> {
        self.outbox.alerts(KEPT_ALERTS).await
    }

    pub async fn mark_alerts_read(&self, up_to: i64) -> Result<AlertList, RegistryError> {
        self.outbox.mark_alerts_read(up_to).await?;
        self.alerts().await
    }

    pub async fn alert_settings(&self) -> Result<AlertSettings, RegistryError> {
        self.outbox.alert_settings().await
    }

    /// Saves this user's alert settings; they apply from the next look on.
    pub async fn set_alert_settings(
        &self,
        settings: AlertSettings,
    ) -> Result<AlertSettings, RegistryError> {
        let settings = settings.validate().map_err(RegistryError::Validation)?;
        self.outbox.set_alert_settings(&settings).await?;
        Ok(settings)
    }

    /// The watch's own task (beside the sync worker). While live updates are heard it looks
    /// when machines changed (and once a minute, for the overdue ones); otherwise every few
    /// seconds while online.
    pub(super) async fn alert_loop(self: Arc<Self>) {
        let mut watch = AlertWatch::default();
        while !self.is_stopping() {
            if self.status().connection == Connection::Online {
                self.watch_alerts(&mut watch).await;
            }
            let mut pause = if self.live() {
                OVERDUE_EVERY
            } else {
                LOOK_EVERY
            };
            // Notices held for a quiet moment are shown when it ends, changes or not.
            if let Some(round) = watch.next_round_in() {
                pause = pause.min(round);
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.alert_wake.notified() => {
                    // A burst of changes wakes it many times: one look after it.
                    // Of its own length per PC: all PCs are woken by the same change.
                    tokio::time::sleep(super::jitter::spread(GATHER_WAKES)).await;
                }
            }
        }
    }

    /// Looks for alerts, and tells the listener of any.
    pub(super) async fn watch_alerts(&self, watch: &mut AlertWatch) {
        match self.look_for_alerts(watch).await {
            Ok(news) if news.new_alerts > 0 || !news.notices.is_empty() => {
                let listener = self.alert_listener.lock().ok().and_then(|l| l.clone());
                if let Some(listener) = listener {
                    listener(&news);
                }
            }
            Ok(_) => {}
            Err(e) => watch.failed(&e),
        }
    }

    /// One look for new alerts; keeps them and answers what to tell.
    pub async fn look_for_alerts(
        &self,
        watch: &mut AlertWatch,
    ) -> Result<AlertNews, RegistryError> {
        let settings = self.outbox.alert_settings().await?;
        let Some(mut position) = self.outbox.watch_position().await? else {
            return self.start_watch(watch).await;
        };
        let mut found = self.history_alerts(&mut position, &settings).await?;
        if watch
            .last_overdue_look
            .is_none_or(|at| at.elapsed() >= OVERDUE_EVERY)
        {
            watch.last_overdue_look = Some(Instant::now());
            found.extend(self.overdue_alerts(&mut position, &settings).await?);
        }
        let kept = self.outbox.keep_alerts(found, &position).await?;
        watch.last_error = None;
        let mut news = AlertNews {
            new_alerts: kept.len(),
            notices: Vec::new(),
        };
        if settings.desktop {
            watch.held.extend(kept.into_iter().filter(|a| !a.own));
        }
        if !watch.held.is_empty()
            && watch
                .last_round
                .is_none_or(|at| at.elapsed() >= NOTICE_QUIET)
        {
            news.notices = notices_for(&watch.held);
            watch.held.clear();
            watch.last_round = Some(Instant::now());
        }
        Ok(news)
    }

    /// A user's first watch on this PC begins now: what happened before is in the history and
    /// the plan, not raised as alerts.
    async fn start_watch(&self, watch: &mut AlertWatch) -> Result<AlertNews, RegistryError> {
        let mut position = WatchPosition {
            history_id: self.registry.last_history_id().await?,
            ..WatchPosition::default()
        };
        let everything = AlertSettings::default();
        self.overdue_alerts(&mut position, &everything).await?;
        watch.last_overdue_look = Some(Instant::now());
        self.outbox.keep_alerts(Vec::new(), &position).await?;
        Ok(AlertNews::default())
    }

    async fn history_alerts(
        &self,
        position: &mut WatchPosition,
        settings: &AlertSettings,
    ) -> Result<Vec<NewAlert>, RegistryError> {
        let mut found = Vec::new();
        let mut after = position.history_id;
        let mut server_now = None;
        for _ in 0..BATCHES_PER_LOOK {
            let events = self
                .registry
                .history_events_after(after, HISTORY_BATCH)
                .await?;
            let full = events.len() as i64 == HISTORY_BATCH;
            for event in &events {
                after = event.id;
                server_now = Some(event.read_at);
                if position
                    .seen_beyond
                    .insert(event.id, event.changed_at)
                    .is_none()
                {
                    found.extend(alerts_for(event, settings));
                }
            }
            if !full {
                break;
            }
        }
        if let Some(now) = server_now {
            advance(position, now);
        }
        Ok(found)
    }

    async fn overdue_alerts(
        &self,
        position: &mut WatchPosition,
        settings: &AlertSettings,
    ) -> Result<Vec<NewAlert>, RegistryError> {
        let plan = self.registry.maintenance_plan().await?;
        let overdue: Vec<_> = plan
            .machines
            .iter()
            .filter(|m| m.state == DueState::Overdue)
            .filter_map(|m| m.next_due.map(|due| (m, due)))
            .collect();
        let found = overdue
            .iter()
            .filter(|(m, _)| !position.overdue.iter().any(|(uid, _)| *uid == m.uid))
            .filter(|_| settings.wants(AlertKind::Overdue))
            .map(|(m, due)| NewAlert {
                key: format!("overdue:{}:{}", m.uid, due.timestamp()),
                kind: AlertKind::Overdue,
                machine_uid: m.uid,
                machine_name: m.machine_name.clone(),
                message: format!(
                    "{}: maintenance overdue since {}",
                    m.machine_name,
                    due.format("%Y-%m-%d %H:%M UTC")
                ),
                at: *due,
                by: None,
                own: false,
            })
            .collect();
        position.overdue = overdue.iter().map(|(m, due)| (m.uid, *due)).collect();
        position.overdue_checked_at = Some(Utc::now());
        Ok(found)
    }
}

/// Moves the position over the rows looked at, up to the first gap; a gap whose next row is
/// [`GAP_PATIENCE`] old at the server's `now` is stepped over.
fn advance(position: &mut WatchPosition, now: DateTime<Utc>) {
    loop {
        let next = position.history_id + 1;
        if position.seen_beyond.remove(&next).is_some() {
            position.history_id = next;
            continue;
        }
        let Some((&beyond, &made_at)) = position.seen_beyond.first_key_value() else {
            return;
        };
        let waited = now.signed_duration_since(made_at);
        if waited.to_std().is_ok_and(|waited| waited >= GAP_PATIENCE) {
            tracing::info!(
                from = next,
                to = beyond - 1,
                "history ids never committed; taken as rolled back"
            );
            position.history_id = beyond - 1;
        } else {
            return;
        }
    }
}

/// The alerts one history row raises under `settings`.
pub fn alerts_for(event: &HistoryEvent, settings: &AlertSettings) -> Vec<NewAlert> {
    let by = if event.application.is_empty() {
        event.db_user.clone()
    } else {
        format!("{} ({})", event.db_user, event.application)
    };
    let alert = |kind: AlertKind, message: String| NewAlert {
        key: format!("history:{}:{}", event.id, kind.as_str()),
        kind,
        machine_uid: event.machine_uid,
        machine_name: event.machine_name.clone(),
        message,
        at: event.changed_at,
        by: Some(by.clone()),
        own: event.own,
    };
    let mut alerts = Vec::new();
    if settings.on_down && event.new_status.as_deref() == Some("Down") {
        alerts.push(alert(
            AlertKind::Down,
            format!("{} went Down", event.machine_name),
        ));
    }
    let target = settings.efficiency_target;
    if settings.on_below_target && event.operation == "update" && event.efficiency_changed {
        if let Some(now) = event.new_efficiency {
            if now < target && event.old_efficiency.is_none_or(|before| before >= target) {
                alerts.push(alert(
                    AlertKind::BelowTarget,
                    format!(
                        "{}: efficiency fell to {} (target {})",
                        event.machine_name,
                        percent(now),
                        percent(target)
                    ),
                ));
            }
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(
        id: i64,
        status: Option<&str>,
        efficiency: Option<(Option<f64>, Option<f64>)>,
    ) -> HistoryEvent {
        HistoryEvent {
            id,
            machine_uid: Uuid::nil(),
            machine_name: "CNC-001".into(),
            operation: "update".into(),
            changed_at: Utc::now(),
            db_user: "alice".into(),
            application: "psql".into(),
            new_status: status.map(Into::into),
            efficiency_changed: efficiency.is_some(),
            old_efficiency: efficiency.and_then(|e| e.0),
            new_efficiency: efficiency.and_then(|e| e.1),
            own: false,
            read_at: Utc::now(),
        }
    }

    #[test]
    fn a_status_set_to_down_is_an_alert() {
        let alerts = alerts_for(&event(7, Some("Down"), None), &AlertSettings::default());
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].message, "CNC-001 went Down");
        assert_eq!(alerts[0].by.as_deref(), Some("alice (psql)"));
        assert_eq!(alerts[0].key, "history:7:down");
        assert!(alerts_for(&event(8, Some("Idle"), None), &AlertSettings::default()).is_empty());
    }

    #[test]
    fn efficiency_alerts_only_when_it_crosses_the_target() {
        let settings = AlertSettings::default();
        let crossing = alerts_for(&event(1, None, Some((Some(90.0), Some(62.5)))), &settings);
        assert_eq!(
            crossing[0].message,
            "CNC-001: efficiency fell to 62.5 % (target 85 %)"
        );
        // Already below: no new alert for each further change.
        assert!(alerts_for(&event(2, None, Some((Some(70.0), Some(60.0)))), &settings).is_empty());
        // Exactly at target is not below.
        assert!(alerts_for(&event(3, None, Some((Some(90.0), Some(85.0)))), &settings).is_empty());
        // From unknown to below is a fall.
        assert_eq!(
            alerts_for(&event(4, None, Some((None, Some(10.0)))), &settings).len(),
            1
        );
        // Cleared (no figure) is not.
        assert!(alerts_for(&event(5, None, Some((Some(90.0), None))), &settings).is_empty());
    }

    #[test]
    fn settings_silence_kinds() {
        let settings = AlertSettings {
            on_down: false,
            ..AlertSettings::default()
        };
        assert!(alerts_for(&event(1, Some("Down"), None), &settings).is_empty());
    }

    #[test]
    fn held_notices_set_when_the_watch_looks_next() {
        let mut watch = AlertWatch::default();
        assert_eq!(watch.next_round_in(), None);
        watch
            .held
            .push(alerts_for(&event(1, Some("Down"), None), &AlertSettings::default()).remove(0));
        assert_eq!(watch.next_round_in(), Some(Duration::ZERO));
        watch.last_round = Some(Instant::now());
        let wait = watch.next_round_in().unwrap();
        assert!(wait > NOTICE_QUIET - Duration::from_secs(1) && wait <= NOTICE_QUIET);
    }

    #[test]
    fn the_position_waits_at_a_gap_then_steps_over_it() {
        let t0 = Utc::now();
        let at = |seconds: i64| t0 + chrono::TimeDelta::seconds(seconds);
        let mut position = WatchPosition {
            history_id: 10,
            seen_beyond: [(11, at(0)), (12, at(0)), (14, at(1)), (15, at(2))].into(),
            ..WatchPosition::default()
        };
        advance(&mut position, at(5));
        assert_eq!(position.history_id, 12, "waits at 13");
        // 13 commits meanwhile: it is looked at and the position moves on to the end.
        position.seen_beyond.insert(13, at(0));
        advance(&mut position, at(6));
        assert_eq!(position.history_id, 15);
        assert!(position.seen_beyond.is_empty());
        // A gap that never fills is stepped over once the row after it is old enough.
        position.seen_beyond = [(17, at(100))].into();
        advance(&mut position, at(100) + chrono::TimeDelta::seconds(119));
        assert_eq!(position.history_id, 15);
        advance(&mut position, at(100) + chrono::TimeDelta::seconds(120));
        assert_eq!(position.history_id, 17);
        // Catching up on an old backlog: its gaps are stepped over at once.
        position.seen_beyond = [(19, at(0)), (21, at(0)), (22, at(1))].into();
        advance(&mut position, at(3600));
        assert_eq!(position.history_id, 22);
    }
}
