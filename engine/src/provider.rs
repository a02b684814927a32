//! The contract between the engine and a provider.
//!
//! A provider owns everything specific to a cloud: schemas, plan-time rules, the mapping to
//! the cloud's API and the network calls. The engine owns ordering, diffing and state.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::schema::ResourceType;
use crate::value::Value;

/// Which attribute a provider diagnostic is about, as path steps (`["sku", "0", "tier"]`).
pub type AttrPath = Vec<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A plan-time finding about one resource, located by attribute path; the engine turns the
/// path into a source span.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDiagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: Option<String>,
    pub path: AttrPath,
    /// The Azure error code this check prevents at apply time (e.g. `InvalidGatewaySubnet`).
    pub code: Option<String>,
    pub hint: Option<String>,
}

impl ProviderDiagnostic {
    pub fn error(path: &[&str], summary: impl Into<String>) -> Self {
        ProviderDiagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: None,
            path: path.iter().map(|s| s.to_string()).collect(),
            code: None,
            hint: None,
        }
    }
    pub fn warning(path: &[&str], summary: impl Into<String>) -> Self {
        ProviderDiagnostic {
            severity: Severity::Warning,
            ..Self::error(path, summary)
        }
    }
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Why a planned change must replace the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaceCause {
    pub path: AttrPath,
    /// Human reason, e.g. "Azure cannot decrease a circuit's bandwidth in place".
    pub reason: String,
}

/// A change that cannot proceed yet because of something outside our control
/// (the connectivity provider has not provisioned the circuit).
#[derive(Debug, Clone, PartialEq)]
pub struct Deferral {
    pub reason: String,
    /// What the user should do (e.g. "give service key … to Equinix").
    pub next_step: String,
}

/// What the engine proposes for one resource, before provider-specific rules.
#[derive(Clone)]
pub struct PlanChangeRequest<'a> {
    pub type_name: &'a str,
    /// Refreshed prior attributes; `None` when the resource is new.
    pub prior: Option<&'a serde_json::Value>,
    /// The decoded configuration (defaults applied, may contain unknowns).
    pub config: &'a Value,
    /// The engine's generic proposal: config values, prior computed values carried over
    /// (or unknown when new or replaced), and the `force_new` replacements.
    pub proposed: Value,
    pub replace: Vec<ReplaceCause>,
    /// Refreshed state of every resource, by ARM-style lookup (for gates like circuit provisioning).
    pub world: &'a dyn World,
}

#[derive(Debug, Clone, Default)]
pub struct PlanChangeResponse {
    pub planned: Value,
    pub replace: Vec<ReplaceCause>,
    pub diagnostics: Vec<ProviderDiagnostic>,
    pub deferred: Option<Deferral>,
}

/// Read-only view of the rest of the plan, for rules that depend on other objects
/// (an ExpressRoute connection waits for its circuit to be provisioned).
pub trait World: Send + Sync {
    /// Refreshed prior attributes of the object with this cloud id (case-insensitive).
    fn prior_by_id(&self, id: &str) -> Option<&serde_json::Value>;
    /// Planned value of the resource in this configuration whose cloud id is `id`, with its type.
    fn planned_by_id(&self, id: &str) -> Option<(&str, &Value)>;
}

/// One resource of the whole desired configuration, for checks that span resources.
#[derive(Debug, Clone)]
pub struct ResourceView<'a> {
    pub address: &'a str,
    pub type_name: &'a str,
    pub value: &'a Value,
    pub prior: Option<&'a serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// Another operation holds the object (409 AnotherOperationInProgress): retryable.
    Conflict,
    /// 429: retryable after a delay.
    Throttled,
    /// 5xx, dropped connections: retryable.
    Transient,
    /// The cloud rejected the request as invalid: not retryable.
    Invalid,
    Auth,
    Timeout,
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// The cloud's error code, e.g. `InUseSubnetCannotBeDeleted`.
    pub code: Option<String>,
    pub message: String,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            code: None,
            message: message.into(),
        }
    }
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// Progress reporting from inside a long operation ("polling Azure-AsyncOperation: InProgress").
pub type ProgressSink = Arc<dyn Fn(String) + Send + Sync>;

/// Per-operation context the engine hands to CRUD calls.
#[derive(Clone)]
pub struct OpContext {
    pub timeout: Duration,
    pub progress: ProgressSink,
}

impl OpContext {
    pub fn quiet(timeout: Duration) -> Self {
        OpContext {
            timeout,
            progress: Arc::new(|_| {}),
        }
    }
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// Provider name as used in addresses and state (`registry.terraform.io/hashicorp/azurerm`).
    fn name(&self) -> &str;

    /// The configuration `provider "NAME" { alias = ALIAS }` stands for, when the run has
    /// several (see [`ProviderSet`]). Default: none.
    fn aliased(&self, _alias: &str) -> Option<&dyn Provider> {
        None
    }

    fn resource_types(&self) -> &[ResourceType];

    fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types().iter().find(|t| t.name == name)
    }

    /// Plan-time rules of one resource that config alone can decide. Pure.
    fn validate(&self, type_name: &str, config: &Value) -> Vec<ProviderDiagnostic>;

    /// Plan-time rules across resources (one gateway per type per VNet, VLAN unique per circuit…).
    /// Returns (index into `resources`, diagnostic).
    fn validate_all(&self, _resources: &[ResourceView<'_>]) -> Vec<(usize, ProviderDiagnostic)> {
        Vec::new()
    }

    /// Final planned value: provider-specific replacements, deterministic computed values
    /// (ARM ids), deferrals.
    fn plan_change(&self, request: PlanChangeRequest<'_>) -> PlanChangeResponse;

    /// Identity of the object in the cloud, known before it exists (ARM ids are deterministic).
    fn object_id(&self, type_name: &str, value: &Value) -> Option<String>;

    /// Objects Azure serialises writes on: operations holding the same key never overlap.
    fn lock_keys(&self, _type_name: &str, _value: &Value) -> Vec<String> {
        Vec::new()
    }

    /// How long one operation of this type typically takes in the cloud (an ExpressRoute
    /// gateway create: about 45 minutes). Only a scheduling hint, never a timeout: when more
    /// operations are ready than `--parallelism` allows, the walker starts those with the
    /// longest remaining chain of expected durations first. `None`: unknown (a small default).
    fn expected_duration(&self, _type_name: &str, _op: crate::apply::OpKind) -> Option<Duration> {
        None
    }

    /// Current attributes of an existing object, or `None` if it is gone.
    async fn read(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, ProviderError>;

    /// The collection an object can be listed in for refresh (for ARM: its id without the
    /// last segment), or `None` when it is read one by one. Objects of one type in one scope
    /// are refreshed with [`Provider::read_listed`] when there are enough of them.
    fn list_scope(&self, _type_name: &str, _prior: &serde_json::Value) -> Option<String> {
        None
    }

    /// Refresh many objects with one listing of `scope` (a request per page instead of one
    /// per object). Returns, for each of `priors`, its current attributes as `read` would
    /// give them, or `None` where the listing does not show it: the engine then reads that
    /// one by id, so only a `read` ever decides that an object is gone. Any error: the
    /// engine reads them all one by one.
    async fn read_listed(
        &self,
        type_name: &str,
        _scope: &str,
        _priors: &[serde_json::Value],
    ) -> Result<Vec<Option<serde_json::Value>>, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Invalid,
            format!("{type_name} cannot be listed"),
        ))
    }

    async fn create(
        &self,
        type_name: &str,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<serde_json::Value, ProviderError>;

    async fn update(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<serde_json::Value, ProviderError>;

    async fn delete(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
        ctx: &OpContext,
    ) -> Result<(), ProviderError>;

    /// Wait until an object an interrupted run left mid-operation (a create, update or delete
    /// still running in the cloud) has settled, so that what depends on it can proceed.
    /// Called when the pending-operation journal is reconciled. Default: already settled.
    async fn wait_settled(
        &self,
        _type_name: &str,
        _attributes: &serde_json::Value,
        _ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Data source types this provider can read (`data "azurerm_virtual_network" "x"`), with
    /// their schemas (arguments the user sets, attributes the read returns). Default: none.
    fn data_source_types(&self) -> &[ResourceType] {
        &[]
    }

    /// Read a data source: `config` is the decoded data block (arguments only, as JSON); the
    /// answer is the object's attributes in the same shape as the resource type's state
    /// (`id`, `location`, `address_space`, …). `NotFound` when the object does not exist.
    /// Default: every type is unsupported.
    async fn read_data_source(
        &self,
        type_name: &str,
        _config: &serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Invalid,
            format!("data source \"{type_name}\" is not supported by this provider"),
        )
        .with_code("UnsupportedDataSource"))
    }
}

impl<'a> dyn Provider + 'a {
    /// The configuration for `alias` (`None`: the default one, which is `self`).
    pub fn for_alias(&self, alias: Option<&str>) -> &dyn Provider {
        match alias.and_then(|a| self.aliased(a)) {
            Some(p) => p,
            None => self,
        }
    }
}

/// A run's provider configurations: the default one and each alias. Everything not tied to
/// one configuration (schemas, rules) goes to the default; the engine picks a resource's
/// configuration with [`Provider::aliased`] for what talks to the cloud.
pub struct ProviderSet {
    pub default: std::sync::Arc<dyn Provider>,
    pub aliases: std::collections::BTreeMap<String, std::sync::Arc<dyn Provider>>,
}

#[async_trait]
impl Provider for ProviderSet {
    fn name(&self) -> &str {
        self.default.name()
    }
    fn aliased(&self, alias: &str) -> Option<&dyn Provider> {
        self.aliases.get(alias).map(|p| p.as_ref() as &dyn Provider)
    }
    fn resource_types(&self) -> &[ResourceType] {
        self.default.resource_types()
    }
    fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.default.resource_type(name)
    }
    fn validate(&self, type_name: &str, config: &Value) -> Vec<ProviderDiagnostic> {
        self.default.validate(type_name, config)
    }
    fn validate_all(&self, resources: &[ResourceView<'_>]) -> Vec<(usize, ProviderDiagnostic)> {
        self.default.validate_all(resources)
    }
    fn plan_change(&self, request: PlanChangeRequest<'_>) -> PlanChangeResponse {
        self.default.plan_change(request)
    }
    fn object_id(&self, type_name: &str, value: &Value) -> Option<String> {
        self.default.object_id(type_name, value)
    }
    fn lock_keys(&self, type_name: &str, value: &Value) -> Vec<String> {
        self.default.lock_keys(type_name, value)
    }
    fn expected_duration(&self, type_name: &str, op: crate::apply::OpKind) -> Option<Duration> {
        self.default.expected_duration(type_name, op)
    }
    async fn read(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        self.default.read(type_name, prior).await
    }
    fn list_scope(&self, type_name: &str, prior: &serde_json::Value) -> Option<String> {
        self.default.list_scope(type_name, prior)
    }
    async fn read_listed(
        &self,
        type_name: &str,
        scope: &str,
        priors: &[serde_json::Value],
    ) -> Result<Vec<Option<serde_json::Value>>, ProviderError> {
        self.default.read_listed(type_name, scope, priors).await
    }
    async fn create(
        &self,
        type_name: &str,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<serde_json::Value, ProviderError> {
        self.default.create(type_name, planned, ctx).await
    }
    async fn update(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<serde_json::Value, ProviderError> {
        self.default.update(type_name, prior, planned, ctx).await
    }
    async fn delete(
        &self,
        type_name: &str,
        prior: &serde_json::Value,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        self.default.delete(type_name, prior, ctx).await
    }
    async fn wait_settled(
        &self,
        type_name: &str,
        attributes: &serde_json::Value,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        self.default.wait_settled(type_name, attributes, ctx).await
    }
    fn data_source_types(&self) -> &[ResourceType] {
        self.default.data_source_types()
    }
    async fn read_data_source(
        &self,
        type_name: &str,
        config: &serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        self.default.read_data_source(type_name, config).await
    }
}
