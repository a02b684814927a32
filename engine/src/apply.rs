//! Apply: walk the planned changes in dependency order, in parallel where the graph allows.
//!
//! Creates and updates wait for what they depend on; deletes wait for what depends on them.
//! A failed operation skips its dependents while independent branches finish. Operations
//! sharing a provider lock key (connections on one gateway…) never overlap. State is
//! persisted after every operation that completes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::addr::ResourceAddress;
use crate::config::Config;
use crate::decode::eval_error;
use crate::diag::{Diagnostic, DiagnosticsExt};
use crate::eval::{Scope, eval};
use crate::plan::{Action, Plan, decode_config_at, provider_diagnostic, state_values};
use crate::proposal::propose;
use crate::provider::{OpContext, PlanChangeRequest, Provider, World};
use crate::state::{PendingKind, PendingOp, State, StateStore};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

impl OpKind {
    pub fn verb(self) -> &'static str {
        match self {
            OpKind::Create => "Creating",
            OpKind::Update => "Modifying",
            OpKind::Delete => "Destroying",
        }
    }
    pub fn past(self) -> &'static str {
        match self {
            OpKind::Create => "Creation complete",
            OpKind::Update => "Modifications complete",
            OpKind::Delete => "Destruction complete",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ApplyEvent {
    Started {
        addr: ResourceAddress,
        op: OpKind,
    },
    /// A heartbeat or a message from the provider while an operation runs.
    Progress {
        addr: ResourceAddress,
        op: OpKind,
        elapsed: Duration,
        message: Option<String>,
    },
    Completed {
        addr: ResourceAddress,
        op: OpKind,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        addr: ResourceAddress,
        op: OpKind,
        error: String,
    },
    Skipped {
        addr: ResourceAddress,
        op: OpKind,
        because: ResourceAddress,
    },
    /// Waiting for something outside netform (the connectivity provider).
    Deferred {
        addr: ResourceAddress,
        reason: String,
    },
    StatePersistFailed {
        error: String,
    },
    /// An interrupt was received: nothing new starts; these operations are still running.
    Stopping {
        running: Vec<(ResourceAddress, OpKind)>,
        not_started: usize,
    },
}

/// How far an interrupted apply should go. The CLI turns signals into these; the engine
/// never reads signals itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Interrupt {
    #[default]
    None,
    /// Start nothing new; let running operations finish and record them.
    Stop,
    /// Stop waiting for running operations: their intents stay in the journal.
    Abort,
}

/// The sending side of an apply's cancellation handle.
pub type InterruptSender = tokio::sync::watch::Sender<Interrupt>;
/// The receiving side, handed to [`ApplyOptions::interrupt`].
pub type InterruptReceiver = tokio::sync::watch::Receiver<Interrupt>;

/// A cancellation handle: trigger the sender, give the receiver to the apply.
pub fn interrupt_channel() -> (InterruptSender, InterruptReceiver) {
    tokio::sync::watch::channel(Interrupt::None)
}

/// Receives progress; the CLI draws it, tests record it.
pub trait Observer: Send + Sync {
    fn on_event(&self, event: ApplyEvent);
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// How often to report that an operation is still running.
    pub heartbeat: Duration,
    /// How long a deferred change may wait for its precondition (the connectivity provider).
    pub wait_for_provider: Option<Duration>,
    /// How often a waiting deferred change re-checks its precondition.
    pub gate_poll: Duration,
    /// Cancellation: `Stop` stops scheduling, `Abort` stops waiting. `None` = never.
    pub interrupt: Option<InterruptReceiver>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            heartbeat: Duration::from_secs(10),
            wait_for_provider: None,
            gate_poll: Duration::from_secs(30),
            interrupt: None,
        }
    }
}

#[derive(Debug)]
pub struct ApplyOutcome {
    pub state: State,
    pub completed: Vec<(ResourceAddress, OpKind)>,
    /// Errors with the resource they belong to (diagnostics carry spans where there are some).
    pub errors: Vec<Diagnostic>,
    pub skipped: Vec<ResourceAddress>,
    /// Changes still waiting for a precondition, with why and what to do.
    pub deferred: Vec<(ResourceAddress, crate::provider::Deferral)>,
    /// How far the apply was interrupted (`Interrupt::None` when it ran to the end).
    pub interrupted: Interrupt,
    /// Operations never started because of an interrupt.
    pub not_started: Vec<ResourceAddress>,
    /// Operations abandoned while running (`Interrupt::Abort`): their intents are in
    /// `state.pending`, and the next run reconciles them.
    pub abandoned: Vec<ResourceAddress>,
}

impl ApplyOutcome {
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty()
            && self.skipped.is_empty()
            && self.not_started.is_empty()
            && self.abandoned.is_empty()
    }
}

struct Op {
    addr: ResourceAddress,
    kind: OpKind,
    change: usize,
}

/// How an operation ended when it did not fail.
enum Done {
    Applied,
    Deferred(crate::provider::Deferral),
}

/// Everything a running operation needs, shared between tasks.
struct Shared {
    config: Arc<Config>,
    vars: Arc<BTreeMap<String, Value>>,
    provider: Arc<dyn Provider>,
    store: Arc<dyn StateStore>,
    observer: Arc<dyn Observer>,
    state: Mutex<State>,
    /// What expressions see of every resource, kept in step with `state` one resource at a
    /// time (rebuilding it from the whole state for every operation made applies quadratic).
    values: Mutex<HashMap<ResourceAddress, Value>>,
    /// Changes not yet written (completions, journalled intents); the flusher writes them
    /// when `write_due`.
    dirty: std::sync::atomic::AtomicBool,
    /// When the last write finished and how long it took.
    last_write: Mutex<(Instant, Duration)>,
    heartbeat: Duration,
    wait_for_provider: Option<Duration>,
    gate_poll: Duration,
    interrupt: Option<InterruptReceiver>,
    /// Attributes set from sensitive values (variables, through locals and modules), by static
    /// address: recorded in state's `sensitive_attributes` so `show` never prints them.
    config_sensitive: BTreeMap<ResourceAddress, Vec<crate::provider::AttrPath>>,
}

impl Shared {
    /// State's `sensitive_attributes` for `addr`: the schema's and the configuration's.
    fn sensitive_paths(
        &self,
        addr: &ResourceAddress,
        schema: Option<&crate::schema::Schema>,
    ) -> Vec<serde_json::Value> {
        let mut paths = schema.map(|s| s.sensitive_paths()).unwrap_or_default();
        let mut key = addr.resource();
        for m in &mut key.module {
            m.key = None;
        }
        for p in self.config_sensitive.get(&key).into_iter().flatten() {
            let p = crate::state::state_path(p);
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
        paths
    }
}

/// Completed operations reach the state file within this long (longer only when a write
/// takes more than a fifth of it, see `write_due`). Journal intents are durable before their
/// request is sent: appended to the store's journal, or the whole state written at once.
const FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// What an apply works with besides the plan: the configuration (re-evaluated per resource
/// as dependencies complete), the state to start from, and where effects and progress go.
pub struct ApplyInputs {
    pub config: Arc<Config>,
    pub vars: Arc<BTreeMap<String, Value>>,
    pub state: State,
    pub provider: Arc<dyn Provider>,
    pub store: Arc<dyn StateStore>,
    pub observer: Arc<dyn Observer>,
}

/// Apply `plan` starting from `inputs.state`.
pub async fn apply(plan: &Plan, inputs: ApplyInputs, options: &ApplyOptions) -> ApplyOutcome {
    let ApplyInputs {
        config,
        vars,
        state,
        provider,
        store,
        observer,
    } = inputs;
    let (state, forgot) = crate::removed::forget(plan, state);
    let (ops, deps) = schedule(plan);
    let config_sensitive =
        crate::sensitivity::Sensitivity::analyze(&config).resource_paths(&config);
    let shared = Arc::new(Shared {
        config,
        vars,
        provider: provider.clone(),
        store,
        observer: observer.clone(),
        values: Mutex::new(state_values(&state)),
        state: Mutex::new(state),
        dirty: std::sync::atomic::AtomicBool::new(forgot),
        last_write: Mutex::new((Instant::now(), Duration::ZERO)),
        heartbeat: options.heartbeat,
        wait_for_provider: options.wait_for_provider,
        gate_poll: options.gate_poll,
        interrupt: options.interrupt.clone(),
        config_sensitive,
    });
    // Writes coalesced completions within FLUSH_INTERVAL while the walk runs.
    let flusher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_INTERVAL).await;
                flush(&shared, true);
            }
        })
    };
    let mut interrupt = options.interrupt.clone();
    let mut announced_stop = false;
    let mut not_started = Vec::new();
    let mut abandoned = Vec::new();
    let mut running_ops: HashMap<usize, (ResourceAddress, OpKind)> = HashMap::new();

    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let lock_keys: Vec<Vec<String>> = ops
        .iter()
        .map(|op| {
            let change = &plan.changes[op.change];
            let value = match op.kind {
                OpKind::Delete => change
                    .before
                    .as_ref()
                    .map(Value::from_json)
                    .unwrap_or_default(),
                _ => change.after.clone().unwrap_or_default(),
            };
            let alias = match op.kind {
                OpKind::Delete => shared
                    .state
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .provider_alias(&op.addr),
                _ => shared.config.provider_alias(&op.addr),
            };
            let mut keys = provider
                .for_alias(alias.as_deref())
                .lock_keys(&op.addr.type_name, &value);
            keys.sort();
            keys.dedup();
            keys
        })
        .collect();

    // When more operations are ready than may run, `schedule` decides which goes first:
    // critical path, or short feeders of contended lock keys first, whichever finishes
    // sooner when the walk is replayed with the expected durations; ties in address order.
    let expected: Vec<Duration> = ops
        .iter()
        .map(|op| expected_duration(provider.as_ref(), op))
        .collect();
    let (key_ids, key_count) = intern_keys(&lock_keys);
    let rank = address_ranks(&ops);
    let walk = crate::schedule::Walk {
        deps: &deps,
        dependents: &dependents,
        expected: &expected,
        keys: &key_ids,
        key_count,
        rank: &rank,
    };
    let parallelism = options.parallelism.max(1);
    let (priority, _) = crate::schedule::priorities(&walk, parallelism);
    let mut ready = crate::schedule::ReadyQueue::new(&walk, priority);
    for i in (0..ops.len()).filter(|&i| waiting[i] == 0) {
        ready.push(i);
    }
    let mut done = vec![false; ops.len()];
    let mut completed = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = Vec::new();
    let mut deferred = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut running = 0usize;

    loop {
        let level = interrupt.as_ref().map(|r| *r.borrow()).unwrap_or_default();
        if level >= Interrupt::Stop && !announced_stop {
            announced_stop = true;
            for (i, op) in ops.iter().enumerate() {
                if !done[i] && !running_ops.contains_key(&i) {
                    not_started.push(op.addr.clone());
                }
            }
            let mut running: Vec<(ResourceAddress, OpKind)> =
                running_ops.values().cloned().collect();
            running.sort_by(|a, b| a.0.cmp(&b.0));
            observer.on_event(ApplyEvent::Stopping {
                running,
                not_started: not_started.len(),
            });
            ready.clear();
        }
        if level >= Interrupt::Abort {
            let mut left: Vec<ResourceAddress> =
                running_ops.values().map(|(a, _)| a.clone()).collect();
            left.sort();
            abandoned = left;
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            break;
        }
        // Start what can start: dependencies done, a free slot, no lock held by a running op
        // (an operation whose lock is held waits parked on it, not rescanned every time).
        // (Skipped or deferred operations that were already queued are dropped here.)
        while running < parallelism
            && let Some(idx) = ready.start(|i| done[i])
        {
            running += 1;
            let shared = shared.clone();
            let change = plan.changes[ops[idx].change].clone();
            let addr = ops[idx].addr.clone();
            let kind = ops[idx].kind;
            running_ops.insert(idx, (addr.clone(), kind));
            tasks.spawn(async move {
                let result = run_op(&shared, &addr, kind, &change).await;
                (idx, result)
            });
        }
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            _ = interrupt_changed(&mut interrupt) => continue,
        };
        let Some(joined) = joined else {
            break;
        };
        running -= 1;
        let (idx, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                errors.push(Diagnostic::error(format!("an apply task panicked: {e}")));
                continue;
            }
        };
        ready.finish(idx);
        running_ops.remove(&idx);
        done[idx] = true;
        match result {
            Ok(Done::Deferred(why)) => {
                observer.on_event(ApplyEvent::Deferred {
                    addr: ops[idx].addr.clone(),
                    reason: why.reason.clone(),
                });
                deferred.push((ops[idx].addr.clone(), why.clone()));
                // Whatever depends on a deferred change waits with it.
                let mut stack = dependents[idx].clone();
                while let Some(d) = stack.pop() {
                    if done[d] {
                        continue;
                    }
                    done[d] = true;
                    let reason = format!("waits for {}", ops[idx].addr);
                    observer.on_event(ApplyEvent::Deferred {
                        addr: ops[d].addr.clone(),
                        reason: reason.clone(),
                    });
                    deferred.push((
                        ops[d].addr.clone(),
                        crate::provider::Deferral {
                            reason,
                            next_step: why.next_step.clone(),
                        },
                    ));
                    stack.extend(dependents[d].iter().copied());
                }
            }
            Ok(Done::Applied) => {
                completed.push((ops[idx].addr.clone(), ops[idx].kind));
                for &d in &dependents[idx] {
                    waiting[d] -= 1;
                    if waiting[d] == 0 && !done[d] && !announced_stop {
                        ready.push(d);
                    }
                }
            }
            Err(diags) => {
                errors.extend(diags);
                // Skip everything downstream of the failure.
                let mut stack = dependents[idx].clone();
                while let Some(d) = stack.pop() {
                    if done[d] {
                        continue;
                    }
                    done[d] = true;
                    observer.on_event(ApplyEvent::Skipped {
                        addr: ops[d].addr.clone(),
                        op: ops[d].kind,
                        because: ops[idx].addr.clone(),
                    });
                    skipped.push(ops[d].addr.clone());
                    stack.extend(dependents[d].iter().copied());
                }
            }
        }
    }

    flusher.abort();
    let _ = flusher.await;
    flush(&shared, false);
    // Outputs from the final state.
    let mut state = match Arc::try_unwrap(shared) {
        Ok(s) => s.state.into_inner().unwrap_or_else(|p| p.into_inner()),
        Err(arc) => arc
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone()),
    };
    skipped.sort();
    skipped.dedup();
    not_started.sort();
    not_started.dedup();
    let interrupted = interrupt.as_ref().map(|r| *r.borrow()).unwrap_or_default();
    ApplyOutcome {
        state: std::mem::replace(&mut state, State::new(String::new())),
        completed,
        errors,
        skipped,
        deferred,
        interrupted,
        not_started,
        abandoned,
    }
}

/// Resolves when the interrupt level changes; never when there is no handle (or it is gone).
async fn interrupt_changed(rx: &mut Option<InterruptReceiver>) {
    match rx {
        Some(r) => {
            if r.changed().await.is_err() {
                *rx = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// Expected duration of an operation whose provider gives none.
const DEFAULT_EXPECTED: Duration = Duration::from_secs(10);

/// What the walker expects an operation to take: the provider's figure, a small default, or
/// next to nothing for the engine's own `terraform_data`.
fn expected_duration(provider: &dyn Provider, op: &Op) -> Duration {
    if crate::builtin::is_builtin(&op.addr.type_name) {
        return Duration::from_millis(1);
    }
    provider
        .expected_duration(&op.addr.type_name, op.kind)
        .unwrap_or(DEFAULT_EXPECTED)
}

/// Lock keys as small integers (first seen, first numbered), and how many there are.
fn intern_keys(keys: &[Vec<String>]) -> (Vec<Vec<usize>>, usize) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let interned = keys
        .iter()
        .map(|ks| {
            ks.iter()
                .map(|k| {
                    let next = ids.len();
                    *ids.entry(k.as_str()).or_insert(next)
                })
                .collect()
        })
        .collect();
    (interned, ids.len())
}

/// Position of each operation in address order (then kind): the walker's tie-break.
fn address_ranks(ops: &[Op]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|a, b| {
        ops[*a]
            .addr
            .cmp(&ops[*b].addr)
            .then((ops[*a].kind as u8).cmp(&(ops[*b].kind as u8)))
    });
    let mut rank = vec![0; ops.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    rank
}

/// Evaluate outputs against `state` and record them in it.
pub fn record_outputs(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    state: &mut State,
) -> Vec<Diagnostic> {
    let values = state_values(state);
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let mut diags = Vec::new();
    state.outputs.clear();
    let extra = crate::plan::root_extra(config, vars, &values);
    for o in config.outputs.values() {
        let mut scope = Scope::new(o.file, vars, &config.locals, &values, &declared, ".")
            .with_files(config.file_source());
        scope.extra = extra.clone();
        match eval(&o.expr, &mut scope) {
            Ok(v) if !v.contains_unknown() => {
                state.outputs.insert(
                    o.name.clone(),
                    crate::state::OutputState {
                        value: v.to_json(),
                        ty: serde_json::json!(v.type_name()),
                        sensitive: o.sensitive,
                    },
                );
            }
            Ok(_) => {}
            Err(e) => diags.push(eval_error(e)),
        }
    }
    diags
}

/// Operations and, for each, the operations it must wait for.
fn schedule(plan: &Plan) -> (Vec<Op>, Vec<Vec<usize>>) {
    let mut ops = Vec::new();
    let mut create_of: HashMap<&ResourceAddress, usize> = HashMap::new();
    let mut delete_of: HashMap<&ResourceAddress, usize> = HashMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let kinds: &[OpKind] = match c.action {
            Action::NoOp | Action::Forget => &[],
            Action::Create => &[OpKind::Create],
            Action::Update => &[OpKind::Update],
            Action::Delete => &[OpKind::Delete],
            Action::DeleteThenCreate => &[OpKind::Delete, OpKind::Create],
            Action::CreateThenDelete => &[OpKind::Create, OpKind::Delete],
        };
        for &kind in kinds {
            let idx = ops.len();
            ops.push(Op {
                addr: c.addr.clone(),
                kind,
                change: i,
            });
            match kind {
                OpKind::Delete => delete_of.insert(&c.addr, idx),
                _ => create_of.insert(&c.addr, idx),
            };
        }
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    // Who depends on each address, built once: scanning every change for each delete made
    // destroying a large estate quadratic.
    let mut dependents_of: HashMap<&ResourceAddress, Vec<&crate::plan::PlannedChange>> =
        HashMap::new();
    for c in &plan.changes {
        for d in &c.dependencies {
            dependents_of.entry(d).or_default().push(c);
        }
    }
    for (i, op) in ops.iter().enumerate() {
        let change = &plan.changes[op.change];
        match op.kind {
            OpKind::Create | OpKind::Update => {
                for d in &change.dependencies {
                    if let Some(&j) = create_of.get(d) {
                        deps[i].push(j);
                    }
                }
                if change.action == Action::DeleteThenCreate
                    && let Some(&j) = delete_of.get(&change.addr)
                {
                    deps[i].push(j);
                }
            }
            OpKind::Delete => {
                // Wait for every delete of something that depends on this object, and for
                // updates of dependents that may drop their reference to it.
                for other in dependents_of.get(&change.addr).into_iter().flatten() {
                    if let Some(&j) = delete_of.get(&other.addr) {
                        deps[i].push(j);
                    } else if other.action == Action::Update
                        && let Some(&j) = create_of.get(&other.addr)
                    {
                        deps[i].push(j);
                    }
                }
                if change.action == Action::CreateThenDelete
                    && let Some(&j) = create_of.get(&change.addr)
                {
                    deps[i].push(j);
                }
            }
        }
        deps[i].sort_unstable();
        deps[i].dedup();
        deps[i].retain(|&j| j != i);
    }
    (ops, deps)
}

async fn run_op(
    shared: &Shared,
    addr: &ResourceAddress,
    kind: OpKind,
    change: &crate::plan::PlannedChange,
) -> Result<Done, Vec<Diagnostic>> {
    if crate::builtin::is_builtin(&addr.type_name) {
        return run_builtin(shared, addr, kind, change);
    }
    // The provider configuration the object belongs to: a delete goes where state recorded
    // it, a create or update where the configuration says (`provider = azurerm.ALIAS`).
    let alias = match kind {
        OpKind::Delete => shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .provider_alias(addr),
        _ => shared.config.provider_alias(addr),
    };
    let provider = shared.provider.for_alias(alias.as_deref());
    let provider_address =
        crate::state::aliased_provider_address(provider.name(), alias.as_deref());
    let Some(rt) = provider.resource_type(&addr.type_name) else {
        return Err(vec![Diagnostic::error(format!(
            "{addr}: unsupported resource type"
        ))]);
    };
    let started = Instant::now();
    let gated = change.deferred.is_some() && kind != OpKind::Delete;
    if !gated {
        shared.observer.on_event(ApplyEvent::Started {
            addr: addr.clone(),
            op: kind,
        });
    }
    // A `timeouts {}` block in the resource overrides the provider's defaults.
    let custom = shared
        .config
        .resource(&addr.resource())
        .map(|rc| crate::timeouts::overrides(rc).0)
        .unwrap_or_default();
    let timeout = match kind {
        OpKind::Create => custom.create.unwrap_or(rt.timeouts.create),
        OpKind::Update => custom.update.unwrap_or(rt.timeouts.update),
        OpKind::Delete => custom.delete.unwrap_or(rt.timeouts.delete),
    };
    let observer = shared.observer.clone();
    let progress_addr = addr.clone();
    let ctx = OpContext {
        timeout,
        progress: Arc::new(move |message: String| {
            observer.on_event(ApplyEvent::Progress {
                addr: progress_addr.clone(),
                op: kind,
                elapsed: started.elapsed(),
                message: Some(message),
            })
        }),
    };

    let fail = |error: String, code: Option<String>| {
        shared.observer.on_event(ApplyEvent::Failed {
            addr: addr.clone(),
            op: kind,
            error: error.clone(),
        });
        let mut d = Diagnostic::error(format!(
            "{addr}: {} failed: {error}",
            kind.verb().to_lowercase()
        ));
        let span = shared.config.resource(addr).map(|r| r.span.clone());
        d = d.label(span, "while applying this resource");
        if let Some(code) = code {
            d = d.code(code);
        }
        vec![d]
    };

    match kind {
        OpKind::Delete => {
            let Some(prior) = change.before.as_ref() else {
                return Ok(Done::Applied);
            };
            let sensitive = shared
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(addr)
                .map(|i| i.sensitive_attributes.clone())
                .unwrap_or_default();
            journal(
                shared,
                PendingOp {
                    address: addr.to_string(),
                    operation: PendingKind::Delete,
                    id: prior.get("id").and_then(|v| v.as_str()).map(str::to_string),
                    provider: provider_address.clone(),
                    attributes: prior.clone(),
                    sensitive_attributes: sensitive,
                    dependencies: change
                        .dependencies
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                },
            );
            let fut = provider.delete(&addr.type_name, prior, &ctx);
            match with_heartbeat(shared, addr, kind, started, fut).await {
                Ok(()) => {
                    persist(shared, Some(addr), |s| {
                        s.remove(addr);
                        s.clear_pending(addr);
                    });
                    shared.observer.on_event(ApplyEvent::Completed {
                        addr: addr.clone(),
                        op: kind,
                        elapsed: started.elapsed(),
                        id: None,
                    });
                    Ok(Done::Applied)
                }
                Err(e) => {
                    settle_failed(shared, addr, &e);
                    Err(fail(e.message, e.code))
                }
            }
        }
        OpKind::Create | OpKind::Update => {
            // A deferred change re-checks its precondition against fresh reads of what it
            // depends on, and waits for it when asked to.
            // A gated change announces itself once its precondition holds, just before the request.
            let announced = !gated;
            loop {
                if gated {
                    refresh_dependencies(shared, change).await;
                }
                // Re-evaluate the configuration now that dependencies have their final values.
                let prior = match kind {
                    OpKind::Update => {
                        let state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                        state.get(addr).map(|i| i.attributes.clone())
                    }
                    _ => None,
                };
                // The values guard must not live across an await: evaluate in a block.
                let (decoded, response) = {
                    let values = shared.values.lock().unwrap_or_else(|p| p.into_inner());
                    let mut diags = Vec::new();
                    let Some(decoded) = decode_config_at(
                        &shared.config,
                        addr,
                        &rt.schema,
                        &shared.vars,
                        &values,
                        Some(&crate::eval::ApplyTime::now()),
                        &mut diags,
                    ) else {
                        return Err(vec![Diagnostic::error(format!(
                            "{addr}: no longer in the configuration"
                        ))]);
                    };
                    if diags.has_errors() {
                        return Err(diags.into_iter().filter(|d| d.is_error()).collect());
                    }
                    let (proposed, replace) = propose(&rt.schema, prior.as_ref(), &decoded.value);
                    let world = StateWorld::new(&values, provider);
                    let response = provider.plan_change(PlanChangeRequest {
                        type_name: &addr.type_name,
                        prior: prior.as_ref(),
                        config: &decoded.value,
                        proposed,
                        replace,
                        world: &world,
                    });
                    (decoded, response)
                };
                let errs: Vec<Diagnostic> = response
                    .diagnostics
                    .into_iter()
                    .filter(|d| d.severity == crate::provider::Severity::Error)
                    .map(|d| {
                        provider_diagnostic(
                            addr,
                            Some(&decoded),
                            shared.config.resource(addr).map(|r| r.span.clone()),
                            d,
                        )
                    })
                    .collect();
                if !errs.is_empty() {
                    return Err(errs);
                }
                if let Some(why) = response.deferred {
                    let stopping = shared
                        .interrupt
                        .as_ref()
                        .is_some_and(|r| *r.borrow() >= Interrupt::Stop);
                    match shared.wait_for_provider {
                        Some(limit) if started.elapsed() < limit && !stopping => {
                            shared.observer.on_event(ApplyEvent::Progress {
                                addr: addr.clone(),
                                op: kind,
                                elapsed: started.elapsed(),
                                message: Some(format!("waiting: {}", why.reason)),
                            });
                            let mut interrupt = shared.interrupt.clone();
                            tokio::select! {
                                _ = tokio::time::sleep(
                                    shared
                                        .gate_poll
                                        .min(limit.saturating_sub(started.elapsed())),
                                ) => {}
                                _ = interrupt_changed(&mut interrupt) => {}
                            }
                            continue;
                        }
                        _ => return Ok(Done::Deferred(why)),
                    }
                }
                if !announced {
                    shared.observer.on_event(ApplyEvent::Started {
                        addr: addr.clone(),
                        op: kind,
                    });
                }
                let planned = response.planned;
                let sensitive = shared.sensitive_paths(addr, Some(&rt.schema));
                let deps: Vec<String> = change
                    .dependencies
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                // The intent goes to state before the request does: if this process dies
                // now, the next run finds the object by its id.
                journal(
                    shared,
                    PendingOp {
                        address: addr.to_string(),
                        operation: if kind == OpKind::Update && prior.is_some() {
                            PendingKind::Update
                        } else {
                            PendingKind::Create
                        },
                        id: provider.object_id(&addr.type_name, &planned).or_else(|| {
                            prior
                                .as_ref()
                                .and_then(|p| p.get("id"))
                                .and_then(|v| v.as_str())
                                .map(str::to_string)
                        }),
                        provider: provider_address.clone(),
                        attributes: planned.to_json(),
                        sensitive_attributes: sensitive.clone(),
                        dependencies: deps.clone(),
                    },
                );
                let result = match (kind, prior.as_ref()) {
                    (OpKind::Update, Some(p)) => {
                        with_heartbeat(
                            shared,
                            addr,
                            kind,
                            started,
                            provider.update(&addr.type_name, p, &planned, &ctx),
                        )
                        .await
                    }
                    _ => {
                        with_heartbeat(
                            shared,
                            addr,
                            kind,
                            started,
                            provider.create(&addr.type_name, &planned, &ctx),
                        )
                        .await
                    }
                };
                match result {
                    Ok(attrs) => {
                        let id = attrs.get("id").and_then(|v| v.as_str()).map(str::to_string);
                        let applied = Value::from_json(&attrs);
                        persist(shared, Some(addr), |s| {
                            s.set(addr, &provider_address, attrs, sensitive, deps);
                            s.clear_pending(addr);
                        });
                        shared.observer.on_event(ApplyEvent::Completed {
                            addr: addr.clone(),
                            op: kind,
                            elapsed: started.elapsed(),
                            id,
                        });
                        // The object exists and stays in state; a failed postcondition stops
                        // what depends on it, as in Terraform.
                        let failed = {
                            let values = shared.values.lock().unwrap_or_else(|p| p.into_inner());
                            crate::plan::check_postconditions(
                                &shared.config,
                                addr,
                                &shared.vars,
                                &values,
                                applied,
                            )
                        };
                        if failed.iter().any(Diagnostic::is_error) {
                            return Err(failed);
                        }
                        return Ok(Done::Applied);
                    }
                    Err(e) => {
                        settle_failed(shared, addr, &e);
                        return Err(fail(e.message, e.code));
                    }
                }
            }
        }
    }
}

/// Record an intent durably before its request is sent: appended to the store's journal
/// where it has one (one small write, so an apply stays linear however large the state),
/// else the whole state is written at once.
fn journal(shared: &Shared, op: PendingOp) {
    // Under the state lock, so a concurrent full save (which empties the store's journal)
    // either includes this intent or comes after its append.
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    state.add_pending(op.clone());
    state.serial += 1;
    let appended = shared.store.append_pending(&op).unwrap_or_else(|e| {
        shared.observer.on_event(ApplyEvent::StatePersistFailed {
            error: e.to_string(),
        });
        false
    });
    if appended {
        shared
            .dirty
            .store(true, std::sync::atomic::Ordering::SeqCst);
    } else {
        write_state(shared, &state);
    }
}

/// After a failed operation: a request the cloud refused outright changed nothing, so its
/// intent is dropped. Any other failure (timeout, connection lost, operation failed) may have
/// left an object behind: the intent stays for the next run to reconcile.
fn settle_failed(shared: &Shared, addr: &ResourceAddress, e: &crate::provider::ProviderError) {
    use crate::provider::ErrorKind;
    if matches!(
        e.kind,
        ErrorKind::Invalid | ErrorKind::Auth | ErrorKind::NotFound
    ) {
        persist(shared, None, |s| {
            s.clear_pending(addr);
        });
    }
}

/// What reconciling one journalled intent found.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// The object exists: recorded in state (an interrupted create or update that went through).
    Adopted { address: String, id: Option<String> },
    /// A create that never reached the cloud: the plan will create it again.
    NotCreated { address: String },
    /// The object is gone: a delete that completed (or an object deleted by someone else).
    Gone { address: String },
    /// A delete that did not happen: the object is still there and stays in state.
    StillExists { address: String, id: Option<String> },
}

impl Reconciled {
    pub fn address(&self) -> &str {
        match self {
            Reconciled::Adopted { address, .. }
            | Reconciled::NotCreated { address }
            | Reconciled::Gone { address }
            | Reconciled::StillExists { address, .. } => address,
        }
    }
}

/// Resolve the intents an interrupted run left in `state.pending` by reading each object by
/// its id. Resolved intents leave the journal; one that cannot be read (the cloud is
/// unreachable) stays and is reported as an error. Does not persist: the caller saves.
/// An object still mid-operation (the interrupted request is running in the cloud) is waited
/// for (`Provider::wait_settled`, with `progress` told why) before it is recorded.
pub async fn reconcile_pending(
    state: &mut State,
    provider: &dyn Provider,
    progress: crate::provider::ProgressSink,
) -> (Vec<Reconciled>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut diags = Vec::new();
    let pending = std::mem::take(&mut state.pending);
    for p in pending {
        let Some(addr) = ResourceAddress::parse(&p.address) else {
            diags.push(Diagnostic::error(format!(
                "the state's pending-operation journal has an invalid address \"{}\"",
                p.address
            )));
            state.pending.push(p);
            continue;
        };
        let mut prior = p.attributes.clone();
        if let (Some(id), Some(obj)) = (&p.id, prior.as_object_mut()) {
            obj.insert("id".into(), serde_json::Value::String(id.clone()));
        }
        let provider = provider.for_alias(
            crate::state::provider_alias_in(&crate::state::provider_address(&p.provider))
                .as_deref(),
        );
        let timeout = provider
            .resource_type(&addr.type_name)
            .map(|t| match p.operation {
                PendingKind::Create => t.timeouts.create,
                PendingKind::Update => t.timeouts.update,
                PendingKind::Delete => t.timeouts.delete,
            })
            .unwrap_or(Duration::from_secs(3600));
        let sink = progress.clone();
        let label = p.address.clone();
        let ctx = OpContext {
            timeout,
            progress: Arc::new(move |m: String| sink(format!("{label}: {m}"))),
        };
        let mut read = provider.read(&addr.type_name, &prior).await;
        if let Ok(Some(found)) = &read {
            read = match provider.wait_settled(&addr.type_name, found, &ctx).await {
                Ok(()) => provider.read(&addr.type_name, found).await,
                Err(e) => Err(e),
            };
        }
        match read {
            Ok(Some(attrs)) => {
                let id = attrs.get("id").and_then(|v| v.as_str()).map(str::to_string);
                match p.operation {
                    PendingKind::Create | PendingKind::Update => {
                        state.set(
                            &addr,
                            &p.provider,
                            attrs,
                            p.sensitive_attributes.clone(),
                            p.dependencies.clone(),
                        );
                        found.push(Reconciled::Adopted {
                            address: p.address.clone(),
                            id,
                        });
                    }
                    PendingKind::Delete => {
                        if state.get(&addr).is_none() {
                            state.set(
                                &addr,
                                &p.provider,
                                attrs,
                                p.sensitive_attributes.clone(),
                                p.dependencies.clone(),
                            );
                        }
                        found.push(Reconciled::StillExists {
                            address: p.address.clone(),
                            id,
                        });
                    }
                }
            }
            Ok(None) => match p.operation {
                PendingKind::Create => found.push(Reconciled::NotCreated {
                    address: p.address.clone(),
                }),
                PendingKind::Update | PendingKind::Delete => {
                    state.remove(&addr);
                    found.push(Reconciled::Gone {
                        address: p.address.clone(),
                    });
                }
            },
            Err(e) => {
                diags.push(Diagnostic::error(format!(
                    "cannot reconcile the interrupted {} of {}: {}",
                    match p.operation {
                        PendingKind::Create => "create",
                        PendingKind::Update => "update",
                        PendingKind::Delete => "delete",
                    },
                    p.address,
                    e.message
                )));
                state.pending.push(p);
            }
        }
    }
    (found, diags)
}

/// A built-in resource (`terraform_data`): no provider, no network; state only.
fn run_builtin(
    shared: &Shared,
    addr: &ResourceAddress,
    kind: OpKind,
    change: &crate::plan::PlannedChange,
) -> Result<Done, Vec<Diagnostic>> {
    let started = Instant::now();
    shared.observer.on_event(ApplyEvent::Started {
        addr: addr.clone(),
        op: kind,
    });
    let mut id = None;
    if kind == OpKind::Delete {
        persist(shared, Some(addr), |s| {
            s.remove(addr);
        });
    } else {
        let prior = match kind {
            OpKind::Update => {
                let state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                state.get(addr).map(|i| i.attributes.clone())
            }
            _ => None,
        };
        let mut diags = Vec::new();
        let value = {
            let values = shared.values.lock().unwrap_or_else(|p| p.into_inner());
            let now = crate::eval::ApplyTime::now();
            crate::plan::builtin_value(
                &shared.config,
                addr,
                &shared.vars,
                &values,
                Some(&now),
                &mut diags,
            )
        };
        let Some(value) = value.filter(|_| !diags.has_errors()) else {
            return Err(diags.into_iter().filter(|d| d.is_error()).collect());
        };
        let attrs = crate::builtin::apply(&value, prior.as_ref());
        id = attrs.get("id").and_then(|v| v.as_str()).map(str::to_string);
        let deps: Vec<String> = change
            .dependencies
            .iter()
            .map(ToString::to_string)
            .collect();
        persist(shared, Some(addr), |s| {
            s.set(
                addr,
                crate::builtin::PROVIDER,
                attrs,
                shared.sensitive_paths(addr, None),
                deps,
            )
        });
    }
    shared.observer.on_event(ApplyEvent::Completed {
        addr: addr.clone(),
        op: kind,
        elapsed: started.elapsed(),
        id,
    });
    Ok(Done::Applied)
}

/// Read the current attributes of everything `change` depends on into state.
async fn refresh_dependencies(shared: &Shared, change: &crate::plan::PlannedChange) {
    for dep in &change.dependencies {
        let prior = {
            let state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            state.get(dep).map(|i| i.attributes.clone())
        };
        let Some(prior) = prior else { continue };
        let alias = shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .provider_alias(dep);
        if let Ok(Some(fresh)) = shared
            .provider
            .for_alias(alias.as_deref())
            .read(&dep.type_name, &prior)
            .await
            && fresh != prior
        {
            persist(shared, Some(dep), |s| {
                if let Some(inst) = s.get(dep).cloned() {
                    s.set(
                        dep,
                        shared.provider.name(),
                        fresh,
                        inst.sensitive_attributes,
                        inst.dependencies,
                    );
                }
            });
        }
    }
}

/// Await `fut`, reporting a heartbeat while it runs.
async fn with_heartbeat<T>(
    shared: &Shared,
    addr: &ResourceAddress,
    kind: OpKind,
    started: Instant,
    fut: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(fut);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.heartbeat,
        shared.heartbeat,
    );
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = ticker.tick() => shared.observer.on_event(ApplyEvent::Progress {
                addr: addr.clone(), op: kind, elapsed: started.elapsed(), message: None,
            }),
        }
    }
}

/// Change the state for a completed operation. The change reaches the file at once when the
/// last write is older than `FLUSH_INTERVAL`, otherwise with the flusher's next write — so a
/// burst of fast operations costs a few writes, not one full-state write each.
fn persist(shared: &Shared, addr: Option<&ResourceAddress>, change: impl FnOnce(&mut State)) {
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    change(&mut state);
    state.serial += 1;
    if let Some(addr) = addr {
        let mut values = shared.values.lock().unwrap_or_else(|p| p.into_inner());
        let resource = addr.resource();
        match state
            .resource_state(&resource)
            .and_then(crate::plan::resource_value)
        {
            Some(v) => values.insert(resource, v),
            None => values.remove(&resource),
        };
    }
    if write_due(shared) {
        write_state(shared, &state);
    } else {
        shared
            .dirty
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether a coalesced write may go now: `FLUSH_INTERVAL` after the last one, or four times
/// as long as the last one took, whichever is later. Writing a large state costs time in
/// proportion to its size; spacing the writes by their cost keeps them under a fifth of the
/// apply's time, so the total stays linear in the number of operations.
fn write_due(shared: &Shared) -> bool {
    shared
        .last_write
        .lock()
        .map(|w| w.0.elapsed() >= FLUSH_INTERVAL.max(w.1 * 4))
        .unwrap_or(true)
}

/// Write `state` (held locked by the caller); a failed write is reported, the in-memory state kept.
fn write_state(shared: &Shared, state: &State) {
    shared
        .dirty
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let started = Instant::now();
    if let Err(e) = shared.store.save(state) {
        shared.observer.on_event(ApplyEvent::StatePersistFailed {
            error: e.to_string(),
        });
    }
    if let Ok(mut w) = shared.last_write.lock() {
        *w = (Instant::now(), started.elapsed());
    }
}

/// Write pending changes, if any (`only_if_due`: and if the interval has passed).
fn flush(shared: &Shared, only_if_due: bool) {
    if shared.dirty.load(std::sync::atomic::Ordering::SeqCst) && (!only_if_due || write_due(shared))
    {
        let state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        write_state(shared, &state);
    }
}

/// The world as current state shows it, for plan_change at apply time. Lookups scan the
/// values only when a provider asks (the circuit gate), so building it costs nothing.
struct StateWorld<'a> {
    values: &'a HashMap<ResourceAddress, Value>,
    provider: &'a dyn Provider,
    found: std::sync::OnceLock<HashMap<String, (String, Value, serde_json::Value)>>,
}

impl<'a> StateWorld<'a> {
    fn new(values: &'a HashMap<ResourceAddress, Value>, provider: &'a dyn Provider) -> Self {
        StateWorld {
            values,
            provider,
            found: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> &HashMap<String, (String, Value, serde_json::Value)> {
        self.found.get_or_init(|| {
            let mut out = HashMap::new();
            for (addr, v) in self.values {
                let id = v
                    .get("id")
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| self.provider.object_id(&addr.type_name, v));
                if let Some(id) = id {
                    out.insert(
                        id.to_ascii_lowercase(),
                        (addr.type_name.clone(), v.clone(), v.to_json()),
                    );
                }
            }
            out
        })
    }
}

impl World for StateWorld<'_> {
    fn prior_by_id(&self, id: &str) -> Option<&serde_json::Value> {
        self.index()
            .get(&id.to_ascii_lowercase())
            .map(|(_, _, j)| j)
    }
    fn planned_by_id(&self, id: &str) -> Option<(&str, &Value)> {
        self.index()
            .get(&id.to_ascii_lowercase())
            .map(|(t, v, _)| (t.as_str(), v))
    }
}
