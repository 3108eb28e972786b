//! OEE from what happened, not from a typed percentage. Time elements and KPIs as ISO 22400-2
//! (§5, §6) defines them, losses sorted as Nakajima's six big losses (TPM):
//!
//! - **planned busy time** = the shift's length − planned stops (breaks, planned maintenance);
//! - **actual production time** = planned busy time − downtime that stops the machine
//!   (breakdowns, set-up and adjustment);
//! - **Availability** A = actual production time / planned busy time;
//! - **Performance** P = ideal cycle time × produced quantity / actual production time;
//! - **Quality** Q = good quantity / produced quantity;
//! - **OEE** = A × P × Q = ideal cycle time × good quantity / planned busy time, the **fully
//!   productive time** over the planned busy time.
//!
//! Small stops recorded as downtime are a performance loss (the machine counts as running), as
//! in TPM; the rest of the performance loss is reduced speed. Rejects are start-up rejects or
//! production rejects, each worth its ideal cycle time.
//!
//! Figures over many shifts, machines or types come from sums of times and counts, never from
//! averaging percentages: a machine planned for 2 hours must not weigh as much as one planned for
//! 24. Quality is weighed by ideal time (Σ ideal time of good parts / Σ ideal time of produced
//! parts), which is good / produced for one machine and keeps A × P × Q = OEE for a fleet whose
//! machines make parts of different cycle times.

use serde::{Deserialize, Serialize};

/// The six big losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum LossCategory {
    /// Equipment failure: unplanned downtime (availability).
    Breakdown,
    /// Set-up, changeover and adjustment (availability).
    SetupAdjustment,
    /// Short stops and idling, recorded as downtime but counted against performance.
    SmallStop,
    /// Running slower than the ideal cycle (performance); never recorded, it is what remains.
    ReducedSpeed,
    /// Rejects while starting up or warming up (quality).
    StartupReject,
    /// Rejects in steady production (quality).
    ProductionReject,
}

/// What a loss takes from: the three factors of OEE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum LossGroup {
    Availability,
    Performance,
    Quality,
}

impl LossCategory {
    /// The name stored in the tables (and the JSON one).
    pub fn as_str(self) -> &'static str {
        match self {
            LossCategory::Breakdown => "breakdown",
            LossCategory::SetupAdjustment => "setup_adjustment",
            LossCategory::SmallStop => "small_stop",
            LossCategory::ReducedSpeed => "reduced_speed",
            LossCategory::StartupReject => "startup_reject",
            LossCategory::ProductionReject => "production_reject",
        }
    }

    pub const ALL: [LossCategory; 6] = [
        LossCategory::Breakdown,
        LossCategory::SetupAdjustment,
        LossCategory::SmallStop,
        LossCategory::ReducedSpeed,
        LossCategory::StartupReject,
        LossCategory::ProductionReject,
    ];

    pub fn group(self) -> LossGroup {
        match self {
            LossCategory::Breakdown | LossCategory::SetupAdjustment => LossGroup::Availability,
            LossCategory::SmallStop | LossCategory::ReducedSpeed => LossGroup::Performance,
            LossCategory::StartupReject | LossCategory::ProductionReject => LossGroup::Quality,
        }
    }

    /// Whether downtime may be recorded under this category (reduced speed and rejects are not
    /// time an operator records as a stop).
    pub fn is_downtime(self) -> bool {
        matches!(
            self,
            LossCategory::Breakdown | LossCategory::SetupAdjustment | LossCategory::SmallStop
        )
    }
}

/// The sums one shift contributes, and that shifts, machines and types add up to. Times in
/// seconds; counts as numbers of parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OeeTotals {
    /// Shift lengths minus planned stops.
    pub planned_busy_s: f64,
    /// Downtime recorded as breakdowns.
    pub breakdown_s: f64,
    /// Downtime recorded as set-up and adjustment.
    pub setup_s: f64,
    /// Downtime recorded as small stops (a performance loss).
    pub small_stop_s: f64,
    pub produced: f64,
    pub startup_rejects: f64,
    pub production_rejects: f64,
    /// Σ ideal cycle time × produced quantity.
    pub ideal_produced_s: f64,
    /// Σ ideal cycle time × start-up rejects.
    pub ideal_startup_rejects_s: f64,
    /// Σ ideal cycle time × production rejects.
    pub ideal_production_rejects_s: f64,
    /// How many shifts these totals hold.
    pub shifts: u64,
}

impl std::ops::Add for OeeTotals {
    type Output = OeeTotals;

    fn add(self, other: OeeTotals) -> OeeTotals {
        OeeTotals {
            planned_busy_s: self.planned_busy_s + other.planned_busy_s,
            breakdown_s: self.breakdown_s + other.breakdown_s,
            setup_s: self.setup_s + other.setup_s,
            small_stop_s: self.small_stop_s + other.small_stop_s,
            produced: self.produced + other.produced,
            startup_rejects: self.startup_rejects + other.startup_rejects,
            production_rejects: self.production_rejects + other.production_rejects,
            ideal_produced_s: self.ideal_produced_s + other.ideal_produced_s,
            ideal_startup_rejects_s: self.ideal_startup_rejects_s + other.ideal_startup_rejects_s,
            ideal_production_rejects_s: self.ideal_production_rejects_s
                + other.ideal_production_rejects_s,
            shifts: self.shifts + other.shifts,
        }
    }
}

impl std::iter::Sum for OeeTotals {
    fn sum<I: Iterator<Item = OeeTotals>>(iter: I) -> OeeTotals {
        iter.fold(OeeTotals::default(), |a, b| a + b)
    }
}

/// OEE and its factors as fractions (0.85 is 85 %); `None` where there is nothing to divide by:
/// no planned busy time (a shift of planned stops only), no production time, no parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OeeFigures {
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub oee: Option<f64>,
}

/// Where the planned busy time went, in seconds: each step is the one before minus its loss.
/// The six big losses add up to planned busy time − fully productive time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Waterfall {
    pub planned_busy_s: f64,
    pub availability_loss_s: f64,
    pub actual_production_s: f64,
    /// Negative when the parts were made faster than the ideal cycle time allows (performance
    /// above 100 %: the ideal cycle time is probably wrong).
    pub performance_loss_s: f64,
    pub net_run_s: f64,
    pub quality_loss_s: f64,
    pub fully_productive_s: f64,
    pub breakdown_s: f64,
    pub setup_adjustment_s: f64,
    pub small_stop_s: f64,
    pub reduced_speed_s: f64,
    pub startup_reject_s: f64,
    pub production_reject_s: f64,
}

impl OeeTotals {
    /// Planned busy time − breakdowns − set-up: the time the machine was meant to produce.
    pub fn actual_production_s(&self) -> f64 {
        (self.planned_busy_s - self.breakdown_s - self.setup_s).max(0.0)
    }

    pub fn good(&self) -> f64 {
        (self.produced - self.startup_rejects - self.production_rejects).max(0.0)
    }

    /// Ideal time of the good parts: the fully productive time.
    pub fn ideal_good_s(&self) -> f64 {
        (self.ideal_produced_s - self.ideal_startup_rejects_s - self.ideal_production_rejects_s)
            .max(0.0)
    }

    pub fn figures(&self) -> OeeFigures {
        let ratio = |top: f64, bottom: f64| (bottom > 0.0).then(|| top / bottom);
        let production = self.actual_production_s();
        OeeFigures {
            availability: ratio(production, self.planned_busy_s),
            performance: ratio(self.ideal_produced_s, production),
            quality: ratio(self.ideal_good_s(), self.ideal_produced_s),
            oee: ratio(self.ideal_good_s(), self.planned_busy_s),
        }
    }

    pub fn waterfall(&self) -> Waterfall {
        let actual = self.actual_production_s();
        let availability_loss = self.planned_busy_s - actual;
        let breakdown = self.breakdown_s.min(availability_loss);
        let net_run = self.ideal_produced_s;
        let performance_loss = actual - net_run;
        // Recorded small stops explain the performance loss up to its size; the rest is speed.
        let small_stop = self.small_stop_s.min(performance_loss.max(0.0));
        let fully = self.ideal_good_s();
        Waterfall {
            planned_busy_s: self.planned_busy_s,
            availability_loss_s: availability_loss,
            actual_production_s: actual,
            performance_loss_s: performance_loss,
            net_run_s: net_run,
            quality_loss_s: net_run - fully,
            fully_productive_s: fully,
            breakdown_s: breakdown,
            setup_adjustment_s: availability_loss - breakdown,
            small_stop_s: small_stop,
            reduced_speed_s: performance_loss - small_stop,
            startup_reject_s: self.ideal_startup_rejects_s,
            production_reject_s: self.ideal_production_rejects_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: f64 = 3600.0;

    /// A shift by hand: 8 h, 30 min break, 45 min breakdown, 15 min set-up, 10 min small stops,
    /// ideal cycle 60 s, 380 parts of which 10 start-up and 20 production rejects.
    fn hand_shift() -> OeeTotals {
        OeeTotals {
            planned_busy_s: 7.5 * HOUR,
            breakdown_s: 0.75 * HOUR,
            setup_s: 0.25 * HOUR,
            small_stop_s: 600.0,
            produced: 380.0,
            startup_rejects: 10.0,
            production_rejects: 20.0,
            ideal_produced_s: 380.0 * 60.0,
            ideal_startup_rejects_s: 10.0 * 60.0,
            ideal_production_rejects_s: 20.0 * 60.0,
            shifts: 1,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_shift_computed_by_hand() {
        let f = hand_shift().figures();
        // A = 6.5 h / 7.5 h; P = 380 min / 390 min; Q = 350 / 380; OEE = 350 min / 450 min.
        assert!(close(f.availability.unwrap(), 6.5 / 7.5));
        assert!(close(f.performance.unwrap(), 380.0 / 390.0));
        assert!(close(f.quality.unwrap(), 350.0 / 380.0));
        assert!(close(f.oee.unwrap(), 350.0 / 450.0));
        let product = f.availability.unwrap() * f.performance.unwrap() * f.quality.unwrap();
        assert!(close(product, f.oee.unwrap()));
        let w = hand_shift().waterfall();
        assert!(close(w.availability_loss_s, 1.0 * HOUR));
        assert!(close(w.actual_production_s, 6.5 * HOUR));
        assert!(close(w.performance_loss_s, 10.0 * 60.0));
        assert!(close(w.small_stop_s, 600.0));
        assert!(close(w.reduced_speed_s, 0.0));
        assert!(close(w.quality_loss_s, 30.0 * 60.0));
        assert!(close(w.fully_productive_s, 350.0 * 60.0));
        // The six big losses add up to everything lost.
        let six = w.breakdown_s
            + w.setup_adjustment_s
            + w.small_stop_s
            + w.reduced_speed_s
            + w.startup_reject_s
            + w.production_reject_s;
        assert!(close(six, w.planned_busy_s - w.fully_productive_s));
        assert!(close(w.breakdown_s, 0.75 * HOUR));
        assert!(close(w.setup_adjustment_s, 0.25 * HOUR));
    }

    #[test]
    fn a_shift_without_production_is_zero_oee_with_no_quality() {
        let idle = OeeTotals {
            planned_busy_s: 8.0 * HOUR,
            breakdown_s: 2.0 * HOUR,
            shifts: 1,
            ..OeeTotals::default()
        };
        let f = idle.figures();
        assert!(close(f.availability.unwrap(), 0.75));
        assert_eq!(f.performance, Some(0.0));
        assert_eq!(f.quality, None);
        assert_eq!(f.oee, Some(0.0));
        let w = idle.waterfall();
        assert!(close(w.reduced_speed_s, 6.0 * HOUR));
    }

    #[test]
    fn a_shift_of_planned_stops_only_has_no_figures() {
        let stopped = OeeTotals {
            shifts: 1,
            ..OeeTotals::default()
        };
        let f = stopped.figures();
        assert_eq!(
            (f.availability, f.performance, f.quality, f.oee),
            (None, None, None, None)
        );
        assert!(close(stopped.waterfall().fully_productive_s, 0.0));
    }

    #[test]
    fn performance_above_100_percent_is_shown_as_it_is() {
        let fast = OeeTotals {
            planned_busy_s: HOUR,
            produced: 70.0,
            ideal_produced_s: 70.0 * 60.0,
            shifts: 1,
            ..OeeTotals::default()
        };
        let f = fast.figures();
        assert!(close(f.performance.unwrap(), 70.0 / 60.0));
        let w = fast.waterfall();
        assert!(close(w.performance_loss_s, -600.0));
        assert!(close(w.small_stop_s, 0.0));
    }

    #[test]
    fn rejects_equal_to_total_is_zero_quality() {
        let scrap = OeeTotals {
            planned_busy_s: HOUR,
            produced: 50.0,
            production_rejects: 50.0,
            ideal_produced_s: 50.0 * 60.0,
            ideal_production_rejects_s: 50.0 * 60.0,
            shifts: 1,
            ..OeeTotals::default()
        };
        let f = scrap.figures();
        assert_eq!(f.quality, Some(0.0));
        assert_eq!(f.oee, Some(0.0));
    }

    #[test]
    fn fleet_oee_is_from_sums_not_an_average_of_percentages() {
        // A machine planned 2 h at OEE 100 % and one planned 22 h at OEE 50 %.
        let short = OeeTotals {
            planned_busy_s: 2.0 * HOUR,
            produced: 120.0,
            ideal_produced_s: 2.0 * HOUR,
            shifts: 1,
            ..OeeTotals::default()
        };
        let long = OeeTotals {
            planned_busy_s: 22.0 * HOUR,
            produced: 660.0,
            ideal_produced_s: 11.0 * HOUR,
            shifts: 1,
            ..OeeTotals::default()
        };
        let average_of_percentages =
            (short.figures().oee.unwrap() + long.figures().oee.unwrap()) / 2.0;
        let fleet = [short, long].into_iter().sum::<OeeTotals>().figures();
        assert!(close(average_of_percentages, 0.75));
        assert!(close(fleet.oee.unwrap(), 13.0 / 24.0));
        // And the fleet's factors still multiply to its OEE.
        let product =
            fleet.availability.unwrap() * fleet.performance.unwrap() * fleet.quality.unwrap();
        assert!(close(product, fleet.oee.unwrap()));
    }

    #[test]
    fn quality_weighed_by_ideal_time_keeps_a_times_p_times_q_for_mixed_cycle_times() {
        // Fast parts (10 s) with many rejects, slow parts (100 s) with none.
        let fast = OeeTotals {
            planned_busy_s: HOUR,
            produced: 300.0,
            production_rejects: 100.0,
            ideal_produced_s: 3000.0,
            ideal_production_rejects_s: 1000.0,
            shifts: 1,
            ..OeeTotals::default()
        };
        let slow = OeeTotals {
            planned_busy_s: HOUR,
            produced: 30.0,
            ideal_produced_s: 3000.0,
            shifts: 1,
            ..OeeTotals::default()
        };
        let both = (fast + slow).figures();
        assert!(close(both.quality.unwrap(), 5000.0 / 6000.0));
        let product =
            both.availability.unwrap() * both.performance.unwrap() * both.quality.unwrap();
        assert!(close(product, both.oee.unwrap()));
        assert_eq!((fast + slow).shifts, 2);
    }

    #[test]
    fn every_loss_belongs_to_one_factor() {
        let groups: Vec<LossGroup> = LossCategory::ALL.iter().map(|c| c.group()).collect();
        assert_eq!(
            groups,
            [
                LossGroup::Availability,
                LossGroup::Availability,
                LossGroup::Performance,
                LossGroup::Performance,
                LossGroup::Quality,
                LossGroup::Quality
            ]
        );
        let recordable: Vec<bool> = LossCategory::ALL.iter().map(|c| c.is_downtime()).collect();
        assert_eq!(recordable, [true, true, true, false, false, false]);
    }
}
