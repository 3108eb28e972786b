//! The ideal cycle time of a machine type: the shift form's default.

use serde::{Deserialize, Serialize};

use super::MachineType;
use crate::error::FieldError;

/// The longest ideal cycle time accepted: one part a day (as for a shift).
const MAX_IDEAL_CYCLE_S: f64 = 86_400.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TypeCycleTime {
    pub machine_type: String,
    pub ideal_cycle_s: f64,
}

/// A planner sets (or, with `None`, removes) a type's ideal cycle time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SetTypeCycleTime {
    pub machine_type: String,
    pub ideal_cycle_s: Option<f64>,
}

impl SetTypeCycleTime {
    pub fn validate(&self) -> Result<(MachineType, Option<f64>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let machine_type = MachineType::parse(&self.machine_type)
            .map_err(|m| errors.push(FieldError::new("machine_type", m)));
        if let Some(seconds) = self.ideal_cycle_s {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_IDEAL_CYCLE_S) {
                errors.push(FieldError::new(
                    "ideal_cycle_s",
                    "Seconds per part: more than 0, at most 86,400 (a day).",
                ));
            }
        }
        match machine_type {
            Ok(machine_type) if errors.is_empty() => Ok((machine_type, self.ideal_cycle_s)),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_time_is_positive_and_at_most_a_day() {
        let set = |seconds| SetTypeCycleTime {
            machine_type: " Press ".into(),
            ideal_cycle_s: seconds,
        };
        assert!(set(Some(42.5)).validate().is_ok());
        assert!(set(None).validate().is_ok());
        for bad in [0.0, -1.0, 86_401.0, f64::NAN] {
            let errors = set(Some(bad)).validate().unwrap_err();
            assert_eq!(errors[0].field, "ideal_cycle_s");
        }
        let errors = SetTypeCycleTime {
            machine_type: "".into(),
            ideal_cycle_s: Some(1.0),
        }
        .validate()
        .unwrap_err();
        assert_eq!(errors[0].field, "machine_type");
    }
}
