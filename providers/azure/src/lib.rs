//! netform-azure: the azurerm resource types over the Azure Resource Manager REST API.
//!
//! ```text
//! AzureSettings::from_config(provider block, env lookup) ──▶ AzureProvider::new(settings)
//!        │                                                         │
//!        └─ auth: credential chain + token cache        arm: HTTP, retries, LRO polling
//!                                                        resources: schemas, ids, mapping, rules
//! ```
//!
//! For the local emulator use [`AzureSettings::for_emulator`] (or set `no_auth = true` and a
//! small `max_poll_interval`).

pub mod arm;
pub mod auth;
pub mod resources;

use std::sync::Arc;

use async_trait::async_trait;
use netform_engine::Value;
use netform_engine::proposal::propose;
use netform_engine::provider::{
    ErrorKind, OpContext, PlanChangeRequest, PlanChangeResponse, Provider, ProviderDiagnostic,
    ProviderError, ResourceView,
};
use netform_engine::schema::ResourceType;
use serde_json::Value as Json;

pub use arm::{ArmClient, NETWORK_API_VERSION, RESOURCES_API_VERSION};
pub use auth::{AzureSettings, TokenSource};

use arm::Deadline;
use resources::{Kind, PlanState};

/// Provider address, as in Terraform state.
pub const PROVIDER_NAME: &str = "registry.terraform.io/hashicorp/azurerm";

/// The azurerm provider.
pub struct AzureProvider {
    settings: AzureSettings,
    arm: ArmClient,
    kinds: Vec<&'static dyn Kind>,
    types: Vec<ResourceType>,
    /// The resource types that can also be read as data sources (`data "azurerm_…"`).
    data_types: Vec<ResourceType>,
}

/// Types refresh may list instead of reading one by one (see `list_scope`): plentiful, and
/// with no secret in their body. Circuits (`serviceKey`), their peerings (`sharedKey`) and
/// authorizations (`authorizationKey`) are left to GET, which is documented to return those.
const LISTED: &[&str] = &[
    "azurerm_virtual_network",
    "azurerm_subnet",
    "azurerm_public_ip",
    "azurerm_network_security_group",
    "azurerm_local_network_gateway",
];

/// azurerm data sources netform reads: each is looked up by the names that form its ARM id.
pub const DATA_SOURCES: &[&str] = &[
    "azurerm_resource_group",
    "azurerm_virtual_network",
    "azurerm_subnet",
    "azurerm_public_ip",
    "azurerm_express_route_circuit",
    "azurerm_virtual_network_gateway",
];

impl std::fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureProvider")
            .field("settings", &self.settings)
            .field(
                "types",
                &self.types.iter().map(|t| t.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AzureProvider {
    /// Build the provider: HTTP client and credential chain (no network calls yet).
    pub fn new(settings: AzureSettings) -> Result<Self, ProviderError> {
        if settings.subscription_id.trim().is_empty() {
            return Err(ProviderError::new(
                ErrorKind::Invalid,
                "subscription_id is required",
            ));
        }
        let arm = ArmClient::new(&settings)?;
        let kinds = resources::all_kinds();
        let types: Vec<ResourceType> = kinds.iter().map(|k| k.resource_type()).collect();
        let data_types = types
            .iter()
            .filter(|t| DATA_SOURCES.contains(&t.name))
            .cloned()
            .collect();
        Ok(AzureProvider {
            settings,
            arm,
            kinds,
            types,
            data_types,
        })
    }

    /// HTTP requests retried (429, 5xx, 408, dropped connections, 409 AnotherOperationInProgress)
    /// and operations re-issued, since the provider was built.
    pub fn retry_count(&self) -> u64 {
        self.arm.retry_count()
    }

    pub fn settings(&self) -> &AzureSettings {
        &self.settings
    }

    fn kind(&self, type_name: &str) -> Result<&'static dyn Kind, ProviderError> {
        self.kinds
            .iter()
            .copied()
            .find(|k| k.name() == type_name)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Invalid,
                    format!("unsupported resource type {type_name}"),
                )
            })
    }

    fn schema_of(&self, type_name: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.name == type_name)
    }

    /// A read's context and deadline: the type's `timeouts.read` (five minutes by default).
    fn read_context(&self, type_name: &str) -> (OpContext, Deadline) {
        let timeout = self
            .schema_of(type_name)
            .map(|t| t.timeouts.read)
            .unwrap_or(std::time::Duration::from_secs(300));
        let ctx = OpContext {
            timeout,
            progress: Arc::new(|_| {}),
        };
        (ctx, Deadline::after(timeout))
    }

    fn id_for(
        &self,
        kind: &dyn Kind,
        value: &Value,
        prior: Option<&Json>,
    ) -> Result<String, ProviderError> {
        if let Some(id) = kind.arm_id(&self.settings.subscription_id, value) {
            return Ok(id);
        }
        if let Some(id) = prior
            .and_then(|p| p.get("id"))
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
        {
            return Ok(id.to_string());
        }
        Err(ProviderError::new(
            ErrorKind::Invalid,
            format!(
                "{}: the resource's name and parents must be known to address it in Azure",
                kind.name()
            ),
        ))
    }

    fn state_from(&self, kind: &dyn Kind, resp: &Json, keep: &Json) -> Json {
        let mut state = kind.to_state(resp, keep);
        if let Some(rt) = self.schema_of(kind.name()) {
            resources::reconcile(&rt.schema, &mut state, keep);
        }
        state
    }

    async fn put(
        &self,
        kind: &dyn Kind,
        planned: &Value,
        prior: Option<&Json>,
        ctx: &OpContext,
    ) -> Result<Json, ProviderError> {
        let deadline = Deadline::after(ctx.timeout);
        let id = self.id_for(kind, planned, prior)?;
        let mut planned = planned.clone();
        if let Value::Object(map) = &mut planned
            && !matches!(map.get("id"), Some(Value::String(_)))
        {
            map.insert("id".into(), Value::String(id.clone()));
        }
        let existing = if kind.merge_existing() {
            self.arm
                .get(&id, kind.api_version(), &deadline, ctx)
                .await?
        } else {
            None
        };
        let body = kind.body(&planned, existing.as_ref());
        let secrets = self.secrets_of(kind, &planned, prior);
        let resp = self
            .arm
            .put(&id, kind.api_version(), &body, &deadline, ctx)
            .await
            .map_err(|e| redact(e, &secrets))?;
        let mut state = self.state_from(kind, &resp, &planned.to_json());
        if kind.name() == "azurerm_virtual_network_gateway_connection" {
            self.sync_shared_key(&id, &planned, prior, &mut state, &deadline, ctx)
                .await
                .map_err(|e| redact(e, &secrets))?;
        }
        Ok(state)
    }

    /// IPsec/Vnet2Vnet connections: a changed `shared_key` is set through the `sharedkey`
    /// sub-resource (a connection PUT alone does not change it, azurerm#11673), and a key
    /// Azure generated is read back from it.
    async fn sync_shared_key(
        &self,
        id: &str,
        planned: &Value,
        prior: Option<&Json>,
        state: &mut Json,
        deadline: &Deadline,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        let is_er = planned
            .get("type")
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("ExpressRoute"));
        if is_er {
            return Ok(());
        }
        let path = format!("{id}/sharedkey");
        let api = NETWORK_API_VERSION;
        let wanted = planned.get("shared_key").as_str().filter(|k| !k.is_empty());
        let old = prior
            .and_then(|p| p.get("shared_key"))
            .and_then(Json::as_str);
        match wanted {
            Some(key) if prior.is_some() && old != Some(key) => {
                self.arm
                    .put(
                        &path,
                        api,
                        &serde_json::json!({ "value": key }),
                        deadline,
                        ctx,
                    )
                    .await?;
            }
            Some(_) => {}
            None => {
                if let Some(found) = self.arm.get(&path, api, deadline, ctx).await?
                    && let Some(v) = found
                        .get("value")
                        .and_then(Json::as_str)
                        .filter(|v| !v.is_empty())
                {
                    state["shared_key"] = Json::String(v.to_string());
                }
            }
        }
        Ok(())
    }

    /// Values of the sensitive attributes of this resource, to scrub from error messages.
    fn secrets_of(&self, kind: &dyn Kind, planned: &Value, prior: Option<&Json>) -> Vec<String> {
        let Some(rt) = self.schema_of(kind.name()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, attr) in &rt.schema.attributes {
            if !attr.sensitive {
                continue;
            }
            if let Some(v) = planned.get(name).as_str() {
                out.push(v.to_string());
            }
            if let Some(v) = prior.and_then(|p| p.get(*name)).and_then(Json::as_str) {
                out.push(v.to_string());
            }
        }
        out.retain(|s| s.len() >= 3);
        out
    }
}

/// Replace secret values in an error message (Azure may echo request content).
fn redact(mut err: ProviderError, secrets: &[String]) -> ProviderError {
    for secret in secrets {
        if err.message.contains(secret.as_str()) {
            err.message = err.message.replace(secret.as_str(), "(sensitive value)");
        }
    }
    err
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        PROVIDER_NAME
    }

    fn resource_types(&self) -> &[ResourceType] {
        &self.types
    }

    fn data_source_types(&self) -> &[ResourceType] {
        &self.data_types
    }

    /// A data source is a read of the object whose id its names form: the same GET and mapping
    /// as refreshing the resource type, and NotFound when Azure has no such object.
    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Json,
    ) -> Result<Json, ProviderError> {
        if !DATA_SOURCES.contains(&type_name) {
            return Err(ProviderError::new(
                ErrorKind::Invalid,
                format!(
                    "data source \"{type_name}\" is not supported; netform reads {}",
                    DATA_SOURCES.join(", ")
                ),
            )
            .with_code("UnsupportedDataSource"));
        }
        match self.read(type_name, config).await? {
            Some(found) => Ok(found),
            None => {
                let name = config.get("name").and_then(Json::as_str).unwrap_or("?");
                let rg = config.get("resource_group_name").and_then(Json::as_str);
                let place = rg
                    .map(|rg| format!(" in resource group \"{rg}\""))
                    .unwrap_or_default();
                Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{type_name} \"{name}\"{place} was not found"),
                )
                .with_code("ResourceNotFound"))
            }
        }
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<ProviderDiagnostic> {
        match self.kind(type_name) {
            Ok(kind) => {
                let mut out = kind.validate(config);
                if let Some(loc) = config.get("location").as_str()
                    && resources::regions::region_geo(loc).is_none()
                {
                    let mut d = ProviderDiagnostic::warning(
                        &["location"],
                        format!("{loc:?} is not a known Azure region"),
                    )
                    .code("LocationNotAvailableForResourceType");
                    if let Some(s) = resources::regions::suggest_region(loc) {
                        d = d.hint(format!("did you mean \"{s}\"?"));
                    }
                    out.push(d);
                }
                out
            }
            Err(_) => vec![ProviderDiagnostic::error(
                &[],
                format!("the azurerm provider does not support {type_name}"),
            )],
        }
    }

    fn validate_all(&self, resources: &[ResourceView<'_>]) -> Vec<(usize, ProviderDiagnostic)> {
        resources::validate_all(resources)
    }

    fn plan_change(&self, request: PlanChangeRequest<'_>) -> PlanChangeResponse {
        let (Ok(kind), Some(rt)) = (
            self.kind(request.type_name),
            self.schema_of(request.type_name),
        ) else {
            return PlanChangeResponse {
                planned: request.proposed,
                replace: request.replace,
                diagnostics: vec![ProviderDiagnostic::error(
                    &[],
                    format!(
                        "the azurerm provider does not support {}",
                        request.type_name
                    ),
                )],
                deferred: None,
            };
        };
        let schema = &rt.schema;
        // Values Azure normalises (location "West Europe" == "westeurope") are neither a diff nor
        // a replacement: align the prior's spelling with the configuration's and re-propose.
        let mut aligned_prior = request.prior.cloned();
        let (mut planned, mut replace) = (request.proposed, request.replace);
        if let Some(prior) = aligned_prior.as_mut()
            && resources::align_prior(schema, prior, request.config)
        {
            let (p, mut r) = propose(schema, Some(prior), request.config);
            // Keep causes the engine added beyond the generic proposal (e.g. a forced replace).
            let generic = propose(schema, request.prior, request.config).1;
            for cause in replace {
                let from_propose = generic.iter().any(|g| g.path == cause.path);
                if !from_propose && !r.iter().any(|x| x.path == cause.path) {
                    r.push(cause);
                }
            }
            planned = if r.is_empty() {
                p
            } else {
                propose(schema, None, request.config).0
            };
            replace = r;
        }
        let base_replacements = replace.len();
        let mut state = PlanState {
            sub: &self.settings.subscription_id,
            prior: aligned_prior.as_ref(),
            config: request.config,
            planned,
            replace,
            diagnostics: Vec::new(),
            deferred: None,
            world: request.world,
        };
        kind.plan(&mut state);
        if state.replace.len() > base_replacements && base_replacements == 0 {
            // A conditional replacement makes this a new object: computed values are unknown.
            state.planned = propose(schema, None, request.config).0;
        }
        if state.prior.is_some() && !state.replace.is_empty() {
            let path: Vec<&str> = state.replace[0].path.iter().map(String::as_str).collect();
            match request.type_name {
                "azurerm_express_route_circuit" => state.diagnostics.push(
                    ProviderDiagnostic::warning(&path, "replacing the circuit gives it a new service key")
                        .detail(
                            "the connectivity provider must provision the new circuit before its peerings and connections work again; traffic over ExpressRoute stops until then",
                        )
                        .hint("plan the change with your connectivity provider, or fail over to the VPN first"),
                ),
                "azurerm_virtual_network_gateway" => state.diagnostics.push(
                    ProviderDiagnostic::warning(&path, "replacing the gateway interrupts its connections")
                        .detail("deleting and re-creating a virtual network gateway takes 30-60 minutes each way"),
                ),
                _ => {}
            }
        }
        // Deterministic computed values: the ARM id is known whenever the names are.
        if let Value::Object(map) = &mut state.planned {
            let needs_id = matches!(
                map.get("id"),
                None | Some(Value::Unknown) | Some(Value::Null)
            );
            if needs_id
                && let Some(id) =
                    kind.arm_id(&self.settings.subscription_id, &Value::Object(map.clone()))
            {
                map.insert("id".into(), Value::String(id));
            }
        }
        PlanChangeResponse {
            planned: state.planned,
            replace: state.replace,
            diagnostics: state.diagnostics,
            deferred: state.deferred,
        }
    }

    fn object_id(&self, type_name: &str, value: &Value) -> Option<String> {
        self.kind(type_name)
            .ok()?
            .arm_id(&self.settings.subscription_id, value)
    }

    fn lock_keys(&self, type_name: &str, value: &Value) -> Vec<String> {
        let Ok(kind) = self.kind(type_name) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = kind
            .lock_keys(&self.settings.subscription_id, value)
            .into_iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Azure's typical durations (reference: arm-api.md §8.1; the emulator simulates the
    /// same table): a virtual network gateway takes ~45 minutes to create, a connection two.
    fn expected_duration(
        &self,
        type_name: &str,
        op: netform_engine::apply::OpKind,
    ) -> Option<std::time::Duration> {
        let delete = op == netform_engine::apply::OpKind::Delete;
        let secs = match type_name {
            "azurerm_resource_group" if delete => 45,
            "azurerm_resource_group" => 1,
            "azurerm_virtual_network"
            | "azurerm_subnet"
            | "azurerm_public_ip"
            | "azurerm_network_security_group" => 10,
            "azurerm_local_network_gateway"
            | "azurerm_express_route_circuit"
            | "azurerm_express_route_circuit_authorization" => {
                if delete {
                    10
                } else {
                    20
                }
            }
            "azurerm_express_route_circuit_peering" => {
                if delete {
                    20
                } else {
                    30
                }
            }
            "azurerm_virtual_network_gateway_connection" => {
                if delete {
                    60
                } else {
                    120
                }
            }
            "azurerm_virtual_network_gateway" => {
                if delete {
                    20 * 60
                } else {
                    45 * 60
                }
            }
            _ => return None,
        };
        Some(std::time::Duration::from_secs(secs))
    }

    /// The collection an object is listed in: its ARM id without the last segment (a
    /// resource group's public IPs, a VNet's subnets). Only for the `LISTED` types, whose
    /// ARM listing returns each object as its GET does; gateways and connections, few in any
    /// estate, and the circuit family, whose bodies carry keys, are read one by one.
    fn list_scope(&self, type_name: &str, prior: &Json) -> Option<String> {
        if !LISTED.contains(&type_name) {
            return None;
        }
        let id = prior.get("id").and_then(Json::as_str)?;
        let (scope, name) = id.rsplit_once('/')?;
        (!name.is_empty() && scope.contains("/providers/")).then(|| scope.to_ascii_lowercase())
    }

    async fn read_listed(
        &self,
        type_name: &str,
        scope: &str,
        priors: &[Json],
    ) -> Result<Vec<Option<Json>>, ProviderError> {
        let kind = self.kind(type_name)?;
        let (ctx, deadline) = self.read_context(type_name);
        let items = self
            .arm
            .list(scope, kind.api_version(), &deadline, &ctx)
            .await?;
        let by_id: std::collections::HashMap<String, &Json> = items
            .iter()
            .filter_map(|item| {
                let id = item.get("id").and_then(Json::as_str)?;
                Some((id.to_ascii_lowercase(), item))
            })
            .collect();
        Ok(priors
            .iter()
            .map(|prior| {
                let id = prior.get("id").and_then(Json::as_str)?;
                let item = by_id.get(&id.to_ascii_lowercase())?;
                Some(self.state_from(kind, item, prior))
            })
            .collect())
    }

    async fn read(&self, type_name: &str, prior: &Json) -> Result<Option<Json>, ProviderError> {
        let kind = self.kind(type_name)?;
        let (ctx, deadline) = self.read_context(type_name);
        let id = match prior
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => id.to_string(),
            None => self.id_for(kind, &Value::from_json(prior), None)?,
        };
        match self
            .arm
            .get(&id, kind.api_version(), &deadline, &ctx)
            .await?
        {
            None => Ok(None),
            Some(resp) => Ok(Some(self.state_from(kind, &resp, prior))),
        }
    }

    /// Poll the object until its `provisioningState` is no longer a transitional one (an
    /// interrupted run's operation still running in Azure), or it is gone.
    async fn wait_settled(
        &self,
        type_name: &str,
        attributes: &Json,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        let kind = self.kind(type_name)?;
        let Some(id) = attributes.get("id").and_then(Json::as_str) else {
            return Ok(());
        };
        let deadline = Deadline::after(ctx.timeout);
        loop {
            let Some(body) = self.arm.get(id, kind.api_version(), &deadline, ctx).await? else {
                return Ok(());
            };
            let state = body
                .pointer("/properties/provisioningState")
                .and_then(Json::as_str)
                .unwrap_or("Succeeded");
            if !matches!(
                state,
                "Updating" | "Creating" | "Deleting" | "Accepted" | "Provisioning"
            ) {
                return Ok(());
            }
            if deadline.remaining().is_zero() {
                return Err(ProviderError::new(
                    ErrorKind::Timeout,
                    format!("{id} is still {state}"),
                ));
            }
            (ctx.progress)(format!("an earlier operation is still running ({state})"));
            tokio::time::sleep(
                self.settings
                    .default_poll_interval
                    .min(deadline.remaining()),
            )
            .await;
        }
    }

    async fn create(
        &self,
        type_name: &str,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<Json, ProviderError> {
        let kind = self.kind(type_name)?;
        self.put(kind, planned, None, ctx).await
    }

    async fn update(
        &self,
        type_name: &str,
        prior: &Json,
        planned: &Value,
        ctx: &OpContext,
    ) -> Result<Json, ProviderError> {
        let kind = self.kind(type_name)?;
        self.put(kind, planned, Some(prior), ctx).await
    }

    async fn delete(
        &self,
        type_name: &str,
        prior: &Json,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        let kind = self.kind(type_name)?;
        let deadline = Deadline::after(ctx.timeout);
        let id = match prior
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => id.to_string(),
            None => self.id_for(kind, &Value::from_json(prior), None)?,
        };
        let secrets = self.secrets_of(kind, &Value::Null, Some(prior));
        self.arm
            .delete(&id, kind.api_version(), &deadline, ctx)
            .await
            .map_err(|e| redact(e, &secrets))
    }
}

#[cfg(test)]
mod tests;
