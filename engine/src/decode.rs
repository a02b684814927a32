//! Decode a resource body against its schema into a `Value`, recording the span of every
//! attribute path so provider findings can point at the source.

use std::collections::{BTreeMap, HashMap};

use hcl_edit::structure::Body;

use crate::config::{Config, span_of};
use crate::diag::{Diagnostic, Span, did_you_mean};
use crate::eval::{EvalError, Scope, eval};
use crate::schema::{AttrType, Presence, Schema};
use crate::value::Value;

/// Attributes and blocks that belong to the language, not the resource type.
const META_ATTRS: &[&str] = &["depends_on", "provider", "count", "for_each"];
const META_BLOCKS: &[&str] = &["lifecycle", "timeouts"];

#[derive(Debug, Clone, Default)]
pub struct Decoded {
    pub value: Value,
    /// Span of each attribute path (`["sku", "0", "tier"]`); blocks map to their header.
    pub spans: HashMap<Vec<String>, Span>,
}

impl Decoded {
    /// The span of `path` or of its nearest ancestor that has one.
    pub fn span_for(&self, path: &[String]) -> Option<Span> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.spans.get(&path[..n]).cloned())
    }
}

pub fn eval_error(e: EvalError) -> Diagnostic {
    let mut d = Diagnostic::error(e.message.clone()).label(e.span, e.message);
    if let Some(h) = e.help {
        d = d.help(h);
    }
    d
}

/// Decode `body` (of the resource whose header is `header`) against `schema`.
pub fn decode_resource(
    type_name: &str,
    schema: &Schema,
    body: &Body,
    header: &Span,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Decoded {
    let mut decoded = Decoded::default();
    decoded.spans.insert(Vec::new(), header.clone());
    let mut path = Vec::new();
    decoded.value = decode_body(
        type_name,
        schema,
        body,
        header,
        scope,
        diags,
        &mut decoded.spans,
        &mut path,
        true,
    );
    decoded
}

#[allow(clippy::too_many_arguments)]
fn decode_body(
    type_name: &str,
    schema: &Schema,
    body: &Body,
    header: &Span,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
    spans: &mut HashMap<Vec<String>, Span>,
    path: &mut Vec<String>,
    top: bool,
) -> Value {
    let file = scope.file;
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if top && META_ATTRS.contains(&key) {
            continue;
        }
        let Some((name, attr_schema, via_alias)) = schema.resolve_attr(key) else {
            let mut d = Diagnostic::error(format!("Unsupported argument \"{key}\""))
                .detail(format!(
                    "An argument named \"{key}\" is not expected here ({type_name})."
                ))
                .label(span_of(file, &attr.key), "unknown argument")
                .code("netform::unsupported_argument");
            if let Some(s) = did_you_mean(key, schema.names()) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            continue;
        };
        if via_alias {
            diags.push(
                Diagnostic::warning(format!("Argument \"{key}\" is deprecated"))
                    .label(span_of(file, &attr.key), format!("renamed to `{name}`"))
                    .help(format!(
                        "rename it to `{name}`; azurerm removed the old name"
                    )),
            );
        }
        if attr_schema.presence == Presence::Computed {
            diags.push(
                Diagnostic::error(format!("Value for unconfigurable attribute \"{name}\"")).label(
                    span_of(file, &attr.key),
                    "set by Azure, not by configuration",
                ),
            );
            continue;
        }
        path.push(name.to_string());
        if let Some(s) = span_of(file, &attr.value) {
            spans.insert(path.clone(), s);
        }
        match eval(&attr.value, scope) {
            Ok(v) => match convert(v, &attr_schema.ty) {
                Ok(v) => {
                    out.insert(name.to_string(), v);
                }
                Err(msg) => diags.push(
                    Diagnostic::error(format!("Incorrect attribute value type for \"{name}\""))
                        .label(span_of(file, &attr.value), msg),
                ),
            },
            Err(e) => diags.push(eval_error(e)),
        }
        path.pop();
    }
    let mut blocks: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for block in body.blocks() {
        let ident = block.ident.as_str();
        if top && META_BLOCKS.contains(&ident) {
            continue;
        }
        let Some((name, block_schema)) = schema.blocks.get_key_value(ident) else {
            let mut d = if schema.attributes.contains_key(ident) {
                Diagnostic::error(format!("\"{ident}\" is an argument, not a block"))
                    .help(format!("write `{ident} = ...`"))
            } else {
                let mut d = Diagnostic::error(format!("Unsupported block type \"{ident}\""));
                if let Some(s) = did_you_mean(ident, schema.names()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                d
            };
            d = d
                .label(span_of(file, &block.ident), "not expected here")
                .code("netform::unsupported_block");
            diags.push(d);
            continue;
        };
        let items = blocks.entry(name).or_default();
        path.push(name.to_string());
        path.push(items.len().to_string());
        let bspan = span_of(file, &block.ident).unwrap_or_else(|| header.clone());
        spans.insert(path.clone(), bspan.clone());
        if path.len() == 2 {
            spans.entry(vec![name.to_string()]).or_insert(bspan.clone());
        }
        let v = decode_body(
            type_name,
            &block_schema.body,
            &block.body,
            &bspan,
            scope,
            diags,
            spans,
            path,
            false,
        );
        items.push(v);
        path.pop();
        path.pop();
    }
    for (name, block_schema) in &schema.blocks {
        let items = blocks.remove(name).unwrap_or_default();
        if items.len() < block_schema.min_items {
            diags.push(
                Diagnostic::error(format!("Missing required block \"{name}\"")).label(
                    Some(header.clone()),
                    format!("add a `{name} {{ ... }}` block"),
                ),
            );
        } else if items.len() > block_schema.max_items {
            diags.push(
                Diagnostic::error(format!("Too many \"{name}\" blocks")).label(
                    Some(header.clone()),
                    format!(
                        "at most {} allowed, found {}",
                        block_schema.max_items,
                        items.len()
                    ),
                ),
            );
        }
        out.insert(name.to_string(), Value::List(items));
    }
    for (name, attr) in &schema.attributes {
        if out.contains_key(*name) {
            continue;
        }
        if attr.presence == Presence::Required {
            diags.push(
                Diagnostic::error(format!("Missing required argument \"{name}\""))
                    .detail(format!(
                        "The argument \"{name}\" is required, but no definition was found."
                    ))
                    .label(Some(header.clone()), format!("`{name}` must be set here")),
            );
        } else if let Some(default) = &attr.default {
            out.insert(name.to_string(), default.clone());
        }
    }
    Value::Object(out)
}

/// Convert a value to a schema type as Terraform's type conversion does.
pub fn convert(value: Value, ty: &AttrType) -> Result<Value, String> {
    match (value, ty) {
        (v @ (Value::Null | Value::Unknown), _) => Ok(v),
        (Value::String(s), AttrType::String) => Ok(Value::String(s)),
        (Value::Number(n), AttrType::String) => Ok(Value::String(crate::value::format_number(n))),
        (Value::Bool(b), AttrType::String) => Ok(Value::String(b.to_string())),
        (Value::Number(n), AttrType::Number) => Ok(Value::Number(n)),
        (Value::String(s), AttrType::Number) => s
            .trim()
            .parse()
            .map(Value::Number)
            .map_err(|_| format!("a number is required, got \"{s}\"")),
        (Value::Bool(b), AttrType::Bool) => Ok(Value::Bool(b)),
        (Value::String(s), AttrType::Bool) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("a bool is required, got \"{s}\"")),
        },
        (Value::List(items), AttrType::List(inner) | AttrType::Set(inner)) => {
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                out.push(convert(item, inner)?);
            }
            if matches!(ty, AttrType::Set(_)) {
                let mut seen = std::collections::BTreeSet::new();
                out.retain(|v| seen.insert(v.to_json().to_string()));
            }
            Ok(Value::List(out))
        }
        (Value::Object(map), AttrType::Map(inner)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                out.insert(k, convert(v, inner)?);
            }
            Ok(Value::Object(out))
        }
        (v, ty) => Err(format!(
            "{} required, got {}",
            type_label(ty),
            v.type_name()
        )),
    }
}

fn type_label(ty: &AttrType) -> String {
    match ty {
        AttrType::String => "a string is".into(),
        AttrType::Number => "a number is".into(),
        AttrType::Bool => "a bool is".into(),
        AttrType::List(_) => "a list is".into(),
        AttrType::Set(_) => "a set is".into(),
        AttrType::Map(_) => "a map is".into(),
    }
}

/// Values of the root module's variables: `--var` overrides, then defaults.
pub fn variables(
    config: &Config,
    overrides: &BTreeMap<String, String>,
) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let mut out = BTreeMap::new();
    let mut diags = Vec::new();
    let empty_vars = BTreeMap::new();
    let empty_locals = BTreeMap::new();
    let empty_resources = HashMap::new();
    let declared = |_: &crate::addr::ResourceAddress| false;
    for (name, raw) in overrides {
        if !config.variables.contains_key(name) {
            let mut d = Diagnostic::error(format!("Value for undeclared variable \"{name}\""))
                .detail("A variable named \"".to_string() + name + "\" was assigned on the command line, but the configuration does not declare it.");
            if let Some(s) = did_you_mean(name, config.variables.keys().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
        let _ = raw;
    }
    for (name, var) in &config.variables {
        let ty = var.type_expr.as_ref().map(type_keyword);
        let value = if let Some(raw) = overrides.get(name) {
            match ty.as_deref() {
                Some("number") => match raw.trim().parse::<f64>() {
                    Ok(n) => Value::Number(n),
                    Err(_) => {
                        diags.push(Diagnostic::error(format!("Invalid value for variable \"{name}\": a number is required, got \"{raw}\"")));
                        continue;
                    }
                },
                Some("bool") => match raw.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => {
                        diags.push(Diagnostic::error(format!("Invalid value for variable \"{name}\": a bool is required, got \"{raw}\"")));
                        continue;
                    }
                },
                Some("string") | None => Value::String(raw.clone()),
                Some(_) => match hcl_edit::parser::parse_expr(raw) {
                    Ok(expr) => {
                        let mut scope = Scope::new(
                            var.file,
                            &empty_vars,
                            &empty_locals,
                            &empty_resources,
                            &declared,
                            ".",
                        );
                        match eval(&expr, &mut scope) {
                            Ok(v) => v,
                            Err(e) => {
                                diags.push(Diagnostic::error(format!(
                                    "Invalid value for variable \"{name}\": {}",
                                    e.message
                                )));
                                continue;
                            }
                        }
                    }
                    Err(e) => {
                        diags.push(Diagnostic::error(format!(
                            "Invalid value for variable \"{name}\": {}",
                            e.message()
                        )));
                        continue;
                    }
                },
            }
        } else if let Some(default) = &var.default {
            let mut scope = Scope::new(
                var.file,
                &empty_vars,
                &empty_locals,
                &empty_resources,
                &declared,
                ".",
            );
            match eval(default, &mut scope) {
                Ok(v) => v,
                Err(e) => {
                    diags.push(eval_error(e));
                    continue;
                }
            }
        } else {
            diags.push(
                Diagnostic::error(format!("No value for required variable \"{name}\""))
                    .label(Some(var.span.clone()), "declared here without a default")
                    .help(format!("pass it with `--var {name}=VALUE`")),
            );
            continue;
        };
        out.insert(name.clone(), value);
    }
    (out, diags)
}

fn type_keyword(expr: &hcl_edit::expr::Expression) -> String {
    match expr {
        hcl_edit::expr::Expression::Variable(v) => v.as_str().to_string(),
        _ => "complex".into(),
    }
}
