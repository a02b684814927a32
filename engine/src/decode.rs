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
        if ident == "dynamic" {
            decode_dynamic(
                type_name,
                schema,
                block,
                header,
                scope,
                diags,
                spans,
                path,
                &mut blocks,
            );
            continue;
        }
        let Some((name, block_schema)) = lookup_block(schema, ident, &block.ident, file, diags)
        else {
            continue;
        };
        let bspan = span_of(file, &block.ident).unwrap_or_else(|| header.clone());
        let items = blocks.entry(name).or_default();
        let v = decode_item(
            type_name,
            name,
            &block_schema.body,
            &block.body,
            bspan,
            items.len(),
            scope,
            diags,
            spans,
            path,
        );
        items.push(v);
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

fn lookup_block<'s>(
    schema: &'s Schema,
    ident: &str,
    node: &impl hcl_edit::Span,
    file: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<(&'static str, &'s crate::schema::BlockSchema)> {
    if let Some((name, b)) = schema.blocks.get_key_value(ident) {
        return Some((*name, b));
    }
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
        .label(span_of(file, node), "not expected here")
        .code("netform::unsupported_block");
    diags.push(d);
    None
}

#[allow(clippy::too_many_arguments)]
fn decode_item(
    type_name: &str,
    name: &'static str,
    schema: &Schema,
    body: &Body,
    bspan: Span,
    index: usize,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
    spans: &mut HashMap<Vec<String>, Span>,
    path: &mut Vec<String>,
) -> Value {
    path.push(name.to_string());
    path.push(index.to_string());
    spans.insert(path.clone(), bspan.clone());
    if path.len() == 2 {
        spans.entry(vec![name.to_string()]).or_insert(bspan.clone());
    }
    let v = decode_body(
        type_name, schema, body, &bspan, scope, diags, spans, path, false,
    );
    path.pop();
    path.pop();
    v
}

/// `dynamic "NAME" { for_each = ..., iterator = it, content { ... } }`: one NAME block per
/// element, with `it.key` / `it.value` (the iterator defaults to NAME).
#[allow(clippy::too_many_arguments)]
fn decode_dynamic(
    type_name: &str,
    schema: &Schema,
    block: &hcl_edit::structure::Block,
    header: &Span,
    scope: &mut Scope<'_>,
    diags: &mut Vec<Diagnostic>,
    spans: &mut HashMap<Vec<String>, Span>,
    path: &mut Vec<String>,
    blocks: &mut BTreeMap<&'static str, Vec<Value>>,
) {
    let file = scope.file;
    let dspan = span_of(file, &block.ident).unwrap_or_else(|| header.clone());
    let Some(label) = block.labels.first() else {
        diags.push(
            Diagnostic::error("A `dynamic` block needs the name of the block it generates")
                .label(Some(dspan), "write dynamic \"NAME\" { ... }"),
        );
        return;
    };
    let target = label.as_str();
    let Some((name, block_schema)) = lookup_block(schema, target, label, file, diags) else {
        return;
    };
    crate::config::check_names(
        file,
        &block.body,
        &["for_each", "iterator", "labels"],
        &["content"],
        "dynamic",
        diags,
    );
    let Some(for_each) = block.body.get_attribute("for_each") else {
        diags.push(
            Diagnostic::error("A `dynamic` block needs `for_each`")
                .label(Some(dspan), "add `for_each = ...`"),
        );
        return;
    };
    let Some(content) = block.body.blocks().find(|b| b.ident.as_str() == "content") else {
        diags.push(
            Diagnostic::error("A `dynamic` block needs a `content` block")
                .label(Some(dspan), "add `content { ... }`"),
        );
        return;
    };
    let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
        None => target.to_string(),
        Some(hcl_edit::expr::Expression::Variable(v)) => v.as_str().to_string(),
        Some(other) => {
            diags.push(
                Diagnostic::error("`iterator` must be a name")
                    .label(span_of(file, other), "write iterator = NAME"),
            );
            return;
        }
    };
    let collection = match eval(&for_each.value, scope) {
        Ok(v) => v,
        Err(e) => {
            diags.push(eval_error(e));
            return;
        }
    };
    let elements: Vec<(Value, Value)> = match collection {
        Value::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect(),
        Value::Null => Vec::new(),
        Value::Unknown => {
            diags.push(
                Diagnostic::error("Invalid dynamic for_each value")
                    .label(
                        span_of(file, &for_each.value),
                        "this value is known only after apply",
                    )
                    .help("a dynamic block's for_each must be known when planning; derive it from variables or locals"),
            );
            return;
        }
        other => {
            diags.push(Diagnostic::error("Invalid dynamic for_each value").label(
                span_of(file, &for_each.value),
                format!("a list, set or map is required, got {}", other.type_name()),
            ));
            return;
        }
    };
    let cspan = span_of(file, &content.ident).unwrap_or(dspan);
    for (k, v) in elements {
        let mut it = BTreeMap::new();
        it.insert("key".to_string(), k);
        it.insert("value".to_string(), v);
        scope.push_binding(&iterator, Value::Object(it));
        let items = blocks.entry(name).or_default();
        let index = items.len();
        let value = decode_item(
            type_name,
            name,
            &block_schema.body,
            &content.body,
            cspan.clone(),
            index,
            scope,
            diags,
            spans,
            path,
        );
        scope.pop_binding();
        blocks.entry(name).or_default().push(value);
    }
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

/// Where a variable value came from; decides what an undeclared name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarOrigin {
    /// `TF_VAR_name` / `NETFORM_VAR_name`: undeclared names are ignored.
    Env,
    /// `terraform.tfvars`, `*.auto.tfvars`, `--var-file`: undeclared names are a warning.
    File,
    /// `--var`: undeclared names are an error.
    CommandLine,
}

#[derive(Debug, Clone)]
pub enum VarValue {
    /// A string from `--var` or the environment: taken literally for primitive types, parsed
    /// as an HCL expression for collections, as Terraform does.
    Raw(String),
    /// A value from a variables file, with the span of its expression.
    Value(Value, Option<Span>),
}

/// One assignment of a variable. `variables_from` takes them lowest precedence first.
#[derive(Debug, Clone)]
pub struct VarInput {
    pub name: String,
    pub value: VarValue,
    pub origin: VarOrigin,
}

/// Parse a `.tfvars` file (HCL attributes; `file` is its index in the config's sources).
pub fn parse_tfvars(file: usize, text: &str) -> (Vec<VarInput>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let body = match hcl_edit::parser::parse_body(text) {
        Ok(b) => b,
        Err(err) => {
            let offset = err.location().offset().min(text.len());
            diags.push(
                Diagnostic::error("Invalid HCL syntax in variables file")
                    .label(
                        Some(Span::new(
                            file,
                            offset..(offset + 1).min(text.len()).max(offset),
                        )),
                        err.message().to_string(),
                    )
                    .code("netform::syntax"),
            );
            return (out, diags);
        }
    };
    let empty_vars = BTreeMap::new();
    let empty_locals = BTreeMap::new();
    let empty_resources = HashMap::new();
    let declared = |_: &crate::addr::ResourceAddress| false;
    for block in body.blocks() {
        diags.push(
            Diagnostic::error("Variables files contain only assignments")
                .label(span_of(file, &block.ident), "blocks are not allowed here"),
        );
    }
    for attr in body.attributes() {
        let mut scope = Scope::new(
            file,
            &empty_vars,
            &empty_locals,
            &empty_resources,
            &declared,
            ".",
        );
        match eval(&attr.value, &mut scope) {
            Ok(v) => out.push(VarInput {
                name: attr.key.as_str().to_string(),
                value: VarValue::Value(v, span_of(file, &attr.value)),
                origin: VarOrigin::File,
            }),
            Err(e) => {
                diags.push(eval_error(e).detail(
                    "Variables files may use literal values and functions, not references.",
                ))
            }
        }
    }
    (out, diags)
}

/// Parse a `.tfvars.json` file: one JSON object of variable values.
pub fn parse_tfvars_json(file: usize, text: &str) -> (Vec<VarInput>, Vec<Diagnostic>) {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => (
            map.iter()
                .map(|(k, v)| VarInput {
                    name: k.clone(),
                    value: VarValue::Value(Value::from_json(v), None),
                    origin: VarOrigin::File,
                })
                .collect(),
            Vec::new(),
        ),
        Ok(_) => (
            Vec::new(),
            vec![
                Diagnostic::error("A JSON variables file must hold one object").label(
                    Some(Span::new(file, 0..text.len().min(1))),
                    "expected { \"name\": value, ... }",
                ),
            ],
        ),
        Err(e) => {
            let line = e.line();
            let offset: usize = text
                .lines()
                .take(line.saturating_sub(1))
                .map(|l| l.len() + 1)
                .sum::<usize>()
                + e.column().saturating_sub(1);
            let offset = offset.min(text.len());
            (
                Vec::new(),
                vec![
                    Diagnostic::error("Invalid JSON in variables file")
                        .label(
                            Some(Span::new(
                                file,
                                offset..(offset + 1).min(text.len()).max(offset),
                            )),
                            e.to_string(),
                        )
                        .code("netform::syntax"),
                ],
            )
        }
    }
}

/// Declared variables with no default that `inputs` do not set (to ask for on a terminal).
pub fn missing_variables<'a>(
    config: &'a Config,
    inputs: &[VarInput],
) -> Vec<&'a crate::config::VariableConfig> {
    config
        .variables
        .values()
        .filter(|v| v.default.is_none() && !inputs.iter().any(|i| i.name == v.name))
        .collect()
}

/// Names of the variables declared `sensitive = true`.
pub fn sensitive_variables(config: &Config) -> std::collections::BTreeSet<String> {
    config
        .variables
        .values()
        .filter(|v| v.sensitive)
        .map(|v| v.name.clone())
        .collect()
}

/// Values of the root module's variables from `--var` strings, then defaults.
pub fn variables(
    config: &Config,
    overrides: &BTreeMap<String, String>,
) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let inputs: Vec<VarInput> = overrides
        .iter()
        .map(|(k, v)| VarInput {
            name: k.clone(),
            value: VarValue::Raw(v.clone()),
            origin: VarOrigin::CommandLine,
        })
        .collect();
    variables_from(config, &inputs)
}

/// Values of the root module's variables: the last of `inputs` for each name wins, then the
/// default. Values are converted to the declared type, `nullable` and `validation` checked.
pub fn variables_from(
    config: &Config,
    inputs: &[VarInput],
) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let mut out = BTreeMap::new();
    let mut diags = Vec::new();
    let empty_vars = BTreeMap::new();
    let empty_locals = BTreeMap::new();
    let empty_resources = HashMap::new();
    let declared = |_: &crate::addr::ResourceAddress| false;
    let mut reported = std::collections::BTreeSet::new();
    for input in inputs {
        if config.variables.contains_key(&input.name) || !reported.insert(input.name.clone()) {
            continue;
        }
        let hint = did_you_mean(&input.name, config.variables.keys().map(String::as_str));
        let mut d = match input.origin {
            VarOrigin::Env => continue,
            VarOrigin::File => Diagnostic::warning(format!("Value for undeclared variable \"{}\"", input.name))
                .detail("A variables file sets a variable that the configuration does not declare; the value is ignored."),
            VarOrigin::CommandLine => Diagnostic::error(format!("Value for undeclared variable \"{}\"", input.name))
                .detail(format!("A variable named \"{}\" was assigned on the command line, but the configuration does not declare it.", input.name)),
        };
        if let VarValue::Value(_, span) = &input.value {
            d = d.label(span.clone(), "not declared");
        }
        if let Some(s) = hint {
            d = d.help(format!("did you mean `{s}`?"));
        }
        diags.push(d);
    }
    for (name, var) in &config.variables {
        let ty = match var.type_expr.as_ref().map(crate::types::parse) {
            None => None,
            Some(Ok(t)) => Some(t),
            Some(Err(m)) => {
                diags.push(
                    Diagnostic::error(format!("Invalid type for variable \"{name}\""))
                        .label(var.type_expr.as_ref().and_then(|e| span_of(var.file, e)), m),
                );
                continue;
            }
        };
        let invalid = |msg: String, span: Option<Span>| {
            Diagnostic::error(format!("Invalid value for variable \"{name}\""))
                .detail(msg.clone())
                .label(span.or_else(|| Some(var.span.clone())), msg)
                .code("netform::variable")
        };
        let given = inputs.iter().rev().find(|i| &i.name == name);
        let (value, span) = match given.map(|i| &i.value) {
            Some(VarValue::Raw(raw)) => {
                if crate::types::takes_raw_string(ty.as_ref()) {
                    (Value::String(raw.clone()), None)
                } else {
                    let parsed = hcl_edit::parser::parse_expr(raw.trim())
                        .map_err(|e| e.message().to_string())
                        .and_then(|expr| {
                            let mut scope = Scope::new(
                                var.file,
                                &empty_vars,
                                &empty_locals,
                                &empty_resources,
                                &declared,
                                ".",
                            );
                            eval(&expr, &mut scope).map_err(|e| e.message)
                        });
                    match parsed {
                        Ok(v) => (v, None),
                        Err(m) => {
                            diags.push(invalid(
                                format!(
                                    "cannot parse \"{raw}\" as a {}: {m}",
                                    ty.as_ref().map(ToString::to_string).unwrap_or_default()
                                ),
                                None,
                            ));
                            continue;
                        }
                    }
                }
            }
            Some(VarValue::Value(v, span)) => (v.clone(), span.clone()),
            None => match &var.default {
                Some(default) => {
                    let mut scope = Scope::new(
                        var.file,
                        &empty_vars,
                        &empty_locals,
                        &empty_resources,
                        &declared,
                        ".",
                    );
                    match eval(default, &mut scope) {
                        Ok(v) => (v, span_of(var.file, default)),
                        Err(e) => {
                            diags.push(eval_error(e));
                            continue;
                        }
                    }
                }
                None => {
                    diags.push(
                        Diagnostic::error(format!("No value for required variable \"{name}\""))
                            .label(Some(var.span.clone()), "declared here without a default")
                            .help(format!(
                                "pass it with `--var {name}=VALUE`, a `terraform.tfvars` file or the environment variable `TF_VAR_{name}`"
                            ))
                            .code("netform::required_variable"),
                    );
                    continue;
                }
            },
        };
        let value = if value.is_null() && !var.nullable {
            match &var.default {
                Some(default) if given.is_some() => {
                    let mut scope = Scope::new(
                        var.file,
                        &empty_vars,
                        &empty_locals,
                        &empty_resources,
                        &declared,
                        ".",
                    );
                    eval(default, &mut scope).unwrap_or(Value::Null)
                }
                _ => Value::Null,
            }
        } else {
            value
        };
        if value.is_null() && !var.nullable {
            diags.push(invalid(
                "the variable is declared `nullable = false` and must not be null".into(),
                span,
            ));
            continue;
        }
        let value = match &ty {
            Some(t) => match crate::types::convert(value, t) {
                Ok(v) => v,
                Err(m) => {
                    diags.push(invalid(format!("{m} (type is {t})"), span));
                    continue;
                }
            },
            None => value,
        };
        out.insert(name.clone(), value);
    }
    // Validation rules see every variable's final value.
    for (name, var) in &config.variables {
        if !out.contains_key(name) {
            continue;
        }
        for rule in &var.validations {
            let mut scope = Scope::new(
                rule.file,
                &out,
                &empty_locals,
                &empty_resources,
                &declared,
                ".",
            )
            .with_files(config.file_source());
            match eval(&rule.condition, &mut scope) {
                Ok(Value::Bool(true)) | Ok(Value::Unknown) => {}
                Ok(Value::Bool(false)) => {
                    let message = rule
                        .error_message
                        .as_ref()
                        .and_then(|m| eval(m, &mut scope).ok())
                        .and_then(|m| m.as_str().map(str::to_string))
                        .unwrap_or_else(|| "the value does not satisfy the validation rule".into());
                    let shown = if var.sensitive {
                        "(sensitive value)".to_string()
                    } else {
                        crate::eval::render(&out[name])
                    };
                    diags.push(
                        Diagnostic::error(format!("Invalid value for variable \"{name}\""))
                            .detail(format!("{message}\n\nThe value was {shown}. This was checked by the validation rule here."))
                            .label(Some(rule.span.clone()), message)
                            .code("netform::validation"),
                    );
                }
                Ok(other) => diags.push(Diagnostic::error("Invalid validation condition").label(
                    Some(rule.span.clone()),
                    format!("a bool is required, got {}", other.type_name()),
                )),
                Err(e) => diags.push(eval_error(e)),
            }
        }
    }
    (out, diags)
}

/// A child module instance's variables from the values its call passes (`given`): defaults,
/// `nullable`, type conversion and validation, as for the root module.
pub fn module_variables(
    config: &Config,
    m: &crate::config::ModuleConfig,
    given: BTreeMap<String, Value>,
) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let mut out = BTreeMap::new();
    let mut diags = Vec::new();
    let empty_vars = BTreeMap::new();
    let empty_locals = BTreeMap::new();
    let empty_resources = HashMap::new();
    let declared = |_: &crate::addr::ResourceAddress| false;
    let default_of = |var: &crate::config::VariableConfig| -> Option<Value> {
        let expr = var.default.as_ref()?;
        let mut scope = Scope::new(
            var.file,
            &empty_vars,
            &empty_locals,
            &empty_resources,
            &declared,
            ".",
        );
        eval(expr, &mut scope).ok()
    };
    for (name, var) in &m.variables {
        let input_span = m.call.inputs.get(name).map(|(_, s)| s.clone());
        let value = match given.get(name) {
            Some(Value::Null) if !var.nullable => default_of(var).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => match default_of(var) {
                Some(v) => v,
                // Reported once, statically, by the graph.
                None => Value::Unknown,
            },
        };
        if value.is_null() && !var.nullable {
            diags.push(
                Diagnostic::error(format!("Invalid value for variable \"{name}\""))
                    .label(
                        input_span.clone().or(Some(m.call.span.clone())),
                        "the variable is declared `nullable = false` and must not be null",
                    )
                    .code("netform::variable"),
            );
        }
        let value = match var.type_expr.as_ref().map(crate::types::parse) {
            Some(Ok(t)) => match crate::types::convert(value, &t) {
                Ok(v) => v,
                Err(msg) => {
                    diags.push(
                        Diagnostic::error(format!("Invalid value for input variable \"{name}\""))
                            .detail(format!(
                                "The module \"{}\" declares \"{name}\" as {t}.",
                                m.call.name
                            ))
                            .label(input_span.clone().or(Some(m.call.span.clone())), msg)
                            .code("netform::variable"),
                    );
                    Value::Unknown
                }
            },
            Some(Err(msg)) => {
                diags.push(
                    Diagnostic::error(format!("Invalid type for variable \"{name}\"")).label(
                        var.type_expr.as_ref().and_then(|e| span_of(var.file, e)),
                        msg,
                    ),
                );
                Value::Unknown
            }
            None => value,
        };
        out.insert(name.clone(), value);
    }
    for (name, var) in &m.variables {
        for rule in &var.validations {
            let mut scope = Scope::new(
                rule.file,
                &out,
                &empty_locals,
                &empty_resources,
                &declared,
                ".",
            )
            .with_files(config.file_source());
            if let Ok(Value::Bool(false)) = eval(&rule.condition, &mut scope) {
                let message = rule
                    .error_message
                    .as_ref()
                    .and_then(|e| eval(e, &mut scope).ok())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "the value does not satisfy the validation rule".into());
                diags.push(
                    Diagnostic::error(format!("Invalid value for variable \"{name}\""))
                        .detail(message.clone())
                        .label(Some(rule.span.clone()), message)
                        .label(m.call.inputs.get(name).map(|(_, s)| s.clone()), "set here")
                        .code("netform::validation"),
                );
            }
        }
    }
    (out, diags)
}
