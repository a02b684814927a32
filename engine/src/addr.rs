//! Addresses of things in a configuration (`azurerm_subnet.gateway`).

use std::fmt;

/// The address of a managed resource instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddress {
    pub type_name: String,
    pub name: String,
}

impl ResourceAddress {
    pub fn new(type_name: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceAddress {
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    /// Parse `type.name`.
    pub fn parse(text: &str) -> Option<Self> {
        let (t, n) = text.split_once('.')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        (valid(t) && valid(n)).then(|| ResourceAddress::new(t, n))
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.type_name, self.name)
    }
}
