//! The reasons an operator picks for a stop: a list of data, not code. It starts as a tree of
//! the recordable big losses with common reasons under each; a planner adds reasons of the
//! plant's own. A reason some record uses is never deleted, only retired (no longer offered,
//! still shown in the records that name it).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::oee::LossCategory;
use crate::error::FieldError;

const MAX_NAME_CHARS: usize = 80;

/// The reasons a new database starts with, under the loss each belongs to.
pub const DEFAULT_REASONS: [(LossCategory, &str); 14] = [
    (LossCategory::Breakdown, "Mechanical failure"),
    (LossCategory::Breakdown, "Electrical failure"),
    (LossCategory::Breakdown, "Hydraulic or pneumatic failure"),
    (LossCategory::Breakdown, "Control or software fault"),
    (LossCategory::Breakdown, "Tool breakage"),
    (LossCategory::SetupAdjustment, "Changeover"),
    (LossCategory::SetupAdjustment, "Tool change"),
    (
        LossCategory::SetupAdjustment,
        "Adjustment after a quality check",
    ),
    (LossCategory::SetupAdjustment, "Start-up and warm-up"),
    (LossCategory::SmallStop, "Jam or misfeed"),
    (LossCategory::SmallStop, "Sensor blocked"),
    (LossCategory::SmallStop, "Waiting for material"),
    (LossCategory::SmallStop, "Cleaning"),
    (LossCategory::SmallStop, "Operator called away"),
];

/// A reason as the window lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct LossReason {
    pub id: Uuid,
    pub name: String,
    pub category: LossCategory,
    /// One of [`DEFAULT_REASONS`].
    pub built_in: bool,
    /// No longer offered for new records.
    pub retired: bool,
}

/// A planner's new reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct NewLossReason {
    pub name: String,
    pub category: LossCategory,
}

impl NewLossReason {
    /// The name trimmed, 1 to 80 characters without control characters, under a loss that is
    /// recorded as downtime.
    pub fn validate(&self) -> Result<NewLossReason, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "Name the reason."));
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new(
                "name",
                format!("At most {MAX_NAME_CHARS} characters."),
            ));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "No line breaks or control characters.",
            ));
        }
        if !self.category.is_downtime() {
            errors.push(FieldError::new(
                "category",
                "A reason stands under a breakdown, a set-up or adjustment, or a small stop.",
            ));
        }
        if errors.is_empty() {
            Ok(NewLossReason {
                name: name.to_owned(),
                category: self.category,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tree_has_reasons_under_each_recordable_loss_only() {
        for category in LossCategory::ALL {
            let under = DEFAULT_REASONS
                .iter()
                .filter(|(c, _)| *c == category)
                .count();
            assert_eq!(under > 0, category.is_downtime(), "{category:?}");
        }
        let mut names: Vec<&str> = DEFAULT_REASONS.iter().map(|(_, n)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DEFAULT_REASONS.len());
    }

    #[test]
    fn a_new_reason_is_checked() {
        let ok = NewLossReason {
            name: "  Robot gripper fault ".into(),
            category: LossCategory::Breakdown,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "Robot gripper fault");
        let bad = NewLossReason {
            name: "two\nlines".into(),
            category: LossCategory::ReducedSpeed,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "category"]);
        assert!(NewLossReason {
            name: "x".repeat(81),
            category: LossCategory::SmallStop
        }
        .validate()
        .is_err());
    }
}
