//! The `backend` block of `terraform { … }`: where state lives. Additive to `config`: the
//! loader ignores the `terraform` block, this reads only the backend out of it.
//!
//! Like Terraform, backend arguments are literal values: variables, locals and functions are
//! not available (state must be found before anything is evaluated). Secrets belong in the
//! environment (`ARM_ACCESS_KEY`, `PG_CONN_STR`, …), not in the file.

use std::collections::BTreeMap;

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;

use crate::config::SourceFile;
use crate::diag::{Diagnostic, Span};

/// The backends netform knows.
pub const BACKEND_TYPES: &[&str] = &["local", "azurerm", "pg"];

#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    /// `azurerm`, `pg`, `local`.
    pub type_name: String,
    /// Attribute name → literal value.
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Where the block is (its `backend "…"` header).
    pub span: Option<Span>,
}

impl BackendConfig {
    pub fn string(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(|v| v.as_str())
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attributes.get(name).and_then(|v| v.as_bool())
    }
}

/// The backend configured in `sources` (`None`: the default local state file), with what is
/// wrong with it. Syntax errors are left to the configuration loader.
pub fn extract(sources: &[SourceFile]) -> (Option<BackendConfig>, Vec<Diagnostic>) {
    let mut found: Option<BackendConfig> = None;
    let mut diags = Vec::new();
    for (file, source) in sources.iter().enumerate() {
        // A file without the word has no backend block: skip parsing it a second time
        // (`config::load` parses every file already; this was 6 % of a plan).
        if !source.text.contains("backend") {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(&source.text) else {
            continue;
        };
        for terraform in body.blocks().filter(|b| b.ident.as_str() == "terraform") {
            for block in terraform
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == "backend")
            {
                let span = block.ident.span().map(|r| Span::new(file, r));
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let [type_name] = labels.as_slice() else {
                    diags.push(
                        Diagnostic::error("a backend block takes one label: its type")
                            .label(span, "e.g. backend \"azurerm\" { … }")
                            .code("netform::backend"),
                    );
                    continue;
                };
                if found.is_some() {
                    diags.push(
                        Diagnostic::error("only one backend can be configured")
                            .label(span, "a second backend block")
                            .code("netform::backend"),
                    );
                    continue;
                }
                if !BACKEND_TYPES.contains(type_name) {
                    diags.push(
                        Diagnostic::error(format!("unknown backend type \"{type_name}\""))
                            .label(span.clone(), "not a backend netform knows")
                            .help(format!("use one of: {}", BACKEND_TYPES.join(", ")))
                            .code("netform::backend"),
                    );
                }
                let mut attributes = BTreeMap::new();
                for attr in block.body.attributes() {
                    match literal(&attr.value) {
                        Some(v) => {
                            attributes.insert(attr.key.as_str().to_string(), v);
                        }
                        None => diags.push(
                            Diagnostic::error(format!(
                                "backend argument \"{}\" must be a literal value",
                                attr.key.as_str()
                            ))
                            .label(
                                attr.value.span().map(|r| Span::new(file, r)),
                                "variables, locals and functions are not available here",
                            )
                            .help("state is located before anything is evaluated; put secrets in the environment instead (ARM_ACCESS_KEY, ARM_SAS_TOKEN, PG_CONN_STR)")
                            .code("netform::backend"),
                        ),
                    }
                }
                found = Some(BackendConfig {
                    type_name: type_name.to_string(),
                    attributes,
                    span,
                });
            }
        }
    }
    (found, diags)
}

fn literal(expr: &Expression) -> Option<serde_json::Value> {
    Some(match expr {
        Expression::String(s) => serde_json::Value::String(s.value().to_string()),
        Expression::Bool(b) => serde_json::Value::Bool(*b.value()),
        Expression::Number(n) => {
            let n = n.value();
            if let Some(i) = n.as_i64() {
                serde_json::json!(i)
            } else {
                serde_json::json!(n.as_f64()?)
            }
        }
        Expression::Null(_) => serde_json::Value::Null,
        Expression::Array(items) => {
            serde_json::Value::Array(items.iter().map(literal).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Vec<SourceFile> {
        vec![SourceFile {
            name: "main.tf".into(),
            text: text.into(),
        }]
    }

    #[test]
    fn reads_the_backend_block() {
        let (b, diags) = extract(&src(r#"
terraform {
  required_version = ">= 1.0"
  backend "azurerm" {
    storage_account_name = "tfstate123"
    container_name       = "tfstate"
    key                  = "prod.tfstate"
    use_azuread_auth     = false
    timeout_seconds      = 30
  }
}
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}
"#));
        assert!(diags.is_empty(), "{diags:?}");
        let b = b.unwrap();
        assert_eq!(b.type_name, "azurerm");
        assert_eq!(b.string("key"), Some("prod.tfstate"));
        assert_eq!(b.bool("use_azuread_auth"), Some(false));
        assert_eq!(b.attributes["timeout_seconds"], serde_json::json!(30));
        assert!(b.span.is_some());
    }

    #[test]
    fn no_backend_means_local() {
        let (b, diags) = extract(&src("terraform {\n  required_version = \">= 1\"\n}\n"));
        assert!(b.is_none() && diags.is_empty());
        let (b, _) = extract(&src("resource \"a\" \"b\" {}\n"));
        assert!(b.is_none());
    }

    #[test]
    fn rejects_unknown_types_expressions_and_duplicates() {
        let (_, diags) = extract(&src(r#"
terraform {
  backend "s3" {
    bucket = var.bucket
  }
}
terraform {
  backend "pg" {}
}
"#));
        let text: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert!(text.contains(&"unknown backend type \"s3\""), "{text:?}");
        assert!(
            text.contains(&"backend argument \"bucket\" must be a literal value"),
            "{text:?}"
        );
        assert!(
            text.contains(&"only one backend can be configured"),
            "{text:?}"
        );
        assert!(diags.iter().all(|d| !d.labels.is_empty()));
    }
}
