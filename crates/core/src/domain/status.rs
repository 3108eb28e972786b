use serde::{Deserialize, Serialize};

/// A machine's operational status. The spelling is part of the contract with the tutorial's
/// database and the tools that share it: exactly these four words, capitalised so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub enum OperationalStatus {
    Running,
    Idle,
    Maintenance,
    Down,
}

impl OperationalStatus {
    pub const ALL: [OperationalStatus; 4] =
        [Self::Running, Self::Idle, Self::Maintenance, Self::Down];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Idle => "Idle",
            Self::Maintenance => "Maintenance",
            Self::Down => "Down",
        }
    }

    /// Exact match only: "running" or " Down" are refused rather than guessed at, because other
    /// tools compare these strings exactly.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                format!(
                    "Status must be one of Running, Idle, Maintenance, Down (got {})",
                    quote_for_message(raw)
                )
            })
    }
}

/// Shows a user's value inside a message without letting a huge or control-laden value through.
pub(crate) fn quote_for_message(raw: &str) -> String {
    let shown: String = raw
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if raw.chars().count() > 40 {
        format!("\"{shown}…\"")
    } else {
        format!("\"{shown}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_spellings_only() {
        assert_eq!(
            OperationalStatus::parse("Down"),
            Ok(OperationalStatus::Down)
        );
        assert!(OperationalStatus::parse("down").is_err());
        assert!(OperationalStatus::parse("Exploded").is_err());
        assert!(OperationalStatus::parse(" Idle").is_err());
    }

    #[test]
    fn message_hides_control_characters() {
        let message = OperationalStatus::parse("a\0b").unwrap_err();
        assert!(!message.contains('\0'), "{message}");
    }
}
