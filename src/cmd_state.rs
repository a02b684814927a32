//! State outside the apply walker: which store a project uses, the lock around a command,
//! reconciling an interrupted run's journal, the errored-state fallback, and the
//! `netform state …` and `force-unlock` commands.

use std::path::Path;
use std::sync::Arc;

use netform_engine::addr::ResourceAddress;
use netform_engine::apply::{self, Reconciled};
use netform_engine::provider::Provider;
use netform_engine::state::{State, StateError, StateStore};

use crate::session::{self, LockGuard};
use crate::state_file::{self, LocalStateStore};

/// The store the project in `dir` uses: the `backend` block of `terraform { … }`, or the
/// local `netform.tfstate`.
pub fn open_store(dir: &Path) -> Result<Arc<dyn StateStore>, String> {
    let sources = crate::project::read_sources(dir)?;
    let (backend, diags) = netform_engine::backend_config::extract(&sources);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        let at = d
            .labels
            .first()
            .and_then(|l| sources.get(l.span.file).map(|f| (f, l.span.range.start)))
            .map(|(f, off)| {
                let line = f.text[..off.min(f.text.len())].matches('\n').count() + 1;
                format!(" ({}:{line})", f.name)
            })
            .unwrap_or_default();
        return Err(format!(
            "the backend configuration is invalid{at}: {}{}",
            d.summary,
            d.help
                .as_deref()
                .map(|h| format!("\n{h}"))
                .unwrap_or_default()
        ));
    }
    match backend {
        None => Ok(Arc::new(LocalStateStore::new(dir))),
        Some(b) if b.type_name == "local" => Ok(Arc::new(match b.string("path") {
            Some(p) => LocalStateStore::at(dir.join(p)),
            None => LocalStateStore::new(dir),
        })),
        Some(b) => netform_backends::open(&b, &crate::cloud::env_lookup),
    }
}

/// Diagnostics about the `backend` block, for `validate` (spans index `sources`).
pub fn backend_diagnostics(
    sources: &[netform_engine::config::SourceFile],
) -> Vec<netform_engine::diag::Diagnostic> {
    netform_engine::backend_config::extract(sources).1
}

/// Load state, or a new empty one; a corrupt state is refused and left untouched.
pub fn load(store: &dyn StateStore) -> Result<State, String> {
    Ok(store
        .load()
        .map_err(|e| {
            format!(
                "{e}\nThe state was left untouched; fix or restore it (a local state keeps the previous version as netform.tfstate.backup)."
            )
        })?
        .unwrap_or_else(|| State::new(netform_engine::new_lineage())))
}

/// Take the state lock for a command unless `--lock=false`.
pub async fn lock(
    store: Arc<dyn StateStore>,
    operation: &str,
    args: &crate::LockArgs,
) -> Result<LockGuard, String> {
    if !args.enabled {
        return Ok(LockGuard::none(store));
    }
    session::acquire(store, operation, args.lock_timeout).await
}

/// Resolve the journal an interrupted run left; with `save`, record the result. Returns
/// false (after reporting) when an intent could not be resolved.
pub async fn reconcile(
    state: &mut State,
    provider: &dyn Provider,
    store: &dyn StateStore,
    save: bool,
) -> Result<bool, String> {
    if state.pending.is_empty() {
        return Ok(true);
    }
    println!(
        "The last run was interrupted with {} operation(s) in flight; looking them up by id:",
        state.pending.len()
    );
    let (found, diags) =
        apply::reconcile_pending(state, provider, Arc::new(|m: String| println!("  {m}"))).await;
    for r in &found {
        match r {
            Reconciled::Adopted { address, id } => println!(
                "  {address}: exists{}, recorded in state",
                id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default()
            ),
            Reconciled::NotCreated { address } => {
                println!("  {address}: was never created, will be planned again")
            }
            Reconciled::Gone { address } => {
                println!("  {address}: no longer exists, removed from state")
            }
            Reconciled::StillExists { address, .. } => {
                println!("  {address}: the delete did not happen, still in state")
            }
        }
    }
    for d in &diags {
        eprintln!("error: {}", d.summary);
    }
    if save && !found.is_empty() {
        state.serial += 1;
        store
            .save(state)
            .map_err(|e| format!("cannot save the reconciled state: {e}"))?;
    }
    println!();
    Ok(diags.is_empty())
}

/// The final write failed: keep the state in `errored.tfstate` and say how to push it back.
pub fn save_errored(dir: &Path, state: &State, error: &StateError) {
    let errored = dir.join("errored.tfstate");
    match state_file::write_atomically(&errored, state.to_json().as_bytes(), None) {
        Ok(()) => eprintln!(
            "error: failed to persist state: {error}\n\n\
             The state was written to {} instead. Nothing is lost: once the problem is fixed, \
             store it with:\n\n    netform state push errored.tfstate\n\n\
             Do not run apply before that: netform would not know about the resources recorded there.",
            errored.display()
        ),
        Err(e2) => eprintln!(
            "error: failed to persist state: {error}\nwriting {} failed too: {e2}\n\
             The state is printed below; save it and run `netform state push FILE`.\n{}",
            errored.display(),
            state.to_json()
        ),
    }
}

/// Tell the user that Azure throttled or failed requests that were retried.
pub fn report_retries(retries: u64) {
    if retries > 0 {
        println!(
            "\nNote: {retries} request(s) to Azure were retried (throttling, server errors or dropped connections)."
        );
    }
}

pub fn report_interrupted(
    completed: usize,
    not_started: &[ResourceAddress],
    abandoned: &[ResourceAddress],
) {
    eprintln!(
        "\nApply interrupted: {completed} operation(s) completed and saved, {} not started.",
        not_started.len()
    );
    if !abandoned.is_empty() {
        eprintln!(
            "Stopped waiting for {} running operation(s); they are recorded in the state's journal and the next run looks them up:",
            abandoned.len()
        );
        for a in abandoned {
            eprintln!("  {a}");
        }
    }
    eprintln!("Run apply again to finish.");
}

/// `netform force-unlock ID`.
pub fn force_unlock(
    dir: &Path,
    id: &str,
    force: bool,
    ask: fn(&str) -> Result<bool, String>,
) -> Result<u8, String> {
    let store = open_store(dir)?;
    let held = store.lock_info().map_err(|e| e.to_string())?;
    if let Some(h) = &held
        && h.id == id
        && !force
    {
        println!("{h}");
        if !ask(
            "Do you really want to force-unlock? netform will remove the lock; make sure no other run is using this state.",
        )? {
            println!("force-unlock cancelled.");
            return Ok(1);
        }
    }
    store
        .force_unlock(id)
        .map_err(|e| format!("failed to unlock the state: {e}"))?;
    println!("netform state has been successfully unlocked!");
    Ok(0)
}

// ---------------------------------------------------------------------------------------
// netform state …

/// What `netform state` can do.
pub enum StateCommand {
    List {
        filters: Vec<String>,
    },
    Show {
        address: String,
    },
    Mv {
        source: String,
        destination: String,
        dry_run: bool,
    },
    Rm {
        addresses: Vec<String>,
        dry_run: bool,
    },
    Pull,
    Push {
        file: std::path::PathBuf,
        force: bool,
    },
}

pub async fn state_cmd(
    dir: &Path,
    command: StateCommand,
    lock_args: &crate::LockArgs,
    provider: &dyn Provider,
) -> Result<u8, String> {
    let store = open_store(dir)?;
    match command {
        StateCommand::List { filters } => {
            let state = load(store.as_ref())?;
            for a in state.addresses() {
                let text = a.to_string();
                if filters.is_empty() || filters.iter().any(|f| matches_filter(&text, f)) {
                    println!("{text}");
                }
            }
            Ok(0)
        }
        StateCommand::Show { address } => {
            let state = load(store.as_ref())?;
            let addr = parse_address(&address)?;
            let inst = state
                .get(&addr)
                .ok_or_else(|| format!("no instance {address} in the state"))?;
            print!("{}", render_instance(&addr, inst, provider));
            Ok(0)
        }
        StateCommand::Pull => {
            let state = load(store.as_ref())?;
            print!("{}", state.to_json());
            Ok(0)
        }
        StateCommand::Mv {
            source,
            destination,
            dry_run,
        } => {
            let _lock = lock(store.clone(), "state mv", lock_args).await?;
            let mut state = load(store.as_ref())?;
            let moves = plan_move(&state, &source, &destination)?;
            for (from, to) in &moves {
                println!(
                    "{} {from} to {to}",
                    if dry_run { "Would move" } else { "Move" }
                );
            }
            if dry_run {
                return Ok(0);
            }
            for (from, to) in &moves {
                move_instance(&mut state, from, to);
            }
            state.serial += 1;
            store.save(&state).map_err(|e| e.to_string())?;
            println!("Successfully moved {} object(s).", moves.len());
            Ok(0)
        }
        StateCommand::Rm { addresses, dry_run } => {
            let _lock = lock(store.clone(), "state rm", lock_args).await?;
            let mut state = load(store.as_ref())?;
            let mut targets = Vec::new();
            for text in &addresses {
                let matched: Vec<ResourceAddress> = instances_under(&state, text)?;
                if matched.is_empty() {
                    return Err(format!("no instance {text} in the state"));
                }
                targets.extend(matched);
            }
            targets.sort();
            targets.dedup();
            refuse_pending(&state, &targets)?;
            for a in &targets {
                println!("{} {a}", if dry_run { "Would remove" } else { "Removed" });
                if !dry_run {
                    state.remove(a);
                }
            }
            if dry_run {
                return Ok(0);
            }
            state.serial += 1;
            store.save(&state).map_err(|e| e.to_string())?;
            println!(
                "Successfully removed {} resource instance(s). They still exist in Azure; netform no longer manages them.",
                targets.len()
            );
            Ok(0)
        }
        StateCommand::Push { file, force } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                s
            } else {
                let path = if file.is_absolute() {
                    file.clone()
                } else {
                    dir.join(&file)
                };
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            };
            let mut pushed = State::from_json(&text)
                .map_err(|e| format!("{}: {e}; nothing was pushed", file.display()))?;
            let _lock = lock(store.clone(), "state push", lock_args).await?;
            let current = store.load().map_err(|e| e.to_string())?;
            if let Some(current) = &current {
                check_push(current, &pushed, force)?;
                pushed.serial = pushed.serial.max(current.serial + 1);
            }
            store.save(&pushed).map_err(|e| e.to_string())?;
            println!(
                "State pushed: {} resource instance(s), serial {}.",
                pushed.addresses().count(),
                pushed.serial
            );
            Ok(0)
        }
    }
}

/// Push safety, as Terraform does it: the same lineage (the same infrastructure's history)
/// and not older than what is stored, unless forced.
pub fn check_push(current: &State, pushed: &State, force: bool) -> Result<(), String> {
    if force {
        return Ok(());
    }
    if !current.lineage.is_empty() && current.lineage != pushed.lineage {
        return Err(format!(
            "cannot push: the state has lineage {} but the file has lineage {}: they are different \
             histories (another project's state?). Pass --force to overwrite anyway.",
            current.lineage, pushed.lineage
        ));
    }
    if pushed.serial < current.serial {
        return Err(format!(
            "cannot push: the file has serial {} but the stored state is newer (serial {}). \
             Pass --force to overwrite anyway.",
            pushed.serial, current.serial
        ));
    }
    Ok(())
}

fn parse_address(text: &str) -> Result<ResourceAddress, String> {
    ResourceAddress::parse(text).ok_or_else(|| format!("\"{text}\" is not a resource address"))
}

/// `azurerm_subnet.a` matches itself and its instances; `module.hub` everything in it.
fn matches_filter(address: &str, filter: &str) -> bool {
    address == filter
        || address.starts_with(&format!("{filter}["))
        || address.starts_with(&format!("{filter}."))
}

fn instances_under(state: &State, text: &str) -> Result<Vec<ResourceAddress>, String> {
    let exact = parse_address(text).ok();
    Ok(state
        .addresses()
        .filter(|a| {
            exact.as_ref() == Some(a)
                || (exact.as_ref().is_some_and(|e| e.key.is_none())
                    && matches_filter(&a.to_string(), text))
        })
        .collect())
}

fn refuse_pending(state: &State, addrs: &[ResourceAddress]) -> Result<(), String> {
    for a in addrs {
        let text = a.to_string();
        if state.pending.iter().any(|p| p.address == text) {
            return Err(format!(
                "{text} has an interrupted operation in the journal; run plan or apply first so it is reconciled"
            ));
        }
    }
    Ok(())
}

/// Pairs (from, to): one instance, or every instance of a resource keeping their keys.
fn plan_move(
    state: &State,
    source: &str,
    destination: &str,
) -> Result<Vec<(ResourceAddress, ResourceAddress)>, String> {
    let src = parse_address(source)?;
    let dst = parse_address(destination)?;
    if src.type_name != dst.type_name {
        return Err(format!(
            "cannot move {source} to {destination}: the resource types differ"
        ));
    }
    let moves: Vec<(ResourceAddress, ResourceAddress)> = if state.get(&src).is_some() {
        vec![(src, dst)]
    } else if src.key.is_none() && dst.key.is_none() {
        state
            .addresses()
            .filter(|a| a.key.is_some() && a.clone().with_key(None) == src)
            .map(|a| {
                let to = dst.clone().with_key(a.key.clone());
                (a, to)
            })
            .collect()
    } else {
        Vec::new()
    };
    if moves.is_empty() {
        return Err(format!("no instance {source} in the state"));
    }
    for (_, to) in &moves {
        if state.get(to).is_some() {
            return Err(format!(
                "cannot move to {to}: the state already has an instance there"
            ));
        }
    }
    let froms: Vec<ResourceAddress> = moves.iter().map(|(f, _)| f.clone()).collect();
    refuse_pending(state, &froms)?;
    Ok(moves)
}

fn move_instance(state: &mut State, from: &ResourceAddress, to: &ResourceAddress) {
    let provider = state
        .resources
        .iter()
        .find(|r| netform_engine::state::resource_address(r) == from.clone().with_key(None))
        .map(|r| {
            r.provider
                .trim_start_matches("provider[\"")
                .trim_end_matches("\"]")
                .to_string()
        })
        .unwrap_or_default();
    if let Some(inst) = state.remove(from) {
        state.set(
            to,
            &provider,
            inst.attributes,
            inst.sensitive_attributes,
            inst.dependencies,
        );
    }
}

/// One instance as HCL-like text, sensitive attributes redacted: those the schema marks and
/// those state records as sensitive (values that came from sensitive variables).
pub fn render_instance(
    addr: &ResourceAddress,
    instance: &netform_engine::state::InstanceState,
    provider: &dyn Provider,
) -> String {
    use netform_engine::render;
    const HIDDEN: &str = "netform:sensitive-value:7f3c";
    let mut out = format!(
        "# {addr}:\nresource \"{}\" \"{}\" {{\n",
        addr.type_name, addr.name
    );
    let schema = provider.resource_type(&addr.type_name).map(|t| &t.schema);
    let mut attributes = instance.attributes.clone();
    for path in &instance.sensitive_attributes {
        let steps = netform_engine::state::path_steps(path);
        if let Some(slot) = steps
            .iter()
            .try_fold(&mut attributes, |v, step| match v {
                serde_json::Value::Object(m) => m.get_mut(step.as_str()),
                serde_json::Value::Array(a) => {
                    step.parse::<usize>().ok().and_then(|i| a.get_mut(i))
                }
                _ => None,
            })
            .filter(|_| !steps.is_empty())
        {
            *slot = serde_json::Value::String(HIDDEN.into());
        }
    }
    if let Some(obj) = attributes.as_object() {
        let width = obj.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in obj {
            if v.is_null()
                || v.as_array().is_some_and(Vec::is_empty)
                || v.as_object().is_some_and(|m| m.is_empty())
            {
                continue;
            }
            let sensitive = schema
                .and_then(|s| s.attributes.get(k.as_str()))
                .is_some_and(|a| a.sensitive);
            let text = if sensitive {
                "(sensitive value)".to_string()
            } else {
                render::fmt_value(&netform_engine::Value::from_json(v))
                    .replace(&format!("\"{HIDDEN}\""), "(sensitive value)")
            };
            out.push_str(&format!("    {k:<width$} = {text}\n"));
        }
    }
    out.push_str("}\n");
    out
}
