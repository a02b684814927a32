//! Addresses of things in a configuration, as Terraform writes them:
//! `azurerm_subnet.gateway`, `azurerm_subnet.spoke["hub"]`, `data.azurerm_resource_group.rg`,
//! `module.hub.azurerm_virtual_network.this[0]`.

use std::fmt;

/// The key of one instance of a resource or module with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{s:?}]"),
        }
    }
}

impl InstanceKey {
    /// The key as state stores it (`index_key`).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            InstanceKey::Int(i) => serde_json::Value::from(*i),
            InstanceKey::Str(s) => serde_json::Value::String(s.clone()),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        match v {
            serde_json::Value::Number(n) => n.as_i64().map(InstanceKey::Int),
            serde_json::Value::String(s) => Some(InstanceKey::Str(s.clone())),
            _ => None,
        }
    }
}

/// One step of a module path: `module.NAME` or `module.NAME[KEY]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Managed,
    Data,
}

/// The address of a resource instance (or, with `key: None` and expansion, the resource).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddress {
    /// Empty for the root module.
    pub module: Vec<ModuleStep>,
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl ResourceAddress {
    /// A managed resource in the root module, without an instance key.
    pub fn new(type_name: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceAddress {
            module: Vec::new(),
            mode: Mode::Managed,
            type_name: type_name.into(),
            name: name.into(),
            key: None,
        }
    }

    pub fn with_key(mut self, key: Option<InstanceKey>) -> Self {
        self.key = key;
        self
    }

    pub fn in_module(mut self, module: Vec<ModuleStep>) -> Self {
        self.module = module;
        self
    }

    pub fn data(mut self) -> Self {
        self.mode = Mode::Data;
        self
    }

    /// The same resource without its instance key (what `depends_on` and graphs talk about).
    pub fn resource(&self) -> ResourceAddress {
        ResourceAddress {
            key: None,
            ..self.clone()
        }
    }

    /// `module.a.module.b` (empty for the root module), as state's `module` field.
    pub fn module_path(&self) -> String {
        let mut out = String::new();
        for (i, m) in self.module.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str("module.");
            out.push_str(&m.name);
            if let Some(k) = &m.key {
                out.push_str(&k.to_string());
            }
        }
        out
    }

    /// Parse `[module.NAME[KEY].]...[data.]TYPE.NAME[KEY]`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut p = Parser {
            s: text.trim(),
            pos: 0,
        };
        let mut module = Vec::new();
        loop {
            let save = p.pos;
            let word = p.ident()?;
            if word == "module" && p.eat('.') {
                let name = p.ident()?;
                let key = p.key()?;
                module.push(ModuleStep { name, key });
                if !p.eat('.') {
                    return None;
                }
                continue;
            }
            p.pos = save;
            break;
        }
        let mut mode = Mode::Managed;
        let mut type_name = p.ident()?;
        if type_name == "data" && p.peek() == Some('.') {
            p.eat('.');
            mode = Mode::Data;
            type_name = p.ident()?;
        }
        if !p.eat('.') {
            return None;
        }
        let name = p.ident()?;
        let key = p.key()?;
        if p.pos != p.s.len() {
            return None;
        }
        Some(ResourceAddress {
            module,
            mode,
            type_name,
            name,
            key,
        })
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Option<String> {
        let rest = &self.s[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(rest[..len].to_string())
    }
    /// An optional `[0]` or `["key"]`; `None` on a malformed key.
    fn key(&mut self) -> Option<Option<InstanceKey>> {
        if !self.eat('[') {
            return Some(None);
        }
        let rest = &self.s[self.pos..];
        let end = rest.find(']')?;
        let inner = &rest[..end];
        self.pos += end + 1;
        if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Some(Some(InstanceKey::Str(q.replace("\\\"", "\""))));
        }
        inner
            .trim()
            .parse::<i64>()
            .ok()
            .map(|i| Some(InstanceKey::Int(i)))
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.module {
            write!(f, "module.{}", m.name)?;
            if let Some(k) = &m.key {
                write!(f, "{k}")?;
            }
            f.write_str(".")?;
        }
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_name, self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for text in [
            "azurerm_subnet.gateway",
            "azurerm_subnet.spoke[\"hub\"]",
            "azurerm_subnet.spoke[3]",
            "data.azurerm_resource_group.rg",
            "module.hub.azurerm_virtual_network.this",
            "module.spokes[\"a\"].module.inner[0].azurerm_subnet.s[\"x\"]",
        ] {
            let a = ResourceAddress::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(a.to_string(), text);
        }
        assert!(ResourceAddress::parse("nodot").is_none());
        assert!(ResourceAddress::parse("a.b[").is_none());
        assert!(ResourceAddress::parse("a.b c").is_none());
    }
}
