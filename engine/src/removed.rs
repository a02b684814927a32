//! `removed { from = ADDR  lifecycle { destroy = false } }` (Terraform 1.7+): a resource or
//! module taken out of the configuration on purpose. With `destroy = false` its objects are
//! forgotten (dropped from state, left in the cloud); with `destroy = true` (the default, as
//! in Terraform 1.9+) they are destroyed as any resource without configuration is.

use hcl_edit::structure::Block;

use crate::addr::{ModuleStep, ResourceAddress};
use crate::config::{Config, check_names, module_key, span_of};
use crate::diag::{Diagnostic, Span};

/// What a `removed` block names: every instance of a resource, or everything in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovedTarget {
    /// A resource (module steps and the resource without instance keys).
    Resource(ResourceAddress),
    /// A module call by names from the root (`["hub"]` for `module.hub`).
    Module(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Removed {
    pub from: RemovedTarget,
    /// `lifecycle { destroy = ... }`; `true` when absent.
    pub destroy: bool,
    /// The block header.
    pub span: Span,
    /// The `from` expression.
    pub from_span: Span,
}

impl Removed {
    /// Whether the object at `addr` (in state) is one this block removes.
    pub fn matches(&self, addr: &ResourceAddress) -> bool {
        let names = addr.module.iter().map(|m| m.name.as_str());
        match &self.from {
            RemovedTarget::Resource(r) => {
                r.mode == addr.mode
                    && r.type_name == addr.type_name
                    && r.name == addr.name
                    && r.module.len() == addr.module.len()
                    && names.eq(r.module.iter().map(|m| m.name.as_str()))
            }
            RemovedTarget::Module(path) => {
                addr.module.len() >= path.len()
                    && names.take(path.len()).eq(path.iter().map(String::as_str))
            }
        }
    }

    fn target_text(&self) -> String {
        match &self.from {
            RemovedTarget::Resource(r) => r.to_string(),
            RemovedTarget::Module(path) => module_key(path),
        }
    }
}

impl Config {
    /// The `removed` block with `destroy = false` that covers the object at `addr`, if any.
    pub fn forgotten(&self, addr: &ResourceAddress) -> Option<&Removed> {
        self.removed.iter().find(|r| !r.destroy && r.matches(addr))
    }
}

/// Parse one `removed` block of the module at `steps` (its addresses are relative to it).
pub(crate) fn parse(
    config: &mut Config,
    steps: &[ModuleStep],
    file: usize,
    block: &Block,
    span: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) {
    let span = span.unwrap_or(Span::new(file, 0..0));
    check_names(
        file,
        &block.body,
        &["from"],
        &["lifecycle", "provisioner", "connection"],
        "removed",
        diags,
    );
    let mut destroy = true;
    for lc in block
        .body
        .blocks()
        .filter(|b| b.ident.as_str() == "lifecycle")
    {
        check_names(file, &lc.body, &["destroy"], &[], "lifecycle", diags);
        if let Some(attr) = lc.body.get_attribute("destroy") {
            match &attr.value {
                hcl_edit::expr::Expression::Bool(b) => destroy = *b.value(),
                other => diags.push(
                    Diagnostic::error("`destroy` must be a literal true or false")
                        .label(span_of(file, other), "expressions are not allowed here"),
                ),
            }
        }
    }
    let Some(from) = block.body.get_attribute("from") else {
        diags.push(
            Diagnostic::error("A `removed` block needs `from`")
                .label(Some(span), "add `from = TYPE.NAME` or `from = module.NAME`"),
        );
        return;
    };
    let from_span = span_of(file, &from.value).unwrap_or(span.clone());
    let text = from.value.to_string();
    let text = text.trim();
    let invalid = |diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error("Invalid address in `removed`")
                .label(
                    Some(from_span.clone()),
                    "expected a resource address such as azurerm_subnet.old, or a module such as module.hub",
                )
                .code("netform::removed"),
        );
    };
    let target = if let Some(r) = ResourceAddress::parse(text) {
        if r.mode == crate::addr::Mode::Data {
            diags.push(
                Diagnostic::error("Data sources cannot be removed")
                    .detail("A data source is not in state as an object netform manages: delete its `data` block instead.")
                    .label(Some(from_span.clone()), "a data source"),
            );
            return;
        }
        if r.key.is_some() {
            diags.push(
                Diagnostic::error("Resource instance keys not allowed")
                    .detail("Resource address must be a resource (e.g. \"azurerm_subnet.old\"), not a resource instance (e.g. \"azurerm_subnet.old[1]\").")
                    .label(Some(from_span.clone()), "remove the instance key")
                    .code("netform::removed"),
            );
            return;
        }
        if r.module.iter().any(|m| m.key.is_some()) {
            module_key_error(&from_span, diags);
            return;
        }
        let mut full = steps.to_vec();
        full.extend(r.module.clone());
        RemovedTarget::Resource(r.in_module(full))
    } else if text.starts_with("module.") {
        // `module.a.module.b`: parse it as the module part of a resource address.
        let Some(r) = ResourceAddress::parse(&format!("{text}.t.n")) else {
            invalid(diags);
            return;
        };
        if r.module.is_empty() {
            invalid(diags);
            return;
        }
        if r.module.iter().any(|m| m.key.is_some()) {
            module_key_error(&from_span, diags);
            return;
        }
        let mut path: Vec<String> = steps.iter().map(|s| s.name.clone()).collect();
        path.extend(r.module.into_iter().map(|m| m.name));
        RemovedTarget::Module(path)
    } else {
        invalid(diags);
        return;
    };
    config.removed.push(Removed {
        from: target,
        destroy,
        span,
        from_span,
    });
}

fn module_key_error(from_span: &Span, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::error("Module instance keys not allowed")
            .detail("Module address must be a module (e.g. \"module.hub\"), not a module instance (e.g. \"module.hub[1]\").")
            .label(Some(from_span.clone()), "remove the instance key")
            .code("netform::removed"),
    );
}

/// Checks once every module is loaded: what a `removed` block names must be gone from the
/// configuration.
pub fn validate(config: &Config) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for r in &config.removed {
        let (still, what) = match &r.from {
            RemovedTarget::Resource(a) => (config.resource(a).is_some(), "resource"),
            RemovedTarget::Module(path) => (config.module(path).is_some(), "module"),
        };
        if still {
            let target = r.target_text();
            let title = if what == "resource" {
                "Removed resource block still exists"
            } else {
                "Removed module still exists"
            };
            diags.push(
                Diagnostic::error(title)
                    .detail(format!(
                        "This statement declares that {target} was removed, but it is still declared in configuration."
                    ))
                    .label(Some(r.from_span.clone()), format!("{target} is still in the configuration"))
                    .help(format!("delete the {what} block of {target}, or this `removed` block"))
                    .code("netform::removed"),
            );
        }
    }
    diags
}

/// The warning Terraform prints when a plan forgets objects.
pub fn forget_warning(addrs: &[&ResourceAddress]) -> Option<Diagnostic> {
    if addrs.is_empty() {
        return None;
    }
    let list: String = addrs.iter().map(|a| format!("\n - {a}")).collect();
    Some(
        Diagnostic::warning("Some objects will no longer be managed by netform").detail(format!(
            "If you apply this plan, netform will discard its tracking information for the following objects, but it will not delete them:{list}\n\nAfter applying this plan, netform will no longer manage these objects. You will need to import them into netform to manage them again."
        )),
    )
}

/// Drop the objects `plan` forgets from `state` (nothing changes in the cloud); whether any
/// were dropped.
pub fn forget(
    plan: &crate::plan::Plan,
    mut state: crate::state::State,
) -> (crate::state::State, bool) {
    let mut any = false;
    for c in plan
        .changes
        .iter()
        .filter(|c| c.action == crate::plan::Action::Forget)
    {
        any |= state.remove(&c.addr).is_some();
    }
    (state, any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SourceFile, load};

    fn config(text: &str) -> (Config, Vec<Diagnostic>) {
        load(vec![SourceFile {
            name: "main.tf".into(),
            text: text.into(),
        }])
    }

    #[test]
    fn parses_targets_and_destroy() {
        let (c, diags) = config(
            "removed {\n  from = azurerm_subnet.old\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = module.hub\n}\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(c.removed.len(), 2);
        assert!(!c.removed[0].destroy && c.removed[1].destroy);
        let old = ResourceAddress::new("azurerm_subnet", "old")
            .with_key(Some(crate::addr::InstanceKey::Int(1)));
        assert!(c.forgotten(&old).is_some());
        let in_hub = ResourceAddress::parse("module.hub[\"a\"].azurerm_subnet.x").expect("addr");
        assert!(c.removed[1].matches(&in_hub));
        assert!(c.forgotten(&in_hub).is_none(), "destroy = true is a delete");
        assert!(validate(&c).is_empty());
    }

    #[test]
    fn instance_keys_and_live_blocks_are_errors() {
        let (_, diags) = config("removed {\n  from = azurerm_subnet.old[0]\n}\n");
        assert_eq!(diags[0].summary, "Resource instance keys not allowed");
        let (c, diags) = config(
            "resource \"azurerm_resource_group\" \"rg\" {\n  name = \"x\"\n  location = \"y\"\n}\nremoved {\n  from = azurerm_resource_group.rg\n}\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            validate(&c)[0].summary,
            "Removed resource block still exists"
        );
    }
}
