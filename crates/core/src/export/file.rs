//! Writing an export into a folder: a new file under a name made of what it holds and when
//! (never overwriting one already there), private to the user, flushed to disk before it is
//! reported as written; a file left half-written by a failure is removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{to_csv, to_xlsx, ExportFormat, ExportedFile, Sheet};
use crate::error::RegistryError;

pub fn write_export(
    dir: &Path,
    stem: &str,
    format: ExportFormat,
    sheets: &[Sheet],
    now: DateTime<Utc>,
) -> Result<ExportedFile, RegistryError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let stamp = now.format("%Y%m%d-%H%M%S");
    let mut files = Vec::new();
    match format {
        ExportFormat::Xlsx => files.push((format!("{stem}-{stamp}"), to_xlsx(sheets)?)),
        ExportFormat::Csv => {
            for (index, sheet) in sheets.iter().enumerate() {
                let name = if index == 0 {
                    format!("{stem}-{stamp}")
                } else {
                    format!("{stem}-{}-{stamp}", slug(&sheet.name))
                };
                files.push((name, to_csv(sheet)?));
            }
        }
    }
    let mut paths = Vec::new();
    for (name, bytes) in files {
        paths.push(write_new(dir, &name, format.extension(), &bytes)?);
    }
    Ok(ExportedFile {
        paths: paths.iter().map(|p| p.display().to_string()).collect(),
        rows: sheets.iter().map(|s| s.rows.len() as i64).sum(),
        cached_at: None,
    })
}

/// `name.ext`, or `name-2.ext`, … when taken: created new, never replacing a file.
fn write_new(dir: &Path, name: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
    for attempt in 1..1000 {
        let file_name = if attempt == 1 {
            format!("{name}.{ext}")
        } else {
            format!("{name}-{attempt}.{ext}")
        };
        let path = dir.join(file_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = match options.open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&path, &e)),
        };
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(io_error(&path, &e));
        }
        return Ok(path);
    }
    Err(RegistryError::Internal(format!(
        "no free file name for {name}.{ext} in {}",
        dir.display()
    )))
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn io_error(path: &Path, err: &std::io::Error) -> RegistryError {
    RegistryError::Refused(format!(
        "the export could not be written to {}: {err}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Cell;

    #[test]
    fn never_overwrites_and_writes_one_csv_per_sheet() {
        let dir = std::env::temp_dir().join(format!("mes-export-{}", uuid::Uuid::new_v4()));
        let sheet = |name: &str| Sheet {
            name: name.into(),
            columns: vec!["a".into()],
            rows: vec![vec![Cell::Integer(1)], vec![Cell::Integer(2)]],
        };
        let now = Utc::now();
        let sheets = [
            sheet("Reliability by machine"),
            sheet("Reliability by type"),
        ];
        let first = write_export(&dir, "reliability", ExportFormat::Csv, &sheets, now).unwrap();
        let second = write_export(&dir, "reliability", ExportFormat::Csv, &sheets, now).unwrap();
        assert_eq!(first.rows, 4);
        assert_eq!(first.paths.len(), 2);
        assert!(first.paths[1].contains("reliability-by-type"));
        assert!(second.paths[0].ends_with("-2.csv"), "{second:?}");
        assert_eq!(
            std::fs::read_to_string(&first.paths[0]).unwrap(),
            "a\n1\n2\n"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
