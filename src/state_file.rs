//! The local state file: atomic writes (temp file, fsync, rename), the previous version kept
//! as `.backup`, mode 0600 because state holds secrets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use netform_engine::state::{State, StateError, StateStore};

pub struct LocalStateStore {
    pub path: PathBuf,
}

impl LocalStateStore {
    pub fn new(dir: &Path) -> Self {
        LocalStateStore {
            path: dir.join("netform.tfstate"),
        }
    }

    fn backup_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".backup");
        PathBuf::from(p)
    }
}

impl StateStore for LocalStateStore {
    fn load(&self) -> Result<Option<State>, StateError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => State::from_json(&text).map(Some).map_err(|e| match e {
                StateError::Corrupt(msg) => {
                    StateError::Corrupt(format!("{}: {msg}", self.path.display()))
                }
                other => other,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Store(format!(
                "cannot read {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn save(&self, state: &State) -> Result<(), StateError> {
        write_atomically(
            &self.path,
            state.to_json().as_bytes(),
            Some(&self.backup_path()),
        )
        .map_err(|e| StateError::Store(format!("cannot write {}: {e}", self.path.display())))
    }
}

/// Write `bytes` to `path` so that a reader sees either the old or the new file, never a
/// partial one. The current file, if any, is first copied to `backup`.
pub fn write_atomically(path: &Path, bytes: &[u8], backup: Option<&Path>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    if let Some(backup) = backup
        && path.exists()
    {
        // Rename keeps the backup atomic too: it is always a complete previous version.
        let btmp = dir.join(format!(".{file_name}.backup.tmp.{}", std::process::id()));
        fs::copy(path, &btmp)?;
        fs::rename(&btmp, backup)?;
    }
    fs::rename(&tmp, path)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
