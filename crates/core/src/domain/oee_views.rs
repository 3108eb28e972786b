//! What the planner's OEE views read: OEE day by day (the trend), and downtime by reason and by
//! loss category (the Pareto). Made from sums of times and counts, like every OEE figure here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::oee::{LossCategory, OeeFigures, OeeTotals};

/// The shifts that began on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OeeDay {
    pub day: NaiveDate,
    pub totals: OeeTotals,
    pub figures: OeeFigures,
}

/// Downtime recorded under one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ReasonDowntime {
    pub reason_id: Uuid,
    pub name: String,
    pub category: LossCategory,
    pub seconds: f64,
    pub events: i64,
}

/// Downtime recorded under one loss category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CategoryDowntime {
    pub category: LossCategory,
    pub seconds: f64,
    pub events: i64,
}

/// Downtime of the shifts that began in a range, largest first: by reason and by category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DowntimePareto {
    pub reasons: Vec<ReasonDowntime>,
    pub categories: Vec<CategoryDowntime>,
}

impl DowntimePareto {
    /// The categories' sums made from the reasons', largest first.
    pub fn from_reasons(mut reasons: Vec<ReasonDowntime>) -> DowntimePareto {
        reasons.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then(a.name.cmp(&b.name)));
        let mut categories: Vec<CategoryDowntime> = Vec::new();
        for reason in &reasons {
            match categories
                .iter_mut()
                .find(|c| c.category == reason.category)
            {
                Some(sum) => {
                    sum.seconds += reason.seconds;
                    sum.events += reason.events;
                }
                None => categories.push(CategoryDowntime {
                    category: reason.category,
                    seconds: reason.seconds,
                    events: reason.events,
                }),
            }
        }
        categories.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        DowntimePareto {
            reasons,
            categories,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(name: &str, category: LossCategory, seconds: f64) -> ReasonDowntime {
        ReasonDowntime {
            reason_id: Uuid::new_v4(),
            name: name.into(),
            category,
            seconds,
            events: 1,
        }
    }

    #[test]
    fn categories_add_up_their_reasons_largest_first() {
        let pareto = DowntimePareto::from_reasons(vec![
            reason("Jam", LossCategory::SmallStop, 600.0),
            reason("Motor", LossCategory::Breakdown, 1800.0),
            reason("Tooling", LossCategory::SetupAdjustment, 900.0),
            reason("Sensor", LossCategory::SmallStop, 1500.0),
        ]);
        let names: Vec<_> = pareto.reasons.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Motor", "Sensor", "Tooling", "Jam"]);
        let categories: Vec<_> = pareto
            .categories
            .iter()
            .map(|c| (c.category, c.seconds, c.events))
            .collect();
        assert_eq!(
            categories,
            [
                (LossCategory::SmallStop, 2100.0, 2),
                (LossCategory::Breakdown, 1800.0, 1),
                (LossCategory::SetupAdjustment, 900.0, 1),
            ]
        );
    }
}
