//! The maintenance plan: when each machine is next due (its last maintenance plus its interval,
//! its own or its type's), what is overdue or due soon, what is planned, and the log of
//! maintenance done.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::input::collect;
use super::{parse_utc_instant, MachineType, OperationalStatus};
use crate::error::FieldError;

/// "Due soon" means due within this many days.
pub const DUE_SOON_DAYS: i64 = 7;
/// The longest interval: ten years.
pub const MAX_INTERVAL_DAYS: i32 = 3650;
/// The longest note on a maintenance record.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Where a machine stands against its plan, most urgent first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// The next due time has passed.
    Overdue,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    /// Due later.
    Scheduled,
    /// No interval (neither the machine's nor its type's), or no last maintenance to count from.
    Unscheduled,
}

/// One machine in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PlannedMaintenance {
    pub uid: Uuid,
    pub id: i32,
    pub machine_name: String,
    pub machine_type: String,
    pub operational_status: OperationalStatus,
    pub last_maintenance: Option<DateTime<Utc>>,
    /// The machine's own interval in days; `null`: its type's applies.
    pub machine_interval_days: Option<i32>,
    /// Its type's default interval in days, if the type has one.
    pub type_interval_days: Option<i32>,
    /// Last maintenance + the interval in force.
    pub next_due: Option<DateTime<Utc>>,
    /// The day maintenance is planned for (plant-local calendar day).
    pub planned_for: Option<NaiveDate>,
    pub state: DueState,
}

impl PlannedMaintenance {
    /// The machine's own interval, else its type's.
    pub fn interval_days(&self) -> Option<i32> {
        self.machine_interval_days.or(self.type_interval_days)
    }

    /// Sets `next_due` and `state` as of `now`.
    pub fn assess(&mut self, now: DateTime<Utc>) {
        self.next_due = match (self.last_maintenance, self.interval_days()) {
            (Some(last), Some(days)) => last.checked_add_signed(TimeDelta::days(days.into())),
            _ => None,
        };
        self.state = due_state(self.next_due, now);
    }
}

/// The state of a machine next due at `next_due`, as of `now`.
pub fn due_state(next_due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DueState {
    match next_due {
        None => DueState::Unscheduled,
        Some(due) if due <= now => DueState::Overdue,
        Some(due) if due <= now + TimeDelta::days(DUE_SOON_DAYS) => DueState::DueSoon,
        Some(_) => DueState::Scheduled,
    }
}

/// A machine type's default interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TypeInterval {
    pub machine_type: String,
    pub interval_days: i32,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// The whole plan: every machine, most urgent first, and the types' default intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MaintenancePlan {
    /// The time the states were assessed at.
    pub as_of: DateTime<Utc>,
    pub due_soon_days: i32,
    pub machines: Vec<PlannedMaintenance>,
    pub type_intervals: Vec<TypeInterval>,
    /// Set when the plan comes from the copy kept for offline use: when it was current.
    pub cached_at: Option<DateTime<Utc>>,
}

impl MaintenancePlan {
    /// Assesses every machine as of `now` and sorts them: overdue first (longest overdue
    /// first), then due soon, scheduled, unscheduled; by name within a state.
    pub fn assess(&mut self, now: DateTime<Utc>) {
        self.as_of = now;
        for machine in &mut self.machines {
            machine.assess(now);
        }
        self.machines.sort_by(|a, b| {
            (a.state, a.next_due, a.machine_name.to_lowercase(), a.id).cmp(&(
                b.state,
                b.next_due,
                b.machine_name.to_lowercase(),
                b.id,
            ))
        });
    }
}

/// A maintenance done, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MaintenanceRecord {
    pub id: i64,
    pub machine_uid: Uuid,
    pub machine_name: String,
    pub done_at: DateTime<Utc>,
    pub note: String,
    /// The database user who recorded it (stamped by the server).
    pub done_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// Set a machine's own interval, its planned day, or both: only what the planner changed is
/// sent (`sets_…`), so a plan made from an older view never undoes another planner's change of
/// the other field. Carries no version: a plan does not conflict with an operator's edit of the
/// machine (they change different things); for each field the last plan wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PlanMaintenance {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub sets_interval: bool,
    /// Days; `null`: the type's interval applies.
    pub interval_days: Option<i32>,
    pub sets_planned_for: bool,
    /// `YYYY-MM-DD`; `null` or empty: nothing planned.
    pub planned_for: Option<String>,
}

/// A plan after validation: `None` leaves that field as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPlan {
    pub interval_days: Option<Option<i32>>,
    pub planned_for: Option<Option<NaiveDate>>,
}

impl PlanMaintenance {
    /// Checks the fields this plan sets (the others are left as they are, whatever they hold).
    pub fn validate(&self) -> Result<ValidPlan, Vec<FieldError>> {
        let mut errors = Vec::new();
        let interval = if self.sets_interval {
            collect(
                &mut errors,
                "interval_days",
                self.interval_days.map(parse_interval).transpose(),
            )
            .map(Some)
        } else {
            Some(None)
        };
        let planned = if self.sets_planned_for {
            collect(
                &mut errors,
                "planned_for",
                parse_planned_day(self.planned_for.as_deref()),
            )
            .map(Some)
        } else {
            Some(None)
        };
        if !self.sets_interval && !self.sets_planned_for {
            errors.push(FieldError::new(
                "interval_days",
                "Nothing to change: give an interval or a planned day",
            ));
        }
        match (interval, planned) {
            (Some(interval_days), Some(planned_for)) if errors.is_empty() => Ok(ValidPlan {
                interval_days,
                planned_for,
            }),
            _ => Err(errors),
        }
    }
}

/// Record maintenance done on a machine: logged, and the machine's last maintenance moves on to
/// `done_at` unless a later one is already recorded. Carries no version: two records never
/// conflict (each is logged; the latest time wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RecordMaintenance {
    pub write_id: Uuid,
    pub uid: Uuid,
    /// UTC, RFC 3339, ending in `Z`; not in the future.
    pub done_at: String,
    pub note: String,
}

/// A record after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRecord {
    pub done_at: DateTime<Utc>,
    pub note: String,
}

impl RecordMaintenance {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let done_at = collect(
            &mut errors,
            "done_at",
            parse_utc_instant(&self.done_at, now)
                .map_err(|m| m.replace("Last maintenance", "The time maintenance was done")),
        );
        let note = collect(&mut errors, "note", parse_note(&self.note));
        match (done_at, note) {
            (Some(done_at), Some(note)) => Ok(ValidRecord { done_at, note }),
            _ => Err(errors),
        }
    }
}

/// Set (or with `null`, remove) a machine type's default interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SetTypeInterval {
    pub machine_type: String,
    pub interval_days: Option<i32>,
}

impl SetTypeInterval {
    pub fn validate(&self) -> Result<(MachineType, Option<i32>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let machine_type = collect(
            &mut errors,
            "machine_type",
            MachineType::parse(&self.machine_type),
        );
        let interval = collect(
            &mut errors,
            "interval_days",
            self.interval_days.map(parse_interval).transpose(),
        );
        match (machine_type, interval) {
            (Some(machine_type), Some(interval)) => Ok((machine_type, interval)),
            _ => Err(errors),
        }
    }
}

fn parse_interval(days: i32) -> Result<i32, String> {
    if (1..=MAX_INTERVAL_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(format!(
            "The interval must be a whole number of days from 1 to {MAX_INTERVAL_DAYS}"
        ))
    }
}

fn parse_planned_day(raw: Option<&str>) -> Result<Option<NaiveDate>, String> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "The planned day must be a date like 2026-12-01".to_owned())?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let latest = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap_or_default();
    if day < earliest || day > latest {
        return Err("The planned day must lie between 1900 and 2199".into());
    }
    Ok(Some(day))
}

fn parse_note(raw: &str) -> Result<String, String> {
    let note = raw.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "The note is too long (at most {MAX_NOTE_CHARS} characters)"
        ));
    }
    if note.contains('\0') {
        return Err("The note contains a NUL character".into());
    }
    Ok(note.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a test instant")
    }

    fn machine(last: Option<&str>, own: Option<i32>, of_type: Option<i32>) -> PlannedMaintenance {
        PlannedMaintenance {
            uid: Uuid::nil(),
            id: 1,
            machine_name: "CNC-001".into(),
            machine_type: "CNC".into(),
            operational_status: OperationalStatus::Running,
            last_maintenance: last.map(at),
            machine_interval_days: own,
            type_interval_days: of_type,
            next_due: None,
            planned_for: None,
            state: DueState::Unscheduled,
        }
    }

    #[test]
    fn next_due_counts_from_last_maintenance_with_the_machines_interval_before_its_types() {
        let now = at("2026-03-01T00:00:00Z");
        let mut m = machine(Some("2026-02-01T08:00:00Z"), Some(10), Some(90));
        m.assess(now);
        assert_eq!(m.next_due, Some(at("2026-02-11T08:00:00Z")));
        assert_eq!(m.state, DueState::Overdue);

        let mut m = machine(Some("2026-02-01T08:00:00Z"), None, Some(30));
        m.assess(now);
        assert_eq!(m.next_due, Some(at("2026-03-03T08:00:00Z")));
        assert_eq!(m.state, DueState::DueSoon);

        let mut m = machine(Some("2026-02-01T08:00:00Z"), None, Some(90));
        m.assess(now);
        assert_eq!(m.state, DueState::Scheduled);
    }

    #[test]
    fn due_exactly_now_is_overdue_and_exactly_seven_days_ahead_is_due_soon() {
        let now = at("2026-03-01T00:00:00Z");
        assert_eq!(due_state(Some(now), now), DueState::Overdue);
        assert_eq!(
            due_state(Some(now + TimeDelta::days(7)), now),
            DueState::DueSoon
        );
        assert_eq!(
            due_state(Some(now + TimeDelta::days(7) + TimeDelta::seconds(1)), now),
            DueState::Scheduled
        );
    }

    #[test]
    fn without_an_interval_or_a_last_maintenance_nothing_is_due() {
        let now = at("2026-03-01T00:00:00Z");
        let mut m = machine(Some("2026-02-01T08:00:00Z"), None, None);
        m.assess(now);
        assert_eq!((m.next_due, m.state), (None, DueState::Unscheduled));
        let mut m = machine(None, Some(5), None);
        m.assess(now);
        assert_eq!((m.next_due, m.state), (None, DueState::Unscheduled));
    }

    #[test]
    fn the_plan_lists_the_longest_overdue_first() {
        let now = at("2026-03-01T00:00:00Z");
        let mut plan = MaintenancePlan {
            as_of: now,
            due_soon_days: 7,
            machines: vec![
                machine(Some("2026-02-20T00:00:00Z"), Some(100), None),
                machine(Some("2026-02-20T00:00:00Z"), Some(1), None),
                machine(None, None, None),
                machine(Some("2026-01-01T00:00:00Z"), Some(1), None),
                machine(Some("2026-02-25T00:00:00Z"), Some(7), None),
            ],
            type_intervals: vec![],
            cached_at: None,
        };
        plan.assess(now);
        let order: Vec<(DueState, Option<DateTime<Utc>>)> = plan
            .machines
            .iter()
            .map(|m| (m.state, m.next_due))
            .collect();
        assert_eq!(
            order,
            [
                (DueState::Overdue, Some(at("2026-01-02T00:00:00Z"))),
                (DueState::Overdue, Some(at("2026-02-21T00:00:00Z"))),
                (DueState::DueSoon, Some(at("2026-03-04T00:00:00Z"))),
                (DueState::Scheduled, Some(at("2026-05-31T00:00:00Z"))),
                (DueState::Unscheduled, None),
            ]
        );
    }

    #[test]
    fn bad_plans_and_records_name_every_field() {
        let plan = PlanMaintenance {
            write_id: Uuid::nil(),
            uid: Uuid::nil(),
            sets_interval: true,
            interval_days: Some(0),
            sets_planned_for: true,
            planned_for: Some("12/01/2026".into()),
        };
        let fields: Vec<String> = plan
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["interval_days", "planned_for"]);

        let ok = PlanMaintenance {
            interval_days: None,
            planned_for: Some(" ".into()),
            ..plan.clone()
        };
        assert_eq!(
            ok.validate(),
            Ok(ValidPlan {
                interval_days: Some(None),
                planned_for: Some(None)
            })
        );
        let only_day = PlanMaintenance {
            sets_interval: false,
            planned_for: Some("2026-12-01".into()),
            ..plan.clone()
        };
        assert_eq!(
            only_day.validate(),
            Ok(ValidPlan {
                interval_days: None,
                planned_for: Some(NaiveDate::from_ymd_opt(2026, 12, 1))
            })
        );
        let nothing = PlanMaintenance {
            sets_interval: false,
            sets_planned_for: false,
            ..plan
        };
        assert!(nothing.validate().is_err());

        let record = RecordMaintenance {
            write_id: Uuid::nil(),
            uid: Uuid::nil(),
            done_at: "2099-01-01T00:00:00Z".into(),
            note: "x".repeat(MAX_NOTE_CHARS + 1),
        };
        let errors = record.validate(at("2026-03-01T00:00:00Z")).unwrap_err();
        assert_eq!(errors[0].field, "done_at");
        assert!(errors[0]
            .message
            .starts_with("The time maintenance was done"));
        assert_eq!(errors[1].field, "note");
    }
}
