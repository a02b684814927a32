//! Refresh and plan: compare the desired configuration with refreshed state.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::addr::{InstanceKey, ModuleStep, ResourceAddress};
use crate::config::Config;
use crate::decode::{Decoded, decode_resource, eval_error};
use crate::diag::{Diagnostic, DiagnosticsExt, Span, did_you_mean};
use crate::eval::{Scope, eval};
use crate::graph::DependencyGraph;
use crate::proposal::{propose, values_equal};
use crate::provider::{
    Deferral, PlanChangeRequest, Provider, ReplaceCause, ResourceView, Severity, World,
};
use crate::schema::Schema;
use crate::state::State;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
    /// Drop the object from state and leave it in the cloud (`removed` with `destroy = false`).
    Forget,
}

impl Action {
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
    /// Terraform's `change.actions` array.
    pub fn terraform_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
            Action::Forget => &["forget"],
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedChange {
    pub addr: ResourceAddress,
    pub action: Action,
    /// Refreshed prior attributes.
    pub before: Option<serde_json::Value>,
    /// Planned attributes (may hold unknowns); `None` for a delete.
    pub after: Option<Value>,
    pub replace: Vec<ReplaceCause>,
    /// Resources this one depends on (from config for creates/updates, from state for deletes).
    pub dependencies: Vec<ResourceAddress>,
    pub deferred: Option<Deferral>,
    /// Why the change happens, in Terraform's vocabulary (`delete_because_no_resource_config`…).
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// Sorted by address.
    pub changes: Vec<PlannedChange>,
    pub outputs: BTreeMap<String, PlannedOutput>,
    pub prior_lineage: Option<String>,
    pub prior_serial: u64,
    pub destroy: bool,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub struct PlannedOutput {
    pub value: Value,
    pub sensitive: bool,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Changes waiting for a precondition outside netform.
    pub fn deferred_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.deferred.is_some() && c.action != Action::NoOp)
            .count()
    }

    /// (add, change, destroy) as Terraform counts them.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut add = 0;
        let mut change = 0;
        let mut destroy = 0;
        for c in self.changes.iter().filter(|c| c.deferred.is_none()) {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1;
                }
                Action::NoOp | Action::Forget => {}
            }
        }
        (add, change, destroy)
    }

    /// Objects the plan forgets (`removed` blocks with `destroy = false`).
    pub fn forget_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Forget)
            .count()
    }
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
}

/// Read every resource in `state` from the cloud, `parallelism` at a time. Objects that are
/// gone are dropped from the returned state.
pub async fn refresh(
    state: &State,
    provider: Arc<dyn Provider>,
    parallelism: usize,
) -> (State, Vec<Diagnostic>) {
    let mut refreshed = state.clone();
    let mut diags = Vec::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(parallelism.max(1)));
    // What to refresh, and the listable collections (provider configuration, type, scope)
    // that hold enough of it to be listed instead of read one by one.
    let mut objects: Vec<(ResourceAddress, Option<String>, serde_json::Value)> = Vec::new();
    let mut scopes: BTreeMap<(Option<String>, String, String), Vec<usize>> = BTreeMap::new();
    for addr in state.addresses() {
        let Some(inst) = state.get(&addr) else {
            continue;
        };
        if addr.mode == crate::addr::Mode::Data || crate::builtin::is_builtin(&addr.type_name) {
            continue;
        }
        let alias = state.provider_alias(&addr);
        if let Some(scope) = provider
            .for_alias(alias.as_deref())
            .list_scope(&addr.type_name, &inst.attributes)
        {
            scopes
                .entry((alias.clone(), addr.type_name.clone(), scope))
                .or_default()
                .push(objects.len());
        }
        objects.push((addr, alias, inst.attributes.clone()));
    }
    let mut results: Vec<
        Option<Result<Option<serde_json::Value>, crate::provider::ProviderError>>,
    > = (0..objects.len()).map(|_| None).collect();

    // Listings first: one request per page for a whole collection. What a listing does not
    // show (or a listing that fails) is read by id below.
    let mut tasks = tokio::task::JoinSet::new();
    for ((alias, type_name, scope), members) in scopes {
        if members.len() < LIST_AT_LEAST {
            continue;
        }
        let priors: Vec<serde_json::Value> =
            members.iter().map(|&i| objects[i].2.clone()).collect();
        let provider = provider.clone();
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let listed = provider
                .for_alias(alias.as_deref())
                .read_listed(&type_name, &scope, &priors)
                .await;
            (members, listed)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((members, Ok(found))) if found.len() == members.len() => {
                for (i, f) in members.into_iter().zip(found) {
                    results[i] = f.map(|attrs| Ok(Some(attrs)));
                }
            }
            Ok(_) => {}
            Err(e) => diags.push(Diagnostic::error(format!("refresh task failed: {e}"))),
        }
    }

    let mut tasks = tokio::task::JoinSet::new();
    for (i, (addr, alias, attrs)) in objects.iter().enumerate() {
        if results[i].is_some() {
            continue;
        }
        let (type_name, alias, attrs) = (addr.type_name.clone(), alias.clone(), attrs.clone());
        let provider = provider.clone();
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let result = provider
                .for_alias(alias.as_deref())
                .read(&type_name, &attrs)
                .await;
            (i, result)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) => diags.push(Diagnostic::error(format!("refresh task failed: {e}"))),
        }
    }
    // In address order, so diagnostics come out deterministically.
    let mut done: Vec<_> = objects
        .into_iter()
        .zip(results)
        .filter_map(|((addr, _, _), r)| Some((addr, r?)))
        .collect();
    done.sort_by(|a, b| a.0.cmp(&b.0));
    for (addr, result) in done {
        match result {
            Ok(Some(attrs)) => {
                let deps = refreshed
                    .get(&addr)
                    .map(|i| i.dependencies.clone())
                    .unwrap_or_default();
                let sens = refreshed
                    .get(&addr)
                    .map(|i| i.sensitive_attributes.clone())
                    .unwrap_or_default();
                refreshed.set(&addr, provider.name(), attrs, sens, deps);
            }
            Ok(None) => {
                refreshed.remove(&addr);
            }
            Err(e) => diags.push(
                Diagnostic::error(format!("Error refreshing {addr}: {}", e.message))
                    .code(e.code.clone().unwrap_or_else(|| "netform::refresh".into())),
            ),
        }
    }
    (refreshed, diags)
}

/// Objects of one type in one collection that refresh lists instead of reading one by one:
/// below this, a listing may fetch more unmanaged objects than it saves requests.
const LIST_AT_LEAST: usize = 8;

struct PlanWorld {
    prior: HashMap<String, serde_json::Value>,
    planned: HashMap<String, (String, Value)>,
}

impl World for PlanWorld {
    fn prior_by_id(&self, id: &str) -> Option<&serde_json::Value> {
        self.prior.get(&id.to_ascii_lowercase())
    }
    fn planned_by_id(&self, id: &str) -> Option<(&str, &Value)> {
        self.planned
            .get(&id.to_ascii_lowercase())
            .map(|(t, v)| (t.as_str(), v))
    }
}

/// Resource values as expressions see them, from state (`attributes` → `Value`), keyed by
/// resource address: a resource with `count` is a list of its instances, one with
/// `for_each` a map by key.
pub fn state_values(state: &State) -> HashMap<ResourceAddress, Value> {
    state
        .resources
        .iter()
        .filter_map(|r| resource_value(r).map(|v| (crate::state::resource_address(r), v)))
        .collect()
}

/// The value expressions see for one resource in state: its object, or a list (`count`) or
/// map (`for_each`) of its instances' objects.
pub fn resource_value(r: &crate::state::ResourceState) -> Option<Value> {
    Some(match r.each.as_deref() {
        Some("list") => {
            let mut items: Vec<(i64, Value)> = r
                .instances
                .iter()
                .filter_map(|i| {
                    let k = i.index_key.as_ref().and_then(|k| k.as_i64())?;
                    Some((k, Value::from_json(&i.attributes)))
                })
                .collect();
            items.sort_by_key(|(k, _)| *k);
            Value::List(items.into_iter().map(|(_, v)| v).collect())
        }
        Some("map") => Value::Object(
            r.instances
                .iter()
                .filter_map(|i| {
                    let k = i.index_key.as_ref().and_then(|k| k.as_str())?;
                    Some((k.to_string(), Value::from_json(&i.attributes)))
                })
                .collect(),
        ),
        _ => Value::from_json(&r.instances.first()?.attributes),
    })
}

/// Apply the configuration's `moved` blocks to `state`: objects recorded at a `from` address
/// are recorded at the `to` address instead (nothing changes in the cloud). A resource
/// address without a key moves every instance, keeping its key.
pub fn apply_moved(config: &Config, mut state: State, diags: &mut Vec<Diagnostic>) -> State {
    for m in &config.moved {
        let matching: Vec<ResourceAddress> = state
            .addresses()
            .filter(|a| {
                a.module == m.from.module
                    && a.mode == m.from.mode
                    && a.type_name == m.from.type_name
                    && a.name == m.from.name
                    && (m.from.key.is_none() || a.key == m.from.key)
            })
            .collect();
        for old in matching {
            let mut new = m.to.clone();
            if m.from.key.is_none() && new.key.is_none() {
                new.key = old.key.clone();
            }
            if state.get(&new).is_some() {
                diags.push(
                    Diagnostic::warning(format!(
                        "Cannot move {old} to {new}: {new} is already in the state"
                    ))
                    .label(Some(m.span.clone()), "this moved block is ignored for it")
                    .code("netform::moved"),
                );
                continue;
            }
            let provider = state
                .resources
                .iter()
                .find(|r| crate::state::resource_address(r) == old.resource())
                .map(|r| r.provider.clone())
                .unwrap_or_default();
            if let Some(inst) = state.remove(&old) {
                state.set(
                    &new,
                    &provider,
                    inst.attributes,
                    inst.sensitive_attributes,
                    inst.dependencies,
                );
            }
        }
    }
    state
}

/// Where an expression of one module instance is evaluated: the instance's address, its
/// variables and the values of its child modules (`module.NAME`).
#[derive(Debug, Clone, Default)]
pub struct ModuleCtx {
    /// The module instance path with keys (empty for the root).
    pub path: Vec<ModuleStep>,
    pub vars: BTreeMap<String, Value>,
    /// `{"module": {NAME: outputs-object | list | map}}`.
    pub extra: BTreeMap<String, Value>,
    /// Set when applying: `timestamp()` and `uuid()` become known.
    pub apply_time: Option<crate::eval::ApplyTime>,
}

impl ModuleCtx {
    fn names(&self) -> Vec<String> {
        self.path.iter().map(|s| s.name.clone()).collect()
    }
}

/// A scope for an expression in file `file` of the module instance `ctx`.
fn scope_in<'a>(
    config: &'a Config,
    ctx: &'a ModuleCtx,
    file: usize,
    resources: &'a HashMap<ResourceAddress, Value>,
    declared: &'a dyn Fn(&ResourceAddress) -> bool,
) -> Scope<'a> {
    let names = ctx.names();
    let (_, locals, _) = config.module_items(&names);
    let mut scope = Scope::new(
        file,
        &ctx.vars,
        locals,
        resources,
        declared,
        config.module_dir(&names),
    )
    .with_files(config.file_source());
    scope.module = ctx.path.clone();
    scope.extra = ctx.extra.clone();
    scope.apply_time = ctx.apply_time.clone();
    scope
}

/// The root module's context: its variables and its child modules' outputs.
pub fn root_ctx(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> ModuleCtx {
    root_ctx_at(config, vars, resources, None, diags)
}

/// [`root_ctx`] when applying: module inputs and outputs see real `timestamp()`/`uuid()`.
fn root_ctx_at(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    apply_time: Option<&crate::eval::ApplyTime>,
    diags: &mut Vec<Diagnostic>,
) -> ModuleCtx {
    let mut ctx = ModuleCtx {
        path: Vec::new(),
        vars: vars.clone(),
        extra: BTreeMap::new(),
        apply_time: apply_time.cloned(),
    };
    if !config.modules.is_empty() {
        ctx.extra = child_values(config, &ctx, resources, diags);
    }
    add_data_values(config, &mut ctx);
    ctx
}

/// `data.TYPE.NAME` for the data sources of the module instance `ctx`, as read so far
/// (unknown until read: their arguments were unknown).
fn add_data_values(config: &Config, ctx: &mut ModuleCtx) {
    let names = ctx.names();
    let here: Vec<&crate::config::ResourceConfig> = config
        .data
        .iter()
        .filter(|d| d.addr.module.len() == names.len())
        .filter(|d| d.addr.module.iter().zip(&names).all(|(s, n)| &s.name == n))
        .collect();
    if here.is_empty() {
        return;
    }
    let read = config.data_values.read().ok();
    let mut by_type: BTreeMap<String, Value> = BTreeMap::new();
    for d in here {
        let addr = d.addr.clone().in_module(ctx.path.clone());
        let v = read
            .as_ref()
            .and_then(|m| m.get(&addr))
            .cloned()
            .unwrap_or(Value::Unknown);
        if let Value::Object(m) = by_type
            .entry(d.addr.type_name.clone())
            .or_insert_with(|| Value::Object(BTreeMap::new()))
        {
            m.insert(d.addr.name.clone(), v);
        }
    }
    ctx.extra.insert("data".into(), Value::Object(by_type));
}

/// Read every data source whose arguments are known, through the provider, and keep the
/// results in `config.data_values` for planning and applying. Arguments are evaluated with
/// the root module's variables and the values in `state`.
pub async fn read_data_sources(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    state: &State,
    provider: &dyn Provider,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if config.data.is_empty() {
        return diags;
    }
    let values = state_values(state);
    if let Ok(mut slot) = config.data_values.write() {
        slot.clear();
    }
    // Data sources may refer to each other (and module inputs to them): read in passes,
    // publishing each value as soon as it is read, until a pass makes no progress (what is
    // left depends on unknown values).
    let mut done: std::collections::BTreeSet<ResourceAddress> = Default::default();
    let mut pending: Vec<&crate::config::ResourceConfig> = config.data.iter().collect();
    loop {
        let mut progressed = false;
        let mut still = Vec::new();
        for d in pending {
            let mut pass_diags = Vec::new();
            let names: Vec<String> = d.addr.module.iter().map(|m| m.name.clone()).collect();
            let mut waiting = false;
            for ctx in module_instances(config, &names, vars, &values, &mut Vec::new()) {
                let addr = d.addr.clone().in_module(ctx.path.clone());
                if done.contains(&addr) {
                    continue;
                }
                let args = {
                    let declared = |a: &ResourceAddress| config.resource(a).is_some();
                    let mut scope = scope_in(config, &ctx, d.file, &values, &declared);
                    generic_body(&d.body, &mut scope, &mut pass_diags)
                };
                if args.contains_unknown() || !pass_diags.is_empty() {
                    waiting = true;
                    continue;
                }
                progressed = true;
                done.insert(addr.clone());
                let alias = config.provider_alias(&d.addr);
                let provider = provider.for_alias(alias.as_deref());
                match provider
                    .read_data_source(&d.addr.type_name, &args.to_json())
                    .await
                {
                    Ok(v) => {
                        if let Ok(mut slot) = config.data_values.write() {
                            slot.insert(addr, Value::from_json(&v));
                        }
                    }
                    Err(e) => {
                        let mut diag =
                            Diagnostic::error(format!("Error reading {addr}: {}", e.message))
                                .label(Some(d.span.clone()), "while reading this data source")
                                .code(
                                    e.code
                                        .clone()
                                        .unwrap_or_else(|| "netform::data_source".into()),
                                );
                        if e.kind == crate::provider::ErrorKind::NotFound {
                            diag = diag.help(
                                "the object does not exist; check its name and resource group",
                            );
                        }
                        diags.push(diag);
                    }
                }
            }
            if waiting {
                still.push((d, pass_diags));
            }
        }
        if !progressed || still.is_empty() {
            // Whatever remains stays unknown; evaluation errors are reported once.
            for (_, d) in still {
                diags.extend(d);
            }
            break;
        }
        pending = still.into_iter().map(|(d, _)| d).collect();
    }
    diags
}

/// A block body evaluated without a schema: attributes as values, nested blocks as lists.
fn generic_body(
    body: &hcl_edit::structure::Body,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Value {
    let mut out = BTreeMap::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if matches!(key, "depends_on" | "provider" | "count" | "for_each") {
            continue;
        }
        match eval(&attr.value, scope) {
            Ok(v) => {
                out.insert(key.to_string(), v);
            }
            Err(e) => {
                diags.push(eval_error(e));
                out.insert(key.to_string(), Value::Unknown);
            }
        }
    }
    for block in body.blocks() {
        let v = generic_body(&block.body, scope, diags);
        if let Value::List(items) = out
            .entry(block.ident.as_str().to_string())
            .or_insert_with(|| Value::List(Vec::new()))
        {
            items.push(v);
        }
    }
    Value::Object(out)
}

/// `{"module": ...}` for root-level evaluation (outputs recorded after apply).
pub fn root_extra(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
) -> BTreeMap<String, Value> {
    root_ctx(config, vars, resources, &mut Vec::new()).extra
}

/// Every instance of the module at `path` (module names; empty = the root).
pub fn module_instances(
    config: &Config,
    path: &[String],
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ModuleCtx> {
    module_instances_at(config, path, vars, resources, None, diags)
}

fn module_instances_at(
    config: &Config,
    path: &[String],
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    apply_time: Option<&crate::eval::ApplyTime>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ModuleCtx> {
    let Some((_, parent)) = path.split_last() else {
        return vec![root_ctx_at(config, vars, resources, apply_time, diags)];
    };
    let parents = module_instances_at(config, parent, vars, resources, apply_time, diags);
    let mut out = Vec::new();
    for p in &parents {
        out.extend(child_instances(config, p, path, resources, diags));
    }
    out
}

/// Instances of the child module `path` under the parent instance `parent`.
fn child_instances(
    config: &Config,
    parent: &ModuleCtx,
    path: &[String],
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ModuleCtx> {
    let Some(m) = config.module(path) else {
        return Vec::new();
    };
    let instances = match expand(
        config,
        parent,
        m.call.file,
        m.call.count.as_ref(),
        m.call.for_each.as_ref(),
        resources,
    ) {
        Ok(i) => i,
        Err(d) => {
            diags.push(d);
            return Vec::new();
        }
    };
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let mut out = Vec::new();
    for inst in instances {
        let mut given = BTreeMap::new();
        {
            let mut scope = scope_in(config, parent, m.call.file, resources, &declared)
                .with_instance(inst.count.clone(), inst.each.clone());
            for (name, (expr, _)) in &m.call.inputs {
                match eval(expr, &mut scope) {
                    Ok(v) => {
                        given.insert(name.clone(), v);
                    }
                    Err(e) => {
                        diags.push(eval_error(e));
                        given.insert(name.clone(), Value::Unknown);
                    }
                }
            }
        }
        let (vars, d) = crate::decode::module_variables(config, m, given);
        diags.extend(d);
        let mut path = parent.path.clone();
        path.push(ModuleStep {
            name: m.call.name.clone(),
            key: inst.key,
        });
        let mut ctx = ModuleCtx {
            path,
            vars,
            extra: BTreeMap::new(),
            apply_time: parent.apply_time.clone(),
        };
        ctx.extra = child_values(config, &ctx, resources, diags);
        add_data_values(config, &mut ctx);
        out.push(ctx);
    }
    out
}

/// `{"module": {NAME: value}}` for the child calls of the module instance `ctx`: an object of
/// outputs per instance; a list (count) or map (for_each) of them.
fn child_values(
    config: &Config,
    ctx: &ModuleCtx,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Value> {
    let names = ctx.names();
    let mut modules = BTreeMap::new();
    for m in config.modules.values() {
        if m.path.len() != names.len() + 1 || m.path[..names.len()] != names[..] {
            continue;
        }
        let children = child_instances(config, ctx, &m.path, resources, diags);
        let declared = |a: &ResourceAddress| config.resource(a).is_some();
        let mut values = Vec::new();
        for child in &children {
            let mut outs = BTreeMap::new();
            for o in m.outputs.values() {
                let mut scope = scope_in(config, child, o.file, resources, &declared);
                match eval(&o.expr, &mut scope) {
                    Ok(v) => {
                        outs.insert(o.name.clone(), v);
                    }
                    Err(e) => {
                        diags.push(eval_error(e));
                        outs.insert(o.name.clone(), Value::Unknown);
                    }
                }
            }
            let key = child.path.last().and_then(|s| s.key.clone());
            values.push((key, Value::Object(outs)));
        }
        let repetition = if m.call.count.is_some() {
            Some("list")
        } else if m.call.for_each.is_some() {
            Some("map")
        } else {
            None
        };
        modules.insert(m.call.name.clone(), aggregate(repetition, values));
    }
    let mut extra = BTreeMap::new();
    if !modules.is_empty() {
        extra.insert("module".to_string(), Value::Object(modules));
    }
    extra
}

/// The context of the module instance `path` (with keys), if it exists.
fn ctx_of(
    config: &Config,
    path: &[ModuleStep],
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
) -> Option<ModuleCtx> {
    ctx_of_at(config, path, vars, resources, None)
}

fn ctx_of_at(
    config: &Config,
    path: &[ModuleStep],
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    apply_time: Option<&crate::eval::ApplyTime>,
) -> Option<ModuleCtx> {
    let names: Vec<String> = path.iter().map(|s| s.name.clone()).collect();
    module_instances_at(config, &names, vars, resources, apply_time, &mut Vec::new())
        .into_iter()
        .find(|c| c.path == path)
}

/// One instance of a resource block: its key and its `count` / `each` bindings.
#[derive(Debug, Clone)]
pub struct Instance {
    pub key: Option<InstanceKey>,
    pub count: Option<Value>,
    pub each: Option<Value>,
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The instances `count` or `for_each` make of a resource block (one, without either).
/// Both must be known when planning.
#[allow(clippy::result_large_err)]
pub fn expand(
    config: &Config,
    ctx: &ModuleCtx,
    file: usize,
    count: Option<&hcl_edit::expr::Expression>,
    for_each: Option<&hcl_edit::expr::Expression>,
    resources: &HashMap<ResourceAddress, Value>,
) -> Result<Vec<Instance>, Diagnostic> {
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let mut scope = scope_in(config, ctx, file, resources, &declared);
    if let Some(expr) = count {
        let span = crate::config::span_of(file, expr);
        let v = eval(expr, &mut scope).map_err(eval_error)?;
        if v.contains_unknown() {
            return Err(Diagnostic::error("Invalid count argument")
                .detail("The \"count\" value depends on resource attributes that cannot be determined until apply, so netform cannot predict how many instances will be created.")
                .label(span, "known only after apply")
                .help("derive `count` from variables, locals or attributes known when planning; or apply the resources it depends on first")
                .code("netform::unknown_count"));
        }
        let n = match v {
            Value::Null => None,
            other => other.as_f64(),
        };
        let Some(n) = n.filter(|n| n.fract() == 0.0 && *n >= 0.0) else {
            return Err(Diagnostic::error("Invalid count argument")
                .label(span, "a whole number of at least 0 is required")
                .code("netform::count"));
        };
        return Ok((0..n as i64)
            .map(|i| Instance {
                key: Some(InstanceKey::Int(i)),
                count: Some(obj(vec![("index", Value::Number(i as f64))])),
                each: None,
            })
            .collect());
    }
    let Some(expr) = for_each else {
        return Ok(vec![Instance {
            key: None,
            count: None,
            each: None,
        }]);
    };
    let span = crate::config::span_of(file, expr);
    let v = eval(expr, &mut scope).map_err(eval_error)?;
    let unknown = || {
        Diagnostic::error("Invalid for_each argument")
            .detail("The \"for_each\" value depends on resource attributes that cannot be determined until apply, so netform cannot predict how many instances will be created.")
            .label(span.clone(), "known only after apply")
            .help("use a map or set whose keys are known when planning (variables, locals, names); values may be unknown")
            .code("netform::unknown_for_each")
    };
    match v {
        Value::Unknown => Err(unknown()),
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| Instance {
                key: Some(InstanceKey::Str(k.clone())),
                count: None,
                each: Some(obj(vec![("key", Value::String(k)), ("value", v)])),
            })
            .collect()),
        Value::List(items) => {
            let mut keys = std::collections::BTreeSet::new();
            for item in items {
                match item {
                    Value::String(s) => {
                        keys.insert(s);
                    }
                    Value::Unknown => return Err(unknown()),
                    Value::Null => {
                        return Err(Diagnostic::error("Invalid for_each set argument")
                            .label(span, "a set used in for_each must not contain null"));
                    }
                    other => {
                        return Err(Diagnostic::error("Invalid for_each set argument")
                            .label(
                                span,
                                format!("for_each needs a map or a set of strings; this set has a {} element", other.type_name()),
                            )
                            .help("convert it with toset([for x in ... : tostring(x)]) or use a map"));
                    }
                }
            }
            Ok(keys
                .into_iter()
                .map(|k| Instance {
                    key: Some(InstanceKey::Str(k.clone())),
                    count: None,
                    each: Some(obj(vec![
                        ("key", Value::String(k.clone())),
                        ("value", Value::String(k)),
                    ])),
                })
                .collect())
        }
        Value::Null => Err(Diagnostic::error("Invalid for_each argument")
            .label(span, "the given for_each value is null")
            .help("use an empty map or set for no instances")),
        other => Err(Diagnostic::error("Invalid for_each argument")
            .label(
                span,
                format!(
                    "for_each needs a map or a set of strings, got {}",
                    other.type_name()
                ),
            )
            .code("netform::for_each")),
    }
}

/// The `count`/`each` bindings of the instance `addr` (re-evaluating `for_each`).
fn instance_binding(
    config: &Config,
    ctx: &ModuleCtx,
    addr: &ResourceAddress,
    resources: &HashMap<ResourceAddress, Value>,
) -> (Option<Value>, Option<Value>) {
    let Some(rc) = config.resource(addr) else {
        return (None, None);
    };
    match &addr.key {
        None => (None, None),
        Some(InstanceKey::Int(i)) => (Some(obj(vec![("index", Value::Number(*i as f64))])), None),
        Some(InstanceKey::Str(k)) => {
            let found = expand(config, ctx, rc.file, None, rc.for_each.as_ref(), resources)
                .ok()
                .and_then(|all| all.into_iter().find(|i| i.key == addr.key))
                .and_then(|i| i.each);
            (
                None,
                Some(found.unwrap_or_else(|| {
                    obj(vec![
                        ("key", Value::String(k.clone())),
                        ("value", Value::Unknown),
                    ])
                })),
            )
        }
    }
}

/// Decode and validate one resource instance's configuration with `resources` as the values
/// it can see (`vars` are the root module's).
pub fn decode_config(
    config: &Config,
    addr: &ResourceAddress,
    schema: &Schema,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Decoded> {
    decode_config_at(config, addr, schema, vars, resources, None, diags)
}

/// [`decode_config`] when applying: `apply_time` makes `timestamp()` and `uuid()` known.
pub fn decode_config_at(
    config: &Config,
    addr: &ResourceAddress,
    schema: &Schema,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    apply_time: Option<&crate::eval::ApplyTime>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Decoded> {
    let ctx = ctx_of_at(config, &addr.module, vars, resources, apply_time)?;
    let (count, each) = instance_binding(config, &ctx, addr, resources);
    decode_instance(config, &ctx, addr, count, each, schema, resources, diags)
}

/// The assertions of `check` blocks against `values` (planned ones at plan time, the final
/// ones after apply): failures are warnings, never errors; what is unknown yet is not judged.
pub fn check_assertions(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    values: &HashMap<ResourceAddress, Value>,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if config.checks.is_empty() {
        return diags;
    }
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let root = root_ctx(config, vars, values, &mut Vec::new());
    for check in &config.checks {
        for rule in &check.asserts {
            let mut scope = scope_in(config, &root, rule.file, values, &declared);
            let failed = match eval(&rule.condition, &mut scope) {
                Ok(Value::Bool(false)) => true,
                Ok(_) => false,
                Err(e) => {
                    diags.push(
                        Diagnostic::warning(format!(
                            "Check block assertion could not be evaluated: {}",
                            e.message
                        ))
                        .label(e.span, format!("check \"{}\"", check.name)),
                    );
                    false
                }
            };
            if failed {
                let message = rule
                    .error_message
                    .as_ref()
                    .and_then(|m| eval(m, &mut scope).ok())
                    .and_then(|m| m.as_str().map(str::to_string))
                    .unwrap_or_else(|| "the assertion failed".into());
                diags.push(
                    Diagnostic::warning("Check block assertion failed")
                        .detail(message.clone())
                        .label(Some(rule.span.clone()), message)
                        .code(format!("netform::check::{}", check.name)),
                );
            }
        }
    }
    diags
}

/// The `postcondition`s of an applied instance, checked against what the cloud returned
/// (`self`) and the final values of everything else: at plan time what they read may have
/// been unknown, and Terraform checks them again after apply.
pub fn check_postconditions(
    config: &Config,
    addr: &ResourceAddress,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    applied: Value,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let Some(rc) = config.resource(addr) else {
        return diags;
    };
    if rc.lifecycle.postconditions.is_empty() {
        return diags;
    }
    let Some(ctx) = ctx_of(config, &addr.module, vars, resources) else {
        return diags;
    };
    let (count, each) = instance_binding(config, &ctx, addr, resources);
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    for rule in &rc.lifecycle.postconditions {
        let mut scope = scope_in(config, &ctx, rule.file, resources, &declared)
            .with_instance(count.clone(), each.clone());
        scope.push_binding("self", applied.clone());
        check_rule(addr, rule, "postcondition", &mut scope, &mut diags);
    }
    diags
}

#[allow(clippy::too_many_arguments)]
fn decode_instance(
    config: &Config,
    ctx: &ModuleCtx,
    addr: &ResourceAddress,
    count: Option<Value>,
    each: Option<Value>,
    schema: &Schema,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Decoded> {
    let rc = config.resource(addr)?;
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let mut scope = scope_in(config, ctx, rc.file, resources, &declared).with_instance(count, each);
    Some(decode_resource(
        &addr.type_name,
        schema,
        &rc.body,
        &rc.span,
        &mut scope,
        diags,
    ))
}

/// Map a provider finding onto the source.
pub fn provider_diagnostic(
    addr: &ResourceAddress,
    decoded: Option<&Decoded>,
    header: Option<Span>,
    d: crate::provider::ProviderDiagnostic,
) -> Diagnostic {
    let span = decoded.and_then(|dec| dec.span_for(&d.path)).or(header);
    let attr = d
        .path
        .iter()
        .filter(|p| p.parse::<usize>().is_err())
        .cloned()
        .collect::<Vec<_>>()
        .join(".");
    let label = if attr.is_empty() {
        d.summary.clone()
    } else {
        format!("{attr}: {}", d.summary)
    };
    let mut out = match d.severity {
        Severity::Error => Diagnostic::error(format!("{addr}: {}", d.summary)),
        Severity::Warning => Diagnostic::warning(format!("{addr}: {}", d.summary)),
    }
    .label(span, label);
    if let Some(detail) = d.detail {
        out = out.detail(detail);
    }
    if let Some(code) = d.code {
        out = out.code(code);
    }
    if let Some(hint) = d.hint {
        out = out.help(hint);
    }
    out
}

/// Plan the configuration against refreshed state.
pub fn plan(
    config: &Config,
    graph: &DependencyGraph,
    vars: &BTreeMap<String, Value>,
    refreshed: &State,
    provider: &dyn Provider,
    options: &PlanOptions,
) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut changes = Vec::new();
    // Values expressions see, by resource address (lists/maps for count/for_each).
    let mut planned_values: HashMap<ResourceAddress, Value> = HashMap::new();
    // Every instance address the configuration has.
    let mut expanded: std::collections::BTreeSet<ResourceAddress> =
        std::collections::BTreeSet::new();
    let mut world = PlanWorld {
        prior: refreshed
            .addresses()
            .filter_map(|a| refreshed.get(&a))
            .filter_map(|i| {
                i.attributes
                    .get("id")
                    .and_then(|v| v.as_str())
                    .map(|id| (id.to_ascii_lowercase(), i.attributes.clone()))
            })
            .collect(),
        planned: HashMap::new(),
    };

    // Module instances that exist in the configuration.
    let mut live_modules: std::collections::BTreeSet<Vec<ModuleStep>> =
        std::collections::BTreeSet::new();
    if !options.destroy {
        for addr in graph.resources_in_order() {
            let Some(rc) = config.resource(addr) else {
                continue;
            };
            let names: Vec<String> = addr.module.iter().map(|m| m.name.clone()).collect();
            for ctx in module_instances(config, &names, vars, &planned_values, &mut diags) {
                live_modules.insert(ctx.path.clone());
                let base = ResourceAddress {
                    module: ctx.path.clone(),
                    ..addr.clone()
                };
                let instances = match expand(
                    config,
                    &ctx,
                    rc.file,
                    rc.count.as_ref(),
                    rc.for_each.as_ref(),
                    &planned_values,
                ) {
                    Ok(i) => i,
                    Err(d) => {
                        diags.push(d);
                        planned_values.insert(base, Value::Unknown);
                        continue;
                    }
                };
                let mut values: Vec<(Option<InstanceKey>, Value)> = Vec::new();
                for inst in instances {
                    let iaddr = base.clone().with_key(inst.key.clone());
                    expanded.insert(iaddr.clone());
                    let value = plan_instance(
                        config,
                        rc,
                        &ctx,
                        &iaddr,
                        inst,
                        graph,
                        refreshed,
                        provider,
                        &planned_values,
                        &mut world,
                        &mut changes,
                        &mut diags,
                    );
                    values.push((iaddr.key, value));
                }
                planned_values.insert(base, aggregate(rc.repetition(), values));
            }
        }

        // Checks that span resources.
        let with_after: Vec<&PlannedChange> =
            changes.iter().filter(|c| c.after.is_some()).collect();
        let addr_strings: Vec<String> = with_after.iter().map(|c| c.addr.to_string()).collect();
        let views: Vec<ResourceView<'_>> = with_after
            .iter()
            .zip(&addr_strings)
            .filter_map(|(c, a)| {
                c.after.as_ref().map(|v| ResourceView {
                    address: a,
                    type_name: &c.addr.type_name,
                    value: v,
                    prior: c.before.as_ref(),
                })
            })
            .collect();
        for (i, d) in provider.validate_all(&views) {
            if let Some(c) = with_after.get(i) {
                let rt = provider.resource_type(&c.addr.type_name);
                let mut scratch = Vec::new();
                let decoded = rt.and_then(|rt| {
                    decode_config(
                        config,
                        &c.addr,
                        &rt.schema,
                        vars,
                        &planned_values,
                        &mut scratch,
                    )
                });
                let header = config.resource(&c.addr).map(|r| r.span.clone());
                diags.push(provider_diagnostic(&c.addr, decoded.as_ref(), header, d));
            }
        }
    }

    // Objects in state that the configuration no longer has (or everything, for destroy).
    for addr in refreshed.addresses() {
        if !options.destroy && expanded.contains(&addr) {
            continue;
        }
        let reason = if options.destroy {
            None
        } else {
            Some(match config.resource(&addr).map(|rc| rc.repetition()) {
                None if !addr.module.is_empty()
                    && config
                        .module(
                            &addr
                                .module
                                .iter()
                                .map(|m| m.name.clone())
                                .collect::<Vec<_>>(),
                        )
                        .is_none() =>
                {
                    "delete_because_no_module"
                }
                None => "delete_because_no_resource_config",
                Some(_) if !addr.module.is_empty() && !live_modules.contains(&addr.module) => {
                    "delete_because_no_module"
                }
                Some(Some("list")) if matches!(addr.key, Some(InstanceKey::Int(_))) => {
                    "delete_because_count_index"
                }
                Some(Some("map")) if matches!(addr.key, Some(InstanceKey::Str(_))) => {
                    "delete_because_each_key"
                }
                Some(_) => "delete_because_wrong_repetition",
            })
        };
        if let Some(rc) = config.resource(&addr)
            && rc.lifecycle.prevent_destroy
        {
            diags.push(prevent_destroy_error(&addr, rc));
        }
        let inst = refreshed.get(&addr);
        // `removed { lifecycle { destroy = false } }`: forget the object, leave it in the cloud.
        if config.resource(&addr).is_none() && config.forgotten(&addr).is_some() {
            changes.push(PlannedChange {
                addr: addr.clone(),
                action: Action::Forget,
                before: inst.map(|i| i.attributes.clone()),
                after: None,
                replace: Vec::new(),
                dependencies: Vec::new(),
                deferred: None,
                reason: None,
            });
            continue;
        }
        changes.push(PlannedChange {
            addr: addr.clone(),
            action: Action::Delete,
            before: inst.map(|i| i.attributes.clone()),
            after: None,
            replace: Vec::new(),
            dependencies: inst
                .map(|i| {
                    i.dependencies
                        .iter()
                        .filter_map(|d| ResourceAddress::parse(d))
                        .collect()
                })
                .unwrap_or_default(),
            deferred: None,
            reason,
        });
    }
    changes.sort_by(|a, b| a.addr.cmp(&b.addr));
    expand_dependencies(&mut changes);
    let forgotten: Vec<&ResourceAddress> = changes
        .iter()
        .filter(|c| c.action == Action::Forget)
        .map(|c| &c.addr)
        .collect();
    diags.extend(crate::removed::forget_warning(&forgotten));

    let mut outputs = BTreeMap::new();
    if !options.destroy {
        let declared = |a: &ResourceAddress| config.resource(a).is_some();
        let root = root_ctx(config, vars, &planned_values, &mut diags);
        for o in config.outputs.values() {
            let mut scope = scope_in(config, &root, o.file, &planned_values, &declared);
            match eval(&o.expr, &mut scope) {
                Ok(v) => {
                    outputs.insert(
                        o.name.clone(),
                        PlannedOutput {
                            value: v,
                            sensitive: o.sensitive,
                        },
                    );
                }
                Err(e) => diags.push(eval_error(e)),
            }
        }
    }

    // `check` blocks: failed assertions are warnings, never errors.
    if !options.destroy {
        diags.extend(check_assertions(config, vars, &planned_values));
    }

    // Module contexts are evaluated lazily, once per dependent: report each finding once.
    let mut seen = Vec::new();
    diags.retain(|d| {
        let key = (d.summary.clone(), d.labels.first().map(|l| l.span.clone()));
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    if diags.has_errors() {
        return (None, diags);
    }
    let warnings = diags.iter().filter(|d| !d.is_error()).cloned().collect();
    let plan = Plan {
        changes,
        outputs,
        prior_lineage: (!refreshed.lineage.is_empty()).then(|| refreshed.lineage.clone()),
        prior_serial: refreshed.serial,
        destroy: options.destroy,
        warnings,
    };
    (Some(plan), diags)
}

/// What expressions see for a whole resource: its value, a list by index (`count`) or a map
/// by key (`for_each`).
fn aggregate(repetition: Option<&str>, values: Vec<(Option<InstanceKey>, Value)>) -> Value {
    match repetition {
        Some("list") => Value::List(values.into_iter().map(|(_, v)| v).collect()),
        Some("map") => Value::Object(
            values
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Some(InstanceKey::Str(s)) => Some((s, v)),
                    _ => None,
                })
                .collect(),
        ),
        _ => values
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Null),
    }
}

/// Dependencies name resources; operations wait for instances. Replace each dependency by
/// every instance of that resource the plan has.
fn expand_dependencies(changes: &mut [PlannedChange]) {
    let static_of = |a: &ResourceAddress| {
        let mut r = a.resource();
        for m in &mut r.module {
            m.key = None;
        }
        r
    };
    let mut instances: HashMap<ResourceAddress, Vec<ResourceAddress>> = HashMap::new();
    for c in changes.iter() {
        instances
            .entry(static_of(&c.addr))
            .or_default()
            .push(c.addr.clone());
    }
    for c in changes.iter_mut() {
        let mut deps: Vec<ResourceAddress> = c
            .dependencies
            .iter()
            .flat_map(|d| {
                instances
                    .get(&static_of(d))
                    .cloned()
                    .unwrap_or_else(|| vec![d.clone()])
            })
            .filter(|d| d != &c.addr)
            .collect();
        deps.sort();
        deps.dedup();
        c.dependencies = deps;
    }
}

/// `lifecycle.replace_triggered_by`: the first referenced resource instance with a planned
/// create, update or replacement, as a replacement cause (only for an existing object).
fn triggered_by(
    rc: &crate::config::ResourceConfig,
    addr: &ResourceAddress,
    exists: bool,
    changes: &[PlannedChange],
) -> Option<crate::provider::ReplaceCause> {
    if !exists || rc.lifecycle.replace_triggered_by.is_empty() {
        return None;
    }
    for e in &rc.lifecycle.replace_triggered_by {
        let mut found = Vec::new();
        crate::refs::in_expr(e, rc.file, &mut found);
        for r in found {
            let crate::refs::RefTarget::Resource(target) = r.target else {
                continue;
            };
            let hit = changes.iter().find(|c| {
                c.addr.type_name == target.type_name
                    && c.addr.name == target.name
                    && c.addr.module == addr.module
                    && c.addr.mode == target.mode
                    && matches!(
                        c.action,
                        Action::Create
                            | Action::Update
                            | Action::DeleteThenCreate
                            | Action::CreateThenDelete
                    )
            });
            if let Some(c) = hit {
                return Some(crate::provider::ReplaceCause {
                    path: Vec::new(),
                    reason: format!("replace_triggered_by: {} changes", c.addr),
                });
            }
        }
    }
    None
}

/// The arguments of a built-in resource instance (`{input, triggers_replace}`).
fn builtin_config(
    config: &Config,
    rc: &crate::config::ResourceConfig,
    ctx: &ModuleCtx,
    count: Option<Value>,
    each: Option<Value>,
    resources: &HashMap<ResourceAddress, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    let mut scope = scope_in(config, ctx, rc.file, resources, &declared).with_instance(count, each);
    let mut allowed: Vec<&str> = crate::builtin::ARGUMENTS.to_vec();
    allowed.extend(["count", "for_each", "depends_on", "provider"]);
    let before = diags.len();
    crate::config::check_names(
        rc.file,
        &rc.body,
        &allowed,
        &["lifecycle"],
        &rc.addr.type_name,
        diags,
    );
    let mut out = BTreeMap::new();
    for name in crate::builtin::ARGUMENTS {
        let v = match rc.body.get_attribute(name) {
            Some(a) => match eval(&a.value, &mut scope) {
                Ok(v) => v,
                Err(e) => {
                    diags.push(eval_error(e));
                    Value::Unknown
                }
            },
            None => Value::Null,
        };
        out.insert(name.to_string(), v);
    }
    (diags[before..].iter().all(|d| !d.is_error())).then_some(Value::Object(out))
}

/// The final arguments of a built-in resource instance at apply time (`apply_time` makes
/// `timestamp()` and `uuid()` known).
pub fn builtin_value(
    config: &Config,
    addr: &ResourceAddress,
    vars: &BTreeMap<String, Value>,
    resources: &HashMap<ResourceAddress, Value>,
    apply_time: Option<&crate::eval::ApplyTime>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let rc = config.resource(addr)?;
    let ctx = ctx_of_at(config, &addr.module, vars, resources, apply_time)?;
    let (count, each) = instance_binding(config, &ctx, addr, resources);
    builtin_config(config, rc, &ctx, count, each, resources, diags)
}

fn prevent_destroy_error(addr: &ResourceAddress, rc: &crate::config::ResourceConfig) -> Diagnostic {
    Diagnostic::error("Instance cannot be destroyed")
        .detail(format!(
            "Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using --target."
        ))
        .label(rc.lifecycle.span.clone().or(Some(rc.span.clone())), "prevent_destroy is set here")
        .code("netform::prevent_destroy")
}

/// A precondition or postcondition: false is an error with its message; unknown passes
/// (it is checked again when the value is known).
fn check_rule(
    addr: &ResourceAddress,
    rule: &crate::config::CheckRule,
    kind: &str,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    match eval(&rule.condition, scope) {
        Ok(Value::Bool(false)) => {
            let message = rule
                .error_message
                .as_ref()
                .and_then(|e| eval(e, scope).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("the {kind} failed"));
            diags.push(
                Diagnostic::error(format!("Resource {kind} failed"))
                    .detail(format!(
                        "{message}\n\nThis was checked by the {kind} of {addr}."
                    ))
                    .label(Some(rule.span.clone()), message)
                    .code(format!("netform::{kind}")),
            );
        }
        Ok(Value::Bool(true)) | Ok(Value::Unknown) => {}
        Ok(other) => diags.push(
            Diagnostic::error(format!("Invalid {kind} condition")).label(
                Some(rule.span.clone()),
                format!("a bool is required, got {}", other.type_name()),
            ),
        ),
        Err(e) => diags.push(eval_error(e)),
    }
}

/// Plan one instance; returns the value dependents see.
#[allow(clippy::too_many_arguments)]
fn plan_instance(
    config: &Config,
    rc: &crate::config::ResourceConfig,
    ctx: &ModuleCtx,
    addr: &ResourceAddress,
    inst: Instance,
    graph: &DependencyGraph,
    refreshed: &State,
    provider: &dyn Provider,
    planned_values: &HashMap<ResourceAddress, Value>,
    world: &mut PlanWorld,
    changes: &mut Vec<PlannedChange>,
    diags: &mut Vec<Diagnostic>,
) -> Value {
    if crate::builtin::is_builtin(&addr.type_name) {
        let Some(cfg) = builtin_config(
            config,
            rc,
            ctx,
            inst.count,
            inst.each,
            planned_values,
            diags,
        ) else {
            return Value::Unknown;
        };
        let prior = refreshed.get(addr).map(|i| &i.attributes);
        let (mut action, after) = crate::builtin::plan(&cfg, prior);
        let trigger = triggered_by(rc, addr, prior.is_some(), changes);
        if trigger.is_some() && !action.is_replace() {
            action = Action::DeleteThenCreate;
        }
        if action.is_replace() && rc.lifecycle.create_before_destroy {
            action = Action::CreateThenDelete;
        }
        if action.is_replace() && rc.lifecycle.prevent_destroy {
            diags.push(prevent_destroy_error(addr, rc));
        }
        changes.push(PlannedChange {
            addr: addr.clone(),
            action,
            before: prior.cloned(),
            after: Some(after.clone()),
            replace: if action.is_replace() {
                vec![crate::provider::ReplaceCause {
                    path: vec!["triggers_replace".into()],
                    reason: "`triggers_replace` changed".into(),
                }]
            } else {
                Vec::new()
            },
            dependencies: graph.resource_dependencies(&rc.addr).into_iter().collect(),
            deferred: None,
            reason: action
                .is_replace()
                .then_some("replace_because_cannot_update"),
        });
        return after;
    }
    // The resource's provider configuration (`provider = azurerm.ALIAS`): its subscription
    // makes the ids.
    let alias = config.provider_alias(addr);
    let provider = provider.for_alias(alias.as_deref());
    let Some(rt) = provider.resource_type(&addr.type_name) else {
        let names: Vec<&str> = provider.resource_types().iter().map(|t| t.name).collect();
        let mut d = Diagnostic::error(format!("Unsupported resource type \"{}\"", addr.type_name))
            .label(
                Some(rc.span.clone()),
                "this provider has no such resource type",
            )
            .code("netform::unsupported_type");
        if let Some(s) = did_you_mean(&addr.type_name, names.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        diags.push(d);
        return Value::Unknown;
    };
    let before_errors = diags.iter().filter(|d| d.is_error()).count();
    let lc = &rc.lifecycle;
    let declared = |a: &ResourceAddress| config.resource(a).is_some();
    for rule in &lc.preconditions {
        let mut scope = scope_in(config, ctx, rule.file, planned_values, &declared)
            .with_instance(inst.count.clone(), inst.each.clone());
        check_rule(addr, rule, "precondition", &mut scope, diags);
    }
    let Some(mut decoded) = decode_instance(
        config,
        ctx,
        addr,
        inst.count.clone(),
        inst.each.clone(),
        &rt.schema,
        planned_values,
        diags,
    ) else {
        return Value::Unknown;
    };
    // lifecycle.ignore_changes: keep what the object has for those attributes.
    if let (Some(prior), Value::Object(map)) = (refreshed.get(addr), &mut decoded.value)
        && (lc.ignore_all || !lc.ignore_changes.is_empty())
    {
        for (k, v) in map.iter_mut() {
            if (lc.ignore_all || lc.ignore_changes.contains(k))
                && let Some(old) = prior.attributes.get(k)
            {
                *v = Value::from_json(old);
            }
        }
    }
    for d in provider.validate(&addr.type_name, &decoded.value) {
        diags.push(provider_diagnostic(
            addr,
            Some(&decoded),
            Some(rc.span.clone()),
            d,
        ));
    }
    if diags.iter().filter(|d| d.is_error()).count() > before_errors {
        return Value::Unknown;
    }
    let prior = refreshed.get(addr).map(|i| &i.attributes);
    let (proposed, replace) = propose(&rt.schema, prior, &decoded.value);
    let response = provider.plan_change(PlanChangeRequest {
        type_name: &addr.type_name,
        prior,
        config: &decoded.value,
        proposed,
        replace,
        world,
    });
    for d in response.diagnostics {
        diags.push(provider_diagnostic(
            addr,
            Some(&decoded),
            Some(rc.span.clone()),
            d,
        ));
    }
    let action = match prior {
        None => Action::Create,
        Some(p) if !response.replace.is_empty() && lc.create_before_destroy => {
            // Azure addresses objects by name: a replacement with the same id cannot exist
            // beside the old one, so it must be destroyed first.
            let same_id = provider
                .object_id(&addr.type_name, &response.planned)
                .zip(p.get("id").and_then(|v| v.as_str()))
                .is_some_and(|(new, old)| new.eq_ignore_ascii_case(old));
            if same_id {
                diags.push(
                    Diagnostic::warning(format!(
                        "{addr}: create_before_destroy needs a new name"
                    ))
                    .detail("The replacement has the same Azure resource id as the object it replaces, so both cannot exist at once; netform destroys the old object first.")
                    .label(rc.lifecycle.span.clone(), "create_before_destroy is set here")
                    .help("derive the name from something that changes with the replacement, e.g. a suffix"),
                );
                Action::DeleteThenCreate
            } else {
                Action::CreateThenDelete
            }
        }
        Some(_) if !response.replace.is_empty() => Action::DeleteThenCreate,
        Some(p)
            if changed_paths(&rt.schema, &Value::from_json(p), &response.planned).is_empty() =>
        {
            Action::NoOp
        }
        Some(_) => Action::Update,
    };
    let mut replace_causes = response.replace;
    let mut reason = action
        .is_replace()
        .then_some("replace_because_cannot_update");
    let action = match triggered_by(rc, addr, prior.is_some(), changes) {
        Some(cause) if !action.is_replace() && action != Action::Create => {
            replace_causes.push(cause);
            reason = Some("replace_by_triggers");
            if lc.create_before_destroy {
                Action::CreateThenDelete
            } else {
                Action::DeleteThenCreate
            }
        }
        _ => action,
    };
    if action.is_replace() && lc.prevent_destroy {
        diags.push(prevent_destroy_error(addr, rc));
    }
    for rule in &lc.postconditions {
        let mut scope = scope_in(config, ctx, rule.file, planned_values, &declared)
            .with_instance(inst.count.clone(), inst.each.clone());
        scope.push_binding("self", response.planned.clone());
        check_rule(addr, rule, "postcondition", &mut scope, diags);
    }
    if let Some(id) = provider.object_id(&addr.type_name, &response.planned) {
        world.planned.insert(
            id.to_ascii_lowercase(),
            (addr.type_name.clone(), response.planned.clone()),
        );
    }
    changes.push(PlannedChange {
        addr: addr.clone(),
        action,
        before: prior.cloned(),
        after: Some(response.planned.clone()),
        reason,
        replace: replace_causes,
        dependencies: graph.resource_dependencies(&rc.addr).into_iter().collect(),
        deferred: response.deferred,
    });
    response.planned
}

/// Attribute paths whose planned value differs from the prior one (user-visible changes).
pub fn changed_paths(schema: &Schema, prior: &Value, planned: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    diff_body(schema, prior, planned, &mut Vec::new(), &mut out);
    out
}

fn diff_body(
    schema: &Schema,
    prior: &Value,
    planned: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    for (name, attr) in &schema.attributes {
        let new = planned.get(name);
        let old = prior.get(name);
        let same = values_equal(attr, old, new)
            || (new.is_null() && is_empty(old))
            || (old.is_null() && is_empty(new));
        if !same {
            path.push(name.to_string());
            out.push(path.clone());
            path.pop();
        }
    }
    for (name, block) in &schema.blocks {
        let new = planned.get(name).as_list().unwrap_or(&[]);
        let old = prior.get(name).as_list().unwrap_or(&[]);
        path.push(name.to_string());
        if new.len() != old.len() {
            out.push(path.clone());
        } else {
            for (i, (o, n)) in old.iter().zip(new).enumerate() {
                path.push(i.to_string());
                diff_body(&block.body, o, n, path, out);
                path.pop();
            }
        }
        path.pop();
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}
