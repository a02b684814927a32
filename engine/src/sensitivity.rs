//! Which values are sensitive, found statically as Terraform's marks would flow: a variable
//! declared `sensitive = true`, anything derived from it through locals, module inputs and
//! module outputs, and `sensitive(...)`; `nonsensitive(...)` removes the mark.
//!
//! Used to refuse root outputs that would show a secret without `sensitive = true`, and to
//! find the resource attributes that hold secrets (rendered `(sensitive value)`, `null` with
//! a sensitivity mirror in JSON plans).

use std::collections::{BTreeMap, BTreeSet};

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element, Template};

use crate::addr::ResourceAddress;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::provider::AttrPath;
use crate::refs::{self, RefTarget};

type ModPath = Vec<String>;

/// The sensitive variables, locals and outputs of every module of a configuration.
#[derive(Debug, Default)]
pub struct Sensitivity {
    vars: BTreeSet<(ModPath, String)>,
    locals: BTreeSet<(ModPath, String)>,
    outputs: BTreeSet<(ModPath, String)>,
}

impl Sensitivity {
    /// Propagate sensitivity until nothing changes (marks only ever get added, so this ends).
    pub fn analyze(config: &Config) -> Self {
        let mut s = Sensitivity::default();
        let mut paths: Vec<ModPath> = vec![Vec::new()];
        paths.extend(config.modules.values().map(|m| m.path.clone()));
        for p in &paths {
            let (vars, _, outputs) = config.module_items(p);
            for v in vars.values().filter(|v| v.sensitive) {
                s.vars.insert((p.clone(), v.name.clone()));
            }
            for o in outputs.values().filter(|o| o.sensitive) {
                s.outputs.insert((p.clone(), o.name.clone()));
            }
        }
        if s.vars.is_empty() && s.outputs.is_empty() && !uses_sensitive_fn(config) {
            return s;
        }
        loop {
            let mut changed = false;
            for p in &paths {
                let (_, locals, outputs) = config.module_items(p);
                for l in locals.values() {
                    let key = (p.clone(), l.name.clone());
                    if !s.locals.contains(&key) && s.expr(p, &l.expr, l.file) {
                        s.locals.insert(key);
                        changed = true;
                    }
                }
                // Child module outputs carry their marks to the caller (a root output must
                // say `sensitive = true`; that is checked by `output_errors`).
                if !p.is_empty() {
                    for o in outputs.values() {
                        let key = (p.clone(), o.name.clone());
                        if !s.outputs.contains(&key) && s.expr(p, &o.expr, o.file) {
                            s.outputs.insert(key);
                            changed = true;
                        }
                    }
                }
            }
            for m in config.modules.values() {
                let parent = &m.path[..m.path.len() - 1];
                for (name, (expr, _)) in &m.call.inputs {
                    let key = (m.path.clone(), name.clone());
                    if !s.vars.contains(&key) && s.expr(parent, expr, m.call.file) {
                        s.vars.insert(key);
                        changed = true;
                    }
                }
            }
            if !changed {
                return s;
            }
        }
    }

    /// Whether `expr`, in the module at `path`, yields a sensitive value.
    pub fn expr(&self, path: &[String], expr: &Expression, file: usize) -> bool {
        match expr {
            Expression::FuncCall(f) => match f.name.name.as_str() {
                "nonsensitive" => false,
                "sensitive" => true,
                _ => f.args.iter().any(|a| self.expr(path, a, file)),
            },
            Expression::Null(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_)
            | Expression::Variable(_) => false,
            Expression::Array(items) => items.iter().any(|e| self.expr(path, e, file)),
            Expression::Object(obj) => obj.iter().any(|(k, v)| {
                matches!(k, hcl_edit::expr::ObjectKey::Expression(e) if self.expr(path, e, file))
                    || self.expr(path, v.expr(), file)
            }),
            Expression::StringTemplate(t) => self.template(path, t, file),
            Expression::HeredocTemplate(h) => self.template(path, &h.template, file),
            Expression::Parenthesis(p) => self.expr(path, p.inner(), file),
            Expression::Conditional(c) => {
                self.expr(path, &c.cond_expr, file)
                    || self.expr(path, &c.true_expr, file)
                    || self.expr(path, &c.false_expr, file)
            }
            Expression::UnaryOp(op) => self.expr(path, &op.expr, file),
            Expression::BinaryOp(op) => {
                self.expr(path, &op.lhs_expr, file) || self.expr(path, &op.rhs_expr, file)
            }
            Expression::ForExpr(f) => {
                self.expr(path, &f.intro.collection_expr, file)
                    || f.key_expr
                        .as_ref()
                        .is_some_and(|k| self.expr(path, k, file))
                    || self.expr(path, &f.value_expr, file)
            }
            Expression::Traversal(t) => {
                let indexes = t.operators.iter().any(|op| {
                    matches!(op.value(), TraversalOperator::Index(e) if self.expr(path, e, file))
                });
                if indexes {
                    return true;
                }
                match &t.expr {
                    Expression::Variable(_) => {
                        let mut found = Vec::new();
                        refs::in_expr(expr, file, &mut found);
                        found.iter().any(|r| self.target(path, &r.target))
                    }
                    base => self.expr(path, base, file),
                }
            }
        }
    }

    fn template(&self, path: &[String], t: &Template, file: usize) -> bool {
        t.iter().any(|el| match el {
            Element::Literal(_) => false,
            Element::Interpolation(i) => self.expr(path, &i.expr, file),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(dir) => {
                    self.expr(path, &dir.if_expr.cond_expr, file)
                        || self.template(path, &dir.if_expr.template, file)
                        || dir
                            .else_expr
                            .as_ref()
                            .is_some_and(|e| self.template(path, &e.template, file))
                }
                Directive::For(dir) => {
                    self.expr(path, &dir.for_expr.collection_expr, file)
                        || self.template(path, &dir.for_expr.template, file)
                }
            },
        })
    }

    fn target(&self, path: &[String], target: &RefTarget) -> bool {
        let key = |name: &str| (path.to_vec(), name.to_string());
        match target {
            RefTarget::Var(v) => self.vars.contains(&key(v)),
            RefTarget::Local(l) => self.locals.contains(&key(l)),
            RefTarget::Module(name, output) => {
                let mut child = path.to_vec();
                child.push(name.clone());
                match output {
                    Some(o) => self.outputs.contains(&(child, o.clone())),
                    None => self.outputs.iter().any(|(p, _)| *p == child),
                }
            }
            RefTarget::Resource(_) => false,
        }
    }

    /// Root outputs that show a sensitive value without `sensitive = true` (Terraform's
    /// "Output refers to sensitive values").
    pub fn output_errors(&self, config: &Config) -> Vec<Diagnostic> {
        config
            .outputs
            .values()
            .filter(|o| !o.sensitive && self.expr(&[], &o.expr, o.file))
            .map(|o| {
                Diagnostic::error("Output refers to sensitive values")
                    .detail(format!(
                        "Output \"{}\" shows a value derived from a sensitive variable (directly, through locals or modules, or marked with sensitive()). To reduce the risk of exporting secrets by accident, netform requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent.",
                        o.name
                    ))
                    .label(Some(o.span.clone()), "this output shows a sensitive value")
                    .help("add `sensitive = true` to the output block if you intend to expose it to callers")
                    .code("netform::sensitive_output")
            })
            .collect()
    }

    /// Attribute paths of each resource (static address: module steps without keys) whose
    /// configured value is sensitive.
    pub fn resource_paths(&self, config: &Config) -> BTreeMap<ResourceAddress, Vec<AttrPath>> {
        let mut out = BTreeMap::new();
        // Without sensitive variables, outputs or `sensitive(...)` calls nothing is marked.
        if self.vars.is_empty() && self.outputs.is_empty() && !uses_sensitive_fn(config) {
            return out;
        }
        for r in &config.resources {
            let path: ModPath = r.addr.module.iter().map(|m| m.name.clone()).collect();
            let mut paths = Vec::new();
            self.body(&path, &r.body, r.file, &mut Vec::new(), &mut paths);
            // `terraform_data` shows its input again as `output`.
            if crate::builtin::is_builtin(&r.addr.type_name)
                && paths.iter().any(|p| p.len() == 1 && p[0] == "input")
            {
                paths.push(vec!["output".to_string()]);
            }
            if !paths.is_empty() {
                out.insert(r.addr.clone(), paths);
            }
        }
        out
    }

    fn body(
        &self,
        module: &[String],
        body: &Body,
        file: usize,
        path: &mut Vec<String>,
        out: &mut Vec<AttrPath>,
    ) {
        for a in body.attributes() {
            if self.expr(module, &a.value, file) {
                let mut p = path.clone();
                p.push(a.key.as_str().to_string());
                out.push(p);
            }
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for b in body.blocks() {
            let name = b.ident.as_str().to_string();
            let i = counts.entry(name.clone()).or_insert(0);
            path.push(name);
            path.push(i.to_string());
            self.body(module, &b.body, file, path, out);
            path.pop();
            path.pop();
            *i += 1;
        }
    }
}

/// Whether any source text calls `sensitive(` (a cheap pre-check that keeps configurations
/// without secrets from paying for the analysis).
fn uses_sensitive_fn(config: &Config) -> bool {
    config.sources.iter().any(|s| {
        s.text.match_indices("sensitive").any(|(i, _)| {
            let before = s.text[..i].chars().next_back();
            let rest = s.text[i + "sensitive".len()..].trim_start();
            rest.starts_with('(') && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SourceFile, load};

    fn config(text: &str) -> Config {
        let (c, diags) = load(vec![SourceFile {
            name: "main.tf".into(),
            text: text.into(),
        }]);
        assert!(diags.is_empty(), "{diags:?}");
        c
    }

    #[test]
    fn marks_flow_through_locals_and_functions() {
        let c = config(
            r#"
variable "secret" {
  sensitive = true
}
variable "plain" {}
locals {
  a     = "x-${var.secret}"
  b     = { k = upper(local.a) }
  c     = nonsensitive(local.b)
  d     = sensitive(var.plain)
  e     = [for s in [local.b.k] : s]
  plain = var.plain
}
resource "azurerm_resource_group" "rg" {
  name     = local.plain
  location = local.c.k
  tags     = local.e[0] == "" ? {} : { x = local.d }
}
output "ok" {
  value = local.c
}
output "leak" {
  value = local.e
}
"#,
        );
        let s = Sensitivity::analyze(&c);
        for (l, want) in [
            ("a", true),
            ("b", true),
            ("c", false),
            ("d", true),
            ("e", true),
            ("plain", false),
        ] {
            assert_eq!(s.locals.contains(&(Vec::new(), l.to_string())), want, "{l}");
        }
        let paths = s.resource_paths(&c);
        assert_eq!(
            paths.get(&ResourceAddress::new("azurerm_resource_group", "rg")),
            Some(&vec![vec!["tags".to_string()]])
        );
        let errors = s.output_errors(&c);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("\"leak\"")
        );
    }

    #[test]
    fn marks_cross_module_boundaries() {
        let mut c = config(
            r#"
variable "secret" {
  sensitive = true
}
module "hub" {
  source = "./hub"
  key    = "k-${var.secret}"
  name   = "hub"
}
output "hub_key" {
  value = module.hub.key_copy
}
output "hub_name" {
  value = module.hub.name_copy
}
"#,
        );
        let diags = crate::config::add_module(
            &mut c,
            "module.hub",
            vec![SourceFile {
                name: "hub/main.tf".into(),
                text: r#"
variable "key" {}
variable "name" {}
resource "azurerm_resource_group" "rg" {
  name     = var.name
  location = "westeurope"
  tags     = { k = var.key }
}
output "key_copy" {
  value = var.key
}
output "name_copy" {
  value = var.name
}
"#
                .into(),
            }],
        );
        assert!(diags.is_empty(), "{diags:?}");
        let s = Sensitivity::analyze(&c);
        let errors = s.output_errors(&c);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("\"hub_key\"")
        );
        let rg = c.resources[0].addr.clone();
        assert_eq!(
            s.resource_paths(&c).get(&rg),
            Some(&vec![vec!["tags".to_string()]])
        );
    }

    #[test]
    fn nothing_is_marked_without_secrets() {
        let c = config("locals {\n  a = \"x\"\n}\n");
        let s = Sensitivity::analyze(&c);
        assert!(s.locals.is_empty() && s.resource_paths(&c).is_empty());
    }
}
