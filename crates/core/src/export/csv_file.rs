//! A sheet as CSV (RFC 4180, UTF-8, comma-separated, a header row). Text that a spreadsheet would
//! run as a formula (see [`needs_defusing`]) is written behind an apostrophe, so opening an export never executes what another tool typed into a name
//! (OWASP's advice on CSV injection); the machine import takes the apostrophe off again.

use chrono::SecondsFormat;

use super::{Cell, Sheet};
use crate::error::RegistryError;

pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>, RegistryError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&sheet.columns).map_err(csv_error)?;
    for row in &sheet.rows {
        writer
            .write_record(row.iter().map(text_of))
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| RegistryError::Internal(format!("CSV export: {e}")))
}

fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => defused(text),
        Cell::Number(value) => value.to_string(),
        Cell::Integer(value) => value.to_string(),
        Cell::Instant(at) => at.to_rfc3339_opts(SecondsFormat::Secs, true),
        Cell::Empty => String::new(),
    }
}

/// True for text a spreadsheet could take for a formula (its first character after any
/// whitespace is `=`, `+`, `-`, `@` or their full-width forms; or it starts with a tab or a line
/// break), and for text starting with an apostrophe (so the import's removal of the one added
/// here can never take off one that was typed).
pub fn needs_defusing(text: &str) -> bool {
    text.starts_with(['\'', '\t', '\r', '\n'])
        || text
            .trim_start()
            .starts_with(['=', '+', '-', '@', '＝', '＋', '－', '＠'])
}

/// Text a spreadsheet would take for a formula, made inert behind an apostrophe.
pub(crate) fn defused(text: &str) -> String {
    if needs_defusing(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_error(err: csv::Error) -> RegistryError {
    RegistryError::Internal(format!("CSV export: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn quotes_what_needs_quoting_and_defuses_formulas() {
        let sheet = Sheet {
            name: "t".into(),
            columns: vec!["Name".into(), "Value".into(), "At".into(), "Empty".into()],
            rows: vec![
                vec![
                    Cell::Text("Press, \"big\"".into()),
                    Cell::Number(85.5),
                    Cell::Instant(chrono::Utc.with_ymd_and_hms(2024, 1, 10, 8, 0, 0).unwrap()),
                    Cell::Empty,
                ],
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Integer(-3),
                    Cell::Text("line\nbreak".into()),
                    Cell::Text("-5".into()),
                ],
            ],
        };
        let text = String::from_utf8(to_csv(&sheet).unwrap()).unwrap();
        assert_eq!(
            text,
            "Name,Value,At,Empty\n\"Press, \"\"big\"\"\",85.5,2024-01-10T08:00:00Z,\n\"'=HYPERLINK(\"\"x\"\")\",-3,\"line\nbreak\",'-5\n"
        );
    }
}
