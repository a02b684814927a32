//! Resource schemas: what a provider declares about each resource type's attributes and blocks.
//!
//! The engine uses them to decode configuration (unknown attributes, missing required ones,
//! type conversion), to fill computed values, to decide replacements for `force_new`
//! attributes, and to redact sensitive values.

use std::collections::BTreeMap;

/// The type of an attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    String,
    Number,
    Bool,
    List(Box<AttrType>),
    Set(Box<AttrType>),
    Map(Box<AttrType>),
}

/// Who sets the attribute: the user, the provider, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Set by the provider only; the user may not write it.
    Computed,
    /// The user may set it; otherwise the provider computes it.
    OptionalComputed,
}

#[derive(Debug, Clone)]
pub struct AttrSchema {
    pub ty: AttrType,
    pub presence: Presence,
    pub sensitive: bool,
    /// Changing it replaces the resource.
    pub force_new: bool,
    /// Value used when the user leaves an optional attribute out.
    pub default: Option<crate::Value>,
    /// Compared case-insensitively (Azure echoes names and enums in its own casing).
    pub case_insensitive: bool,
    /// Former names still accepted, with a deprecation warning (e.g. `enable_bgp` → `bgp_enabled`).
    pub aliases: Vec<&'static str>,
    pub description: &'static str,
}

impl AttrSchema {
    pub fn new(ty: AttrType, presence: Presence) -> Self {
        AttrSchema {
            ty,
            presence,
            sensitive: false,
            force_new: false,
            default: None,
            case_insensitive: false,
            aliases: Vec::new(),
            description: "",
        }
    }
    pub fn required(ty: AttrType) -> Self {
        Self::new(ty, Presence::Required)
    }
    pub fn optional(ty: AttrType) -> Self {
        Self::new(ty, Presence::Optional)
    }
    pub fn computed(ty: AttrType) -> Self {
        Self::new(ty, Presence::Computed)
    }
    pub fn optional_computed(ty: AttrType) -> Self {
        Self::new(ty, Presence::OptionalComputed)
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn default(mut self, value: impl Into<crate::Value>) -> Self {
        self.default = Some(value.into());
        self
    }
    pub fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }
    pub fn alias(mut self, old_name: &'static str) -> Self {
        self.aliases.push(old_name);
        self
    }
    pub fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }
    pub fn user_settable(&self) -> bool {
        self.presence != Presence::Computed
    }
    pub fn computed_by_provider(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
}

/// A nested block such as `sku { ... }` or `ip_configuration { ... }`.
/// Blocks are stored as lists of objects, as Terraform stores them.
#[derive(Debug, Clone)]
pub struct BlockSchema {
    pub body: Schema,
    pub min_items: usize,
    pub max_items: usize,
    /// Any change inside the block replaces the resource.
    pub force_new: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub attributes: BTreeMap<&'static str, AttrSchema>,
    pub blocks: BTreeMap<&'static str, BlockSchema>,
}

impl Schema {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn attr(mut self, name: &'static str, attr: AttrSchema) -> Self {
        self.attributes.insert(name, attr);
        self
    }
    pub fn block(
        mut self,
        name: &'static str,
        min_items: usize,
        max_items: usize,
        body: Schema,
    ) -> Self {
        self.blocks.insert(
            name,
            BlockSchema {
                body,
                min_items,
                max_items,
                force_new: false,
            },
        );
        self
    }
    pub fn block_force_new(
        mut self,
        name: &'static str,
        min_items: usize,
        max_items: usize,
        body: Schema,
    ) -> Self {
        self.blocks.insert(
            name,
            BlockSchema {
                body,
                min_items,
                max_items,
                force_new: true,
            },
        );
        self
    }
    /// Find an attribute by its current name or a deprecated alias; returns the current name.
    pub fn resolve_attr(&self, name: &str) -> Option<(&'static str, &AttrSchema, bool)> {
        if let Some((k, a)) = self.attributes.get_key_value(name) {
            return Some((k, a, false));
        }
        self.attributes
            .iter()
            .find(|(_, a)| a.aliases.contains(&name))
            .map(|(k, a)| (*k, a, true))
    }
    /// The sensitive top-level attributes as state's `sensitive_attributes` paths
    /// (`[{"type": "get_attr", "value": "shared_key"}]`), as Terraform records them.
    pub fn sensitive_paths(&self) -> Vec<serde_json::Value> {
        self.attributes
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(k, _)| serde_json::json!([{"type": "get_attr", "value": k}]))
            .collect()
    }

    /// Every attribute name and block name, for "did you mean" hints.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attributes.keys().chain(self.blocks.keys()).copied()
    }
}

/// A resource type as a provider declares it.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub name: &'static str,
    pub schema: Schema,
    /// Default operation timeouts (create, update, delete), as azurerm sets them.
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub create: std::time::Duration,
    pub update: std::time::Duration,
    pub delete: std::time::Duration,
    pub read: std::time::Duration,
}

impl Timeouts {
    pub const fn minutes(create: u64, update: u64, delete: u64, read: u64) -> Self {
        Timeouts {
            create: std::time::Duration::from_secs(create * 60),
            update: std::time::Duration::from_secs(update * 60),
            delete: std::time::Duration::from_secs(delete * 60),
            read: std::time::Duration::from_secs(read * 60),
        }
    }
}
