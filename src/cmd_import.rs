//! `netform import ADDRESS ID`: bring an existing Azure object under management by recording
//! it in state at ADDRESS (which the configuration must declare). Nothing changes in Azure.

use std::sync::Arc;

use netform_engine::addr::ResourceAddress;
use netform_engine::provider::Provider;

use crate::{Ctx, LockArgs, VarArgs, cloud, cmd_state, load, offline_provider, parse_vars};

pub async fn run(
    ctx: &Ctx,
    address: &str,
    id: &str,
    vars: &VarArgs,
    lock: &LockArgs,
) -> Result<u8, String> {
    let addr = ResourceAddress::parse(address).ok_or_else(|| {
        format!("\"{address}\" is not a resource address (e.g. azurerm_subnet.gw or azurerm_subnet.spoke[\"app\"])")
    })?;
    let offline = offline_provider()?;
    let Some(project) = load(ctx, &parse_vars(vars)?, offline.as_ref())? else {
        return Ok(1);
    };
    let Some(rc) = project.config.resource(&addr) else {
        return Err(format!(
            "resource address \"{address}\" does not exist in the configuration\nBefore importing this resource, add a resource block for it, e.g. resource \"{}\" \"{}\" {{ ... }}",
            addr.type_name, addr.name
        ));
    };
    match (rc.repetition(), &addr.key) {
        (Some(_), None) => {
            return Err(format!(
                "{address} uses count or for_each: name one instance, e.g. {address}[0] or {address}[\"key\"]"
            ));
        }
        (None, Some(_)) => {
            return Err(format!(
                "{} has neither count nor for_each: import it without an instance key",
                addr.resource()
            ));
        }
        _ => {}
    }
    let store = cmd_state::open_store(&ctx.dir)?;
    let _lock = cmd_state::lock(store.clone(), "import", lock).await?;
    let mut state = cmd_state::load(store.as_ref())?;
    if state.get(&addr).is_some() {
        return Err(format!(
            "{address} is already managed by netform (run `netform state rm {address}` first to import another object there)"
        ));
    }
    let cloud = cloud::connect(
        &ctx.dir,
        &project.provider_block,
        &project.provider_aliases,
        ctx.embedded,
        ctx.endpoint.as_deref(),
    )
    .await?;
    let provider: Arc<dyn Provider> = cloud.provider.clone();
    println!("{address}: Importing from ID \"{id}\"...");
    let alias = project.config.provider_alias(&addr);
    let read = provider
        .for_alias(alias.as_deref())
        .read(&addr.type_name, &serde_json::json!({ "id": id }))
        .await;
    if let Some(emu) = cloud.emulator {
        emu.shutdown().await;
    }
    let attrs = match read {
        Ok(Some(attrs)) => attrs,
        Ok(None) => {
            return Err(format!(
                "Cannot import non-existent remote object: no {} with id {id}",
                addr.type_name
            ));
        }
        Err(e) => return Err(format!("Error importing {address}: {}", e.message)),
    };
    let sensitive = provider
        .resource_type(&addr.type_name)
        .map(|rt| rt.schema.sensitive_paths())
        .unwrap_or_default();
    let address =
        netform_engine::state::aliased_provider_address(provider.name(), alias.as_deref());
    state.set(&addr, &address, attrs, sensitive, Vec::new());
    state.serial += 1;
    store.save(&state).map_err(|e| e.to_string())?;
    println!(
        "{address}: Import prepared!\n\nImport successful!\n\nThe resource is now managed by netform; run `netform plan` to compare it with the configuration."
    );
    Ok(0)
}
