//! Alerts: a machine went Down, its maintenance became overdue, or its efficiency fell below the
//! target. Raised from what happened on the server (the change history, so for changes by any
//! PC or tool) and kept per user, with that user's choice of what to be told and how.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{validate_target, DEFAULT_EFFICIENCY_TARGET};
use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Down,
    Overdue,
    BelowTarget,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Overdue => "overdue",
            Self::BelowTarget => "below_target",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Down, Self::Overdue, Self::BelowTarget]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One alert as the window lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Alert {
    /// Local sequence number, newest highest.
    pub id: i64,
    pub kind: AlertKind,
    pub machine_uid: Uuid,
    pub machine_name: String,
    /// What happened, in a sentence.
    pub message: String,
    /// When it happened (the server's time of the change, or when maintenance fell due).
    pub at: DateTime<Utc>,
    /// Who made the change and through what, when a change raised it.
    pub by: Option<String>,
    pub read: bool,
}

/// The alerts kept for this user, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AlertList {
    pub alerts: Vec<Alert>,
    pub unread: i64,
}

/// What this user wants to be told, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AlertSettings {
    /// Also as desktop notifications (the in-app list always has them).
    pub desktop: bool,
    pub on_down: bool,
    pub on_overdue: bool,
    pub on_below_target: bool,
    /// Efficiency target in percent: an alert when a machine's efficiency falls below it.
    pub efficiency_target: f64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            desktop: true,
            on_down: true,
            on_overdue: true,
            on_below_target: true,
            efficiency_target: DEFAULT_EFFICIENCY_TARGET,
        }
    }
}

impl AlertSettings {
    pub fn validate(self) -> Result<Self, Vec<FieldError>> {
        validate_target(self.efficiency_target)
            .map(|_| self)
            .map_err(|m| vec![FieldError::new("efficiency_target", m)])
    }

    pub fn wants(&self, kind: AlertKind) -> bool {
        match kind {
            AlertKind::Down => self.on_down,
            AlertKind::Overdue => self.on_overdue,
            AlertKind::BelowTarget => self.on_below_target,
        }
    }
}

/// An alert about to be kept: `key` names the event, so the same event is never kept twice
/// (a history row, or a machine falling due on a given day).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub key: String,
    pub kind: AlertKind,
    pub machine_uid: Uuid,
    pub machine_name: String,
    pub message: String,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    /// Made by this user on this PC: listed, but no desktop notification (they know).
    pub own: bool,
}

/// A desktop notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// At most this many alerts are notified one by one; more at once become one summary.
pub const SINGLE_NOTICES: usize = 3;

/// The desktop notifications for alerts that arrived together: each on its own when there are
/// few, else one summary that counts them by kind (50 machines going Down at once make one
/// notification, not 50).
pub fn notices_for(alerts: &[NewAlert]) -> Vec<Notice> {
    if alerts.is_empty() {
        return Vec::new();
    }
    if alerts.len() <= SINGLE_NOTICES {
        return alerts
            .iter()
            .map(|a| Notice {
                title: title(a.kind).into(),
                body: without_bidi_controls(&a.message),
            })
            .collect();
    }
    let count = |kind: AlertKind| alerts.iter().filter(|a| a.kind == kind).count();
    let parts: Vec<String> = [
        (AlertKind::Down, "went Down"),
        (AlertKind::Overdue, "became overdue for maintenance"),
        (AlertKind::BelowTarget, "fell below the efficiency target"),
    ]
    .into_iter()
    .filter_map(|(kind, what)| match count(kind) {
        0 => None,
        1 => Some(format!("1 machine {what}")),
        n => Some(format!("{n} machines {what}")),
    })
    .collect();
    vec![Notice {
        title: format!("{} new alerts", alerts.len()),
        body: format!(
            "{}. Open Alerts in MES Machine Manager for the list.",
            parts.join("; ")
        ),
    }]
}

/// Text for a desktop notification's body where the notification server reads markup (the
/// freedesktop specification's body markup on Linux): `&`, `<` and `>` as entities, so a machine
/// named `<a href=…>` is shown as written, never as a link.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Bidirectional embedding, override and isolate characters, which could make a name in a
/// notification read as something else: dropped (the database allows them in names).
fn without_bidi_controls(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

fn title(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Down => "Machine down",
        AlertKind::Overdue => "Maintenance overdue",
        AlertKind::BelowTarget => "Efficiency below target",
    }
}

/// "12.5 %" as the window writes percentages (no needless decimals).
pub fn percent(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0} %")
    } else {
        format!("{rounded:.1} %")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, name: &str) -> NewAlert {
        NewAlert {
            key: name.into(),
            kind,
            machine_uid: Uuid::nil(),
            machine_name: name.into(),
            message: format!("{name} went Down"),
            at: Utc::now(),
            by: None,
            own: false,
        }
    }

    #[test]
    fn a_few_alerts_are_notified_one_by_one() {
        let notices = notices_for(&[alert(AlertKind::Down, "A"), alert(AlertKind::Down, "B")]);
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[0].title, "Machine down");
        assert_eq!(notices[1].body, "B went Down");
        assert!(notices_for(&[]).is_empty());
    }

    #[test]
    fn fifty_alerts_at_once_make_one_summary() {
        let mut alerts: Vec<NewAlert> = (0..48)
            .map(|i| alert(AlertKind::Down, &format!("M{i}")))
            .collect();
        alerts.push(alert(AlertKind::BelowTarget, "E"));
        alerts.push(alert(AlertKind::Overdue, "O"));
        let notices = notices_for(&alerts);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].title, "50 new alerts");
        assert!(notices[0].body.starts_with(
            "48 machines went Down; 1 machine became overdue for maintenance; 1 machine fell below the efficiency target."
        ), "{}", notices[0].body);
    }

    #[test]
    fn notification_text_cannot_become_markup_or_reorder() {
        assert_eq!(
            escape_markup("<a href=\"x\">Fix</a> & go"),
            "&lt;a href=\"x\"&gt;Fix&lt;/a&gt; &amp; go"
        );
        let mut tricky = alert(AlertKind::Down, "CNC");
        tricky.message = "CNC\u{202E}-001 went Down".into();
        assert_eq!(notices_for(&[tricky])[0].body, "CNC-001 went Down");
    }

    #[test]
    fn settings_need_a_percentage_target() {
        let mut settings = AlertSettings::default();
        assert_eq!(settings.efficiency_target, 85.0);
        settings.efficiency_target = 101.0;
        assert_eq!(
            settings.clone().validate().unwrap_err()[0].field,
            "efficiency_target"
        );
        settings.efficiency_target = f64::NAN;
        assert!(settings.validate().is_err());
    }

    #[test]
    fn percentages_drop_needless_decimals() {
        assert_eq!(percent(85.0), "85 %");
        assert_eq!(percent(62.449), "62.4 %");
    }
}
