//! Files and folders that hold the plant's data or logs are readable by their user only: 0700
//! folders, 0600 files on Unix. (On Windows the per-user profile folders already are.)

use std::path::Path;

/// Creates `dir` (and missing parents) accessible to its owner only. A folder that already
/// exists is left as it is: it may be shared (a temporary folder) and is not ours to change.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Makes `file` readable and writable by its owner only.
pub fn restrict_file(file: &Path) -> std::io::Result<()> {
    set_mode(file, 0o600)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}
