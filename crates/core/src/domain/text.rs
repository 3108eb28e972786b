use super::status::quote_for_message;

/// Longest name or type accepted, in characters (the database enforces the same bound).
pub const MAX_TEXT_CHARS: usize = 100;

/// A machine's name: trimmed, non-empty, at most [`MAX_TEXT_CHARS`], no control characters.
/// Unique ignoring letter case (enforced by the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineName(String);

/// A machine's type ("Milling Machine"): the same rules as a name, not unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineType(String);

impl MachineName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "Name").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl MachineType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "Type").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims surrounding whitespace (what a user means) but refuses what cannot be meant: nothing
/// left, too long, or control characters such as NUL (which PostgreSQL text cannot even store).
pub(crate) fn bounded_text(raw: &str, label: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("{label} is required"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!(
            "{label} must not contain control characters (such as NUL, tab or line breaks)"
        ));
    }
    let length = trimmed.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(format!(
            "{label} must be at most {MAX_TEXT_CHARS} characters (got {length}: {})",
            quote_for_message(trimmed)
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_inner_spaces() {
        assert_eq!(
            MachineName::parse("  CNC 001 ").map(|n| n.0),
            Ok("CNC 001".into())
        );
    }

    #[test]
    fn refuses_empty_whitespace_nul_and_long() {
        assert!(MachineName::parse("").is_err());
        assert!(MachineName::parse(" \t\n ").is_err());
        assert!(MachineName::parse("CNC\0-001").is_err());
        assert!(MachineType::parse(&"x".repeat(101)).is_err());
        assert!(MachineType::parse(&"é".repeat(100)).is_ok());
    }
}
