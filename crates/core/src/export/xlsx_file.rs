//! A workbook of sheets as XLSX (rust_xlsxwriter): a bold, frozen header row, numbers as
//! numbers, instants as UTC date cells, text as text (never a formula), columns fitted.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{Cell, Sheet};
use crate::error::RegistryError;

/// Excel's limit on a worksheet's name, in UTF-16 units.
const SHEET_NAME_UNITS: usize = 31;

pub fn to_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, RegistryError> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold();
    // Instants are written in UTC, and say so.
    let instant = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss \"UTC\"");
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet
            .set_name(sheet_name(&sheet.name))
            .map_err(xlsx_error)?;
        for (col, title) in sheet.columns.iter().enumerate() {
            worksheet
                .write_string_with_format(0, column(col)?, title, &header)
                .map_err(xlsx_error)?;
        }
        for (index, cells) in sheet.rows.iter().enumerate() {
            let row = u32::try_from(index + 1)
                .map_err(|_| RegistryError::Internal("too many rows for XLSX".into()))?;
            for (col, cell) in cells.iter().enumerate() {
                let col = column(col)?;
                match cell {
                    Cell::Text(text) => worksheet.write_string(row, col, text).map(drop),
                    Cell::Number(value) => worksheet.write_number(row, col, *value).map(drop),
                    // Exact up to 2^53, far beyond any count or id here.
                    Cell::Integer(value) => {
                        worksheet.write_number(row, col, *value as f64).map(drop)
                    }
                    Cell::Instant(at) => worksheet
                        .write_datetime_with_format(row, col, at.naive_utc(), &instant)
                        .map(drop),
                    Cell::Empty => Ok(()),
                }
                .map_err(xlsx_error)?;
            }
        }
        worksheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        worksheet.autofit();
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// A name Excel accepts: none of `[]:*?/\`, no apostrophe at either end, at most 31 UTF-16
/// units; "Sheet" when nothing is left.
fn sheet_name(wanted: &str) -> String {
    let mut name = String::new();
    let mut units = 0;
    for c in wanted
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
    {
        if units + c.len_utf16() > SHEET_NAME_UNITS {
            break;
        }
        units += c.len_utf16();
        name.push(c);
    }
    let name = name.trim().trim_matches('\'').trim();
    if name.is_empty() {
        "Sheet".into()
    } else {
        name.to_owned()
    }
}

fn column(index: usize) -> Result<u16, RegistryError> {
    u16::try_from(index).map_err(|_| RegistryError::Internal("too many columns for XLSX".into()))
}

fn xlsx_error(err: XlsxError) -> RegistryError {
    RegistryError::Internal(format!("XLSX export: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_zip_workbook_with_every_sheet() {
        let sheet = |name: &str| Sheet {
            name: name.into(),
            columns: vec!["Name".into(), "Value".into()],
            rows: vec![vec![Cell::Text("=1+1".into()), Cell::Number(1.5)]],
        };
        let bytes = to_xlsx(&[
            sheet("By machine"),
            sheet("By type: [all]"),
            sheet("History Press 'A'"),
            sheet("History 🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭🏭"),
        ])
        .unwrap();
        assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip");
        assert!(bytes.len() > 1000);
    }
}
