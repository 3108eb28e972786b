//! A shift's production record as an operator enters it: when the shift ran, its planned stops,
//! its downtime (each with a loss category), the ideal cycle time and the counts. Validated at
//! the edge: a record that breaks a rule gets one error per field and changes nothing.
//!
//! Times are instants (RFC 3339, any offset): the window turns the local times the operator
//! types into instants, so a shift crossing midnight or a daylight-saving change lasts what
//! the clock on the wall says it lasted, not what the hours' digits suggest.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::oee::{LossCategory, OeeFigures, OeeTotals, Waterfall};
use crate::error::FieldError;

/// The longest shift accepted.
pub const MAX_SHIFT_HOURS: i64 = 24;
/// The longest ideal cycle time accepted: one part a day.
const MAX_IDEAL_CYCLE_S: f64 = 86_400.0;
const MAX_REASON_CHARS: usize = 500;
/// Counts beyond this are a typing mistake, not a shift.
const MAX_COUNT: i64 = 100_000_000;

/// A stop: from `start` to `end`, or only its length in `minutes` when the times are unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StopInput {
    pub start: Option<String>,
    pub end: Option<String>,
    pub minutes: Option<f64>,
    /// Downtime only: the reason picked from the reason list…
    pub reason_id: Option<Uuid>,
    /// …and its loss category, for the form's live figures (the server checks it is the
    /// reason's).
    pub category: Option<LossCategory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ShiftInput {
    pub machine_uid: Uuid,
    pub start: String,
    pub end: String,
    /// Breaks and planned maintenance: not part of the planned busy time.
    pub planned_stops: Vec<StopInput>,
    /// Stops that were not planned, each with its loss category.
    pub downtime: Vec<StopInput>,
    /// Seconds per part at the ideal rate.
    pub ideal_cycle_s: f64,
    pub total_count: i64,
    pub startup_rejects: i64,
    pub production_rejects: i64,
    /// Why a performance above 100 % is right (else it is refused: the ideal cycle time is
    /// probably wrong).
    pub performance_reason: Option<String>,
}

/// Entering a shift: the record's own id (chosen on the PC, so an entry made offline keeps it)
/// and the write's id (a replay is recognised and never recorded twice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RecordShift {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub shift: ShiftInput,
}

/// How far a PC's clock may run ahead of the server's before a shift counts as not over yet.
const CLOCK_SKEW_MINUTES: i64 = 5;

impl RecordShift {
    /// The shift's rules, and one more: it has ended (its figures are final, and the machine's
    /// efficiency follows completed shifts only).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidShift, Vec<FieldError>> {
        let shift = self.shift.validate()?;
        if shift.end > now + TimeDelta::minutes(CLOCK_SKEW_MINUTES) {
            return Err(vec![FieldError::new(
                "end",
                "This shift has not ended yet: enter it once it is over.",
            )]);
        }
        Ok(shift)
    }
}

/// What OEE figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum OeeGrouping {
    Fleet,
    MachineType,
    Machine,
}

/// The sums of the shifts that began in a range, for one group (the fleet, a type, a machine),
/// with the figures and the waterfall made from them (never from the shifts' percentages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OeeGroup {
    /// The type, or the machine's uid; empty for the fleet.
    pub key: String,
    /// The type, or the machine's name when its last shift was entered; empty for the fleet.
    pub label: String,
    pub totals: OeeTotals,
    pub figures: OeeFigures,
    pub waterfall: Waterfall,
}

impl OeeGroup {
    pub fn of(key: String, label: String, totals: OeeTotals) -> OeeGroup {
        OeeGroup {
            key,
            label,
            figures: totals.figures(),
            waterfall: totals.waterfall(),
            totals,
        }
    }
}

/// What the shift form shows while it is being filled: the figures and the waterfall of the
/// shift as entered so far, or the rules it breaks (one per field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ShiftPreview {
    pub figures: Option<OeeFigures>,
    pub waterfall: Option<Waterfall>,
    pub totals: Option<OeeTotals>,
    pub errors: Vec<FieldError>,
}

impl ShiftPreview {
    /// The same validation and formulas as the entry itself, run on the PC (offline too).
    pub fn of(write: &RecordShift, now: DateTime<Utc>) -> ShiftPreview {
        match write.validate(now) {
            Ok(valid) => {
                let totals = valid.totals();
                ShiftPreview {
                    figures: Some(totals.figures()),
                    waterfall: Some(totals.waterfall()),
                    totals: Some(totals),
                    errors: Vec::new(),
                }
            }
            Err(errors) => ShiftPreview {
                figures: None,
                waterfall: None,
                totals: None,
                errors,
            },
        }
    }
}

/// A stop after validation: its length, and its place in time when given.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidStop {
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub seconds: f64,
    pub reason_id: Option<Uuid>,
    pub category: Option<LossCategory>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidShift {
    pub machine_uid: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub planned_stops: Vec<ValidStop>,
    pub downtime: Vec<ValidStop>,
    pub ideal_cycle_s: f64,
    pub total_count: i64,
    pub startup_rejects: i64,
    pub production_rejects: i64,
    pub performance_reason: Option<String>,
}

/// An instant to the second (what the window sends; finer parts would not survive storage,
/// which keeps microseconds), between 1900 and 2200 as the table allows.
fn instant(raw: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.to_utc())
        .map_err(|_| "Not a date and time (RFC 3339, e.g. 2026-11-27T06:00:00Z).".to_owned())?;
    if !(1900..2200).contains(&chrono::Datelike::year(&parsed)) {
        return Err("Not a date between 1900 and 2199.".into());
    }
    Ok(parsed - TimeDelta::nanoseconds(i64::from(parsed.timestamp_subsec_nanos())))
}

fn minutes(seconds: f64) -> String {
    format!("{:.0} min", seconds / 60.0)
}

impl ShiftInput {
    pub fn validate(&self) -> Result<ValidShift, Vec<FieldError>> {
        let mut errors = Vec::new();
        let start = instant(&self.start).map_err(|m| errors.push(FieldError::new("start", m)));
        let end = instant(&self.end).map_err(|m| errors.push(FieldError::new("end", m)));
        let (Ok(start), Ok(end)) = (start, end) else {
            return Err(errors);
        };
        if end - start < TimeDelta::minutes(1) {
            errors.push(FieldError::new(
                "end",
                "The shift must end at least a minute after it begins.",
            ));
            return Err(errors);
        }
        if end - start > TimeDelta::hours(MAX_SHIFT_HOURS) {
            errors.push(FieldError::new(
                "end",
                format!("A shift lasts at most {MAX_SHIFT_HOURS} hours."),
            ));
            return Err(errors);
        }
        let length_s = (end - start).num_milliseconds() as f64 / 1000.0;
        let planned_stops = stops(
            &self.planned_stops,
            "planned_stops",
            start,
            end,
            false,
            &mut errors,
        );
        let downtime = stops(&self.downtime, "downtime", start, end, true, &mut errors);
        overlaps(&planned_stops, &downtime, &mut errors);

        let planned_s: f64 = planned_stops.iter().map(|s| s.seconds).sum();
        let busy_s = length_s - planned_s;
        // A little tolerance: minutes typed as decimals do not add up exactly.
        if busy_s < -1e-6 {
            errors.push(FieldError::new(
                "planned_stops",
                format!(
                    "The planned stops ({}) are longer than the shift ({}).",
                    minutes(planned_s),
                    minutes(length_s)
                ),
            ));
        }
        let down_s: f64 = downtime.iter().map(|s| s.seconds).sum();
        if busy_s >= 0.0 && down_s > busy_s + 1e-6 {
            errors.push(FieldError::new(
                "downtime",
                format!(
                    "The downtime ({}) is longer than the shift's planned busy time ({}).",
                    minutes(down_s),
                    minutes(busy_s)
                ),
            ));
        }

        for (field, count) in [
            ("total_count", self.total_count),
            ("startup_rejects", self.startup_rejects),
            ("production_rejects", self.production_rejects),
        ] {
            if count < 0 {
                errors.push(FieldError::new(field, "Cannot be negative."));
            } else if count > MAX_COUNT {
                errors.push(FieldError::new(field, format!("At most {MAX_COUNT}.")));
            }
        }
        let rejects = self.startup_rejects.max(0) + self.production_rejects.max(0);
        if rejects > self.total_count.max(0) {
            errors.push(FieldError::new(
                "production_rejects",
                format!(
                    "Start-up and production rejects ({rejects}) are more than the total count ({}).",
                    self.total_count.max(0)
                ),
            ));
        }
        let cycle = self.ideal_cycle_s;
        if !(cycle.is_finite() && cycle > 0.0 && cycle <= MAX_IDEAL_CYCLE_S) {
            errors.push(FieldError::new(
                "ideal_cycle_s",
                "The ideal cycle time is a number of seconds per part, above 0 and at most a day.",
            ));
        }
        let reason = self
            .performance_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
        {
            errors.push(FieldError::new(
                "performance_reason",
                format!("At most {MAX_REASON_CHARS} characters."),
            ));
        } else if reason
            .as_ref()
            .is_some_and(|r| r.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
        {
            errors.push(FieldError::new(
                "performance_reason",
                "No control characters.",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let shift = ValidShift {
            machine_uid: self.machine_uid,
            start,
            end,
            planned_stops,
            downtime,
            ideal_cycle_s: cycle,
            total_count: self.total_count,
            startup_rejects: self.startup_rejects,
            production_rejects: self.production_rejects,
            performance_reason: reason,
        };
        let totals = shift.totals();
        if totals.produced > 0.0 && totals.actual_production_s() <= 0.0 {
            return Err(vec![FieldError::new(
                "total_count",
                "Parts were counted, but the shift had no production time (all of it planned stops or downtime).",
            )]);
        }
        if let Some(performance) = totals.figures().performance {
            if performance > 1.0 + 1e-9 && shift.performance_reason.is_none() {
                return Err(vec![FieldError::new(
                    "ideal_cycle_s",
                    format!(
                        "Performance would be {:.0} %: more parts than the ideal cycle time allows, so it is probably too long. Correct it, or give a reason to keep it.",
                        performance * 100.0
                    ),
                )]);
            }
        }
        Ok(shift)
    }
}

/// Each stop checked against the shift; `field` names the list (`downtime[2].end`).
fn stops(
    inputs: &[StopInput],
    field: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    downtime: bool,
    errors: &mut Vec<FieldError>,
) -> Vec<ValidStop> {
    let length_s = (end - start).num_milliseconds() as f64 / 1000.0;
    let mut valid = Vec::new();
    for (i, stop) in inputs.iter().enumerate() {
        let name = |part: &str| format!("{field}[{i}].{part}");
        let before = errors.len();
        let category = if downtime {
            match stop.category {
                Some(_) if stop.reason_id.is_none() => {
                    errors.push(FieldError::new(&name("category"), "Choose a reason."));
                    None
                }
                Some(c) if c.is_downtime() => Some(c),
                Some(_) => {
                    errors.push(FieldError::new(
                        &name("category"),
                        "Downtime is a breakdown, a set-up or adjustment, or a small stop.",
                    ));
                    None
                }
                None => {
                    errors.push(FieldError::new(&name("category"), "Choose a reason."));
                    None
                }
            }
        } else {
            None
        };
        let (span, seconds) = match (given(&stop.start), given(&stop.end), stop.minutes) {
            (Some(from), Some(to), _) => match (instant(from), instant(to)) {
                (Ok(from), Ok(to)) if to - from < TimeDelta::seconds(1) => {
                    errors.push(FieldError::new(
                        &name("end"),
                        "A stop must end at least a second after it begins.",
                    ));
                    (None, 0.0)
                }
                (Ok(from), Ok(to)) if from < start || to > end => {
                    errors.push(FieldError::new(
                        &name("start"),
                        "The stop lies outside the shift.",
                    ));
                    (None, 0.0)
                }
                (Ok(from), Ok(to)) => (
                    Some((from, to)),
                    (to - from).num_milliseconds() as f64 / 1000.0,
                ),
                (from, to) => {
                    if let Err(m) = from {
                        errors.push(FieldError::new(&name("start"), m));
                    }
                    if let Err(m) = to {
                        errors.push(FieldError::new(&name("end"), m));
                    }
                    (None, 0.0)
                }
            },
            (None, None, Some(m)) if m.is_finite() && m * 60.0 >= 1.0 && m * 60.0 <= length_s => {
                (None, m * 60.0)
            }
            (None, None, Some(_)) => {
                errors.push(FieldError::new(
                    &name("minutes"),
                    "At least a second (0.02 min) and no longer than the shift.",
                ));
                (None, 0.0)
            }
            _ => {
                errors.push(FieldError::new(
                    &name("start"),
                    "Give the stop's start and end, or its length in minutes.",
                ));
                (None, 0.0)
            }
        };
        if errors.len() == before {
            valid.push(ValidStop {
                span,
                seconds,
                reason_id: if downtime { stop.reason_id } else { None },
                category,
            });
        }
    }
    valid
}

/// The text of an optional field, when there is any.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Stops given with times may not overlap one another (a minute is lost once).
fn overlaps(planned: &[ValidStop], downtime: &[ValidStop], errors: &mut Vec<FieldError>) {
    let timed: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = planned
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.span.map(|(a, b)| (format!("planned_stops[{i}]"), a, b)))
        .chain(
            downtime
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.span.map(|(a, b)| (format!("downtime[{i}]"), a, b))),
        )
        .collect();
    for (i, (name, a_start, a_end)) in timed.iter().enumerate() {
        if let Some((other, _, _)) = timed[..i]
            .iter()
            .find(|(_, b_start, b_end)| a_start < b_end && b_start < a_end)
        {
            errors.push(FieldError::new(
                &format!("{name}.start"),
                format!("Overlaps {other}: a minute is lost only once."),
            ));
        }
    }
}

impl ValidShift {
    /// What this shift adds to the roll-ups.
    pub fn totals(&self) -> OeeTotals {
        let length_s = (self.end - self.start).num_milliseconds() as f64 / 1000.0;
        let planned_s: f64 = self.planned_stops.iter().map(|s| s.seconds).sum();
        // `+ 0.0`: a sum of no stops is -0.0 in Rust, which would be stored and shown as "-0".
        let of = |category: LossCategory| -> f64 {
            self.downtime
                .iter()
                .filter(|s| s.category == Some(category))
                .map(|s| s.seconds)
                .sum::<f64>()
                + 0.0
        };
        let cycle = self.ideal_cycle_s;
        OeeTotals {
            planned_busy_s: (length_s - planned_s).max(0.0),
            breakdown_s: of(LossCategory::Breakdown),
            setup_s: of(LossCategory::SetupAdjustment),
            small_stop_s: of(LossCategory::SmallStop),
            produced: self.total_count as f64,
            startup_rejects: self.startup_rejects as f64,
            production_rejects: self.production_rejects as f64,
            ideal_produced_s: cycle * self.total_count as f64,
            ideal_startup_rejects_s: cycle * self.startup_rejects as f64,
            ideal_production_rejects_s: cycle * self.production_rejects as f64,
            shifts: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(start: &str, end: &str) -> ShiftInput {
        ShiftInput {
            machine_uid: Uuid::nil(),
            start: start.into(),
            end: end.into(),
            planned_stops: vec![],
            downtime: vec![],
            ideal_cycle_s: 60.0,
            total_count: 0,
            startup_rejects: 0,
            production_rejects: 0,
            performance_reason: None,
        }
    }

    fn timed(start: &str, end: &str, category: Option<LossCategory>) -> StopInput {
        StopInput {
            start: Some(start.into()),
            end: Some(end.into()),
            minutes: None,
            reason_id: category.map(|_| Uuid::new_v4()),
            category,
        }
    }

    fn minutes_of(m: f64, category: Option<LossCategory>) -> StopInput {
        StopInput {
            start: None,
            end: None,
            minutes: Some(m),
            reason_id: category.map(|_| Uuid::new_v4()),
            category,
        }
    }

    fn fields(result: Result<ValidShift, Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_night_shift_crossing_midnight_by_hand() {
        // 22:00 to 06:00, a 30 min break, 45 min breakdown (timed) and 15 min set-up (minutes).
        let mut night = shift("2026-11-26T22:00:00Z", "2026-11-27T06:00:00Z");
        night.planned_stops = vec![timed("2026-11-27T02:00:00Z", "2026-11-27T02:30:00Z", None)];
        night.downtime = vec![
            timed(
                "2026-11-26T23:00:00Z",
                "2026-11-26T23:45:00Z",
                Some(LossCategory::Breakdown),
            ),
            minutes_of(15.0, Some(LossCategory::SetupAdjustment)),
        ];
        night.total_count = 380;
        night.startup_rejects = 10;
        night.production_rejects = 20;
        let totals = night.validate().unwrap().totals();
        assert_eq!(totals.planned_busy_s, 7.5 * 3600.0);
        assert_eq!(totals.breakdown_s, 45.0 * 60.0);
        assert_eq!(totals.setup_s, 15.0 * 60.0);
        let oee = totals.figures().oee.unwrap();
        assert!((oee - 350.0 / 450.0).abs() < 1e-12);
    }

    #[test]
    fn a_shift_over_the_end_of_summer_time_lasts_nine_hours() {
        // Europe/Berlin, 25 Oct 2026: 22:00 CEST (UTC+2) to 06:00 CET (UTC+1) is 9 h, not 8.
        let mut dst = shift("2026-10-24T22:00:00+02:00", "2026-10-25T06:00:00+01:00");
        dst.total_count = 9 * 60;
        let totals = dst.validate().unwrap().totals();
        assert_eq!(totals.planned_busy_s, 9.0 * 3600.0);
        assert_eq!(totals.figures().performance, Some(1.0));
    }

    #[test]
    fn a_shift_with_only_planned_stops_is_accepted_without_figures() {
        let mut stopped = shift("2026-11-27T06:00:00Z", "2026-11-27T14:00:00Z");
        stopped.planned_stops = vec![minutes_of(480.0, None)];
        let totals = stopped.validate().unwrap().totals();
        assert_eq!(totals.planned_busy_s, 0.0);
        assert_eq!(totals.figures().oee, None);
        // But parts cannot have been made in it.
        stopped.total_count = 5;
        assert_eq!(fields(stopped.validate()), ["total_count"]);
    }

    #[test]
    fn a_shift_without_production_is_oee_zero() {
        let idle = shift("2026-11-27T06:00:00Z", "2026-11-27T14:00:00Z");
        assert_eq!(idle.validate().unwrap().totals().figures().oee, Some(0.0));
    }

    #[test]
    fn performance_above_100_percent_needs_a_reason() {
        let mut fast = shift("2026-11-27T06:00:00Z", "2026-11-27T07:00:00Z");
        fast.total_count = 70;
        assert_eq!(fields(fast.validate()), ["ideal_cycle_s"]);
        let message = fast.validate().unwrap_err()[0].message.clone();
        assert!(message.contains("117 %"), "{message}");
        fast.performance_reason = Some("  trial of the new tool  ".into());
        let valid = fast.validate().unwrap();
        assert_eq!(
            valid.performance_reason.as_deref(),
            Some("trial of the new tool")
        );
    }

    #[test]
    fn rejects_equal_to_the_total_are_accepted_and_more_are_not() {
        let mut scrap = shift("2026-11-27T06:00:00Z", "2026-11-27T07:00:00Z");
        scrap.total_count = 50;
        scrap.startup_rejects = 20;
        scrap.production_rejects = 30;
        assert_eq!(
            scrap.validate().unwrap().totals().figures().quality,
            Some(0.0)
        );
        scrap.production_rejects = 31;
        assert_eq!(fields(scrap.validate()), ["production_rejects"]);
    }

    #[test]
    fn bad_input_gets_one_error_per_field() {
        assert_eq!(
            fields(shift("2026-11-27T14:00:00Z", "2026-11-27T06:00:00Z").validate()),
            ["end"]
        );
        assert_eq!(
            fields(shift("yesterday", "2026-11-27T06:00:00Z").validate()),
            ["start"]
        );
        assert_eq!(
            fields(shift("2026-11-27T06:00:00Z", "2026-11-28T07:00:00Z").validate()),
            ["end"]
        );
        let mut bad = shift("2026-11-27T06:00:00Z", "2026-11-27T14:00:00Z");
        bad.total_count = -1;
        bad.ideal_cycle_s = f64::NAN;
        bad.downtime = vec![
            // Outside the shift, no reason, longer than the shift, overlapping.
            timed(
                "2026-11-27T05:00:00Z",
                "2026-11-27T06:30:00Z",
                Some(LossCategory::Breakdown),
            ),
            minutes_of(10.0, None),
            minutes_of(600.0, Some(LossCategory::Breakdown)),
            timed(
                "2026-11-27T08:00:00Z",
                "2026-11-27T09:00:00Z",
                Some(LossCategory::ReducedSpeed),
            ),
        ];
        bad.planned_stops = vec![timed("2026-11-27T08:30:00Z", "2026-11-27T09:30:00Z", None)];
        assert_eq!(
            fields(bad.validate()),
            [
                "downtime[0].start",
                "downtime[1].category",
                "downtime[2].minutes",
                "downtime[3].category",
                "total_count",
                "ideal_cycle_s"
            ]
        );
        // Out of the table's years, too short, a control character in the reason.
        assert_eq!(
            fields(shift("1850-01-01T06:00:00Z", "1850-01-01T14:00:00Z").validate()),
            ["start", "end"]
        );
        assert_eq!(
            fields(
                shift(
                    "2026-11-27T06:00:00.0000001Z",
                    "2026-11-27T06:00:00.0000002Z"
                )
                .validate()
            ),
            ["end"]
        );
        let mut nul = shift("2026-11-27T06:00:00Z", "2026-11-27T07:00:00Z");
        nul.performance_reason = Some("a\u{0}b".into());
        assert_eq!(fields(nul.validate()), ["performance_reason"]);
        let mut tiny = shift("2026-11-27T06:00:00Z", "2026-11-27T07:00:00Z");
        tiny.downtime = vec![minutes_of(0.001, Some(LossCategory::Breakdown))];
        assert_eq!(fields(tiny.validate()), ["downtime[0].minutes"]);
        // Decimal minutes that add up to the shift's length pass.
        let mut exact = shift("2026-11-27T06:00:00Z", "2026-11-27T14:00:00Z");
        exact.planned_stops = vec![
            minutes_of(0.05, None),
            minutes_of(33.29, None),
            minutes_of(446.66, None),
        ];
        assert!(exact.validate().is_ok());
        let mut overlapping = shift("2026-11-27T06:00:00Z", "2026-11-27T14:00:00Z");
        overlapping.planned_stops =
            vec![timed("2026-11-27T08:30:00Z", "2026-11-27T09:30:00Z", None)];
        overlapping.downtime = vec![timed(
            "2026-11-27T09:00:00Z",
            "2026-11-27T10:00:00Z",
            Some(LossCategory::Breakdown),
        )];
        assert_eq!(fields(overlapping.validate()), ["downtime[0].start"]);
        let mut too_much = shift("2026-11-27T06:00:00Z", "2026-11-27T08:00:00Z");
        too_much.planned_stops = vec![minutes_of(60.0, None)];
        too_much.downtime = vec![minutes_of(90.0, Some(LossCategory::Breakdown))];
        assert_eq!(fields(too_much.validate()), ["downtime"]);
    }
}
