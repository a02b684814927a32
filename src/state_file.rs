//! The local state file: atomic writes (temp file, fsync, rename), the version before this
//! run kept as `.backup`, mode 0600 because state holds secrets; the lock is a file next to
//! it, created atomically (it appears complete or not at all, and only one creator wins).
//!
//! Journal intents go to `<state>.journal` (one JSON line each, appended and fsynced) instead
//! of a rewrite of the whole state: rewriting a 10,000-resource state before every request
//! made apply quadratic. `load` reads them back into `pending`; the next full `save` holds
//! them (the walker's state in memory has them) and empties the journal.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use netform_engine::state::{LockInfo, PendingOp, State, StateError, StateStore};

pub struct LocalStateStore {
    pub path: PathBuf,
    /// Set once this run's first save has copied the previous file to `.backup`: later
    /// saves of the same run leave the backup alone (copying it before every write doubled
    /// the I/O of an apply, and a backup of the run's own intermediate states is no use).
    backed_up: std::sync::atomic::AtomicBool,
}

impl LocalStateStore {
    pub fn new(dir: &Path) -> Self {
        Self::at(dir.join("netform.tfstate"))
    }

    pub fn at(path: PathBuf) -> Self {
        LocalStateStore {
            path,
            backed_up: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn journal_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".journal");
        PathBuf::from(p)
    }

    /// Intents appended since the last full save. A torn last line (the process died while
    /// appending it) was never acknowledged, so its request was never sent: it is skipped.
    fn read_journal(&self) -> Result<Vec<PendingOp>, StateError> {
        let path = self.journal_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StateError::Store(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        netform_engine::state::parse_journal(&text)
            .map_err(|e| StateError::Corrupt(format!("{} {e}", path.display())))
    }

    fn backup_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".backup");
        PathBuf::from(p)
    }

    /// `.netform.tfstate.lock.info` next to the state, as Terraform's local backend does.
    pub fn lock_path(&self) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "netform.tfstate".into());
        dir.join(format!(".{name}.lock.info"))
    }

    fn read_lock(&self) -> Result<Option<LockInfo>, StateError> {
        match fs::read_to_string(self.lock_path()) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).unwrap_or_else(|_| {
                // Never written by us half-way (see `lock`), but a foreign file is still a lock.
                LockInfo {
                    id: String::new(),
                    info: format!("unreadable lock file {}", self.lock_path().display()),
                    ..LockInfo::default()
                }
            }))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Store(format!(
                "cannot read {}: {e}",
                self.lock_path().display()
            ))),
        }
    }

    /// A lock left by a process of this host that no longer runs (killed with SIGKILL, a
    /// power cut) is removed; returns whether it was.
    fn clear_if_stale(&self, held: &LockInfo) -> bool {
        let (_, host) = crate::session::who();
        let Some(pid) = held.pid else { return false };
        if held.host != host || !cfg!(target_os = "linux") {
            return false;
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            return false;
        }
        // Move it aside first: if another run replaced it meanwhile, put that one back.
        let aside = self
            .lock_path()
            .with_extension(format!("stale.{}", std::process::id()));
        if fs::rename(self.lock_path(), &aside).is_err() {
            return false;
        }
        let moved: Option<LockInfo> = fs::read_to_string(&aside)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if moved.as_ref().map(|m| &m.id) != Some(&held.id) {
            let _ = fs::hard_link(&aside, self.lock_path());
            let _ = fs::remove_file(&aside);
            return false;
        }
        let _ = fs::remove_file(&aside);
        eprintln!(
            "Removed a stale state lock: {} ({}) was held by process {pid}, which no longer runs.",
            held.id, held.operation
        );
        true
    }
}

impl StateStore for LocalStateStore {
    fn load(&self) -> Result<Option<State>, StateError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => {
                let mut state = State::from_json(&text).map_err(|e| match e {
                    StateError::Corrupt(msg) => {
                        StateError::Corrupt(format!("{}: {msg}", self.path.display()))
                    }
                    other => other,
                })?;
                for op in self.read_journal()? {
                    state.add_pending(op);
                }
                Ok(Some(state))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Store(format!(
                "cannot read {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn save(&self, state: &State) -> Result<(), StateError> {
        use std::sync::atomic::Ordering;
        let backup = self.backup_path();
        let first = !self.backed_up.load(Ordering::SeqCst);
        write_atomically(
            &self.path,
            state.to_json().as_bytes(),
            first.then_some(backup.as_path()),
        )
        .map_err(|e| StateError::Store(format!("cannot write {}: {e}", self.path.display())))?;
        self.backed_up.store(true, Ordering::SeqCst);
        // The state just written holds every intent still pending.
        match fs::remove_file(self.journal_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StateError::Store(format!(
                "cannot remove {}: {e}",
                self.journal_path().display()
            ))),
        }
    }

    fn append_pending(&self, op: &PendingOp) -> Result<bool, StateError> {
        // Before the first save there is no file to hold the journal's place (and no lineage
        // to find it by): the caller writes the whole, still small, state instead.
        if !self.path.exists() {
            return Ok(false);
        }
        let path = self.journal_path();
        let err =
            |e: std::io::Error| StateError::Store(format!("cannot write {}: {e}", path.display()));
        let line = netform_engine::state::journal_line(op);
        let mut opts = fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path).map_err(err)?;
        f.write_all(line.as_bytes()).map_err(err)?;
        f.sync_data().map_err(err)?;
        Ok(true)
    }

    fn lock(&self, info: &LockInfo) -> Result<String, StateError> {
        let path = self.lock_path();
        let dir = path.parent().unwrap_or(Path::new("."));
        let err = |e: std::io::Error| {
            StateError::Store(format!("cannot create the lock {}: {e}", path.display()))
        };
        let text =
            serde_json::to_string_pretty(info).map_err(|e| StateError::Store(e.to_string()))?;
        // Write the info to a private file, then link it into place: link(2) fails if the
        // lock exists (like O_EXCL) and the lock never exists half-written.
        let tmp = dir.join(format!(".netform.lock.{}.{}", std::process::id(), info.id));
        {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        let mut result = fs::hard_link(&tmp, &path);
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::AlreadyExists
            && let Some(held) = self.read_lock()?
            && self.clear_if_stale(&held)
        {
            result = fs::hard_link(&tmp, &path);
        }
        let _ = fs::remove_file(&tmp);
        match result {
            Ok(()) => {
                if let Ok(d) = fs::File::open(dir) {
                    let _ = d.sync_all();
                }
                Ok(info.id.clone())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match self.read_lock()? {
                Some(held) => Err(StateError::Locked(Box::new(held))),
                // Released between our attempt and the read: try again.
                None => self.lock(info),
            },
            Err(e) => Err(err(e)),
        }
    }

    fn unlock(&self, id: &str) -> Result<(), StateError> {
        match self.read_lock()? {
            Some(held) if held.id == id => fs::remove_file(self.lock_path()).map_err(|e| {
                StateError::Store(format!("cannot remove {}: {e}", self.lock_path().display()))
            }),
            held => Err(StateError::LockMismatch {
                given: id.to_string(),
                held: held.map(Box::new),
            }),
        }
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        self.read_lock()
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
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
    remove_stale_temporaries(dir, &file_name);
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

/// Temporary files left by a process killed mid-write (they may hold secrets): removed once
/// their writer no longer runs. The state file itself was never touched by them.
fn remove_stale_temporaries(dir: &Path, file_name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefixes = [
        format!(".{file_name}.tmp."),
        format!(".{file_name}.backup.tmp."),
    ];
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = prefixes
            .iter()
            .find_map(|p| name.strip_prefix(p.as_str()))
            .and_then(|rest| rest.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id()
            || (cfg!(target_os = "linux") && Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_keep_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let backup = dir.path().join("s.json.backup");
        write_atomically(&path, b"one", Some(&backup)).unwrap();
        write_atomically(&path, b"two", Some(&backup)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read(&backup).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        // A pid that cannot be running (above the kernel's pid_max).
        let stale = dir.path().join(".s.json.tmp.4294967");
        fs::write(&stale, "partial").unwrap();
        let other = dir.path().join(".other.tmp.4294967");
        fs::write(&other, "not ours").unwrap();
        write_atomically(&path, b"x", None).unwrap();
        assert!(!stale.exists());
        assert!(other.exists());
    }

    fn intent(address: &str) -> PendingOp {
        serde_json::from_value(serde_json::json!({
            "address": address,
            "operation": "create",
            "id": format!("/x/{address}"),
            "provider": "registry.terraform.io/hashicorp/azurerm",
            "attributes": {},
        }))
        .unwrap()
    }

    #[test]
    fn intents_are_appended_read_back_and_cleared_by_the_next_save() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStateStore::new(dir.path());
        // No state file yet: the caller must write the whole state.
        assert!(!store.append_pending(&intent("a.b")).unwrap());
        let state = State::new("l".into());
        store.save(&state).unwrap();
        assert!(store.append_pending(&intent("a.b")).unwrap());
        assert!(store.append_pending(&intent("c.d")).unwrap());
        let loaded = store.load().unwrap().unwrap();
        let got: Vec<&str> = loaded.pending.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(got, ["a.b", "c.d"]);
        assert_eq!(fs::read_to_string(&store.path).unwrap(), state.to_json());
        store.save(&loaded).unwrap();
        assert!(!store.journal_path().exists());
        assert_eq!(store.load().unwrap().unwrap().pending.len(), 2);
    }

    #[test]
    fn the_backup_is_the_state_before_this_run() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("netform.tfstate"),
            State::new("old".into()).to_json(),
        )
        .unwrap();
        let store = LocalStateStore::new(dir.path());
        store.save(&State::new("one".into())).unwrap();
        store.save(&State::new("two".into())).unwrap();
        let backup = fs::read_to_string(dir.path().join("netform.tfstate.backup")).unwrap();
        assert!(backup.contains("\"old\""), "{backup}");
    }
}
