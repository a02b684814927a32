//! Our own evaluator over hcl-edit's expression tree: spans stay attached, values may be
//! unknown ("known after apply") and unknowns propagate as Terraform propagates them.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};

use crate::addr::ResourceAddress;
use crate::config::LocalConfig;
use crate::diag::Span;
use crate::functions::{self, FileSource, NoFiles};
use crate::value::{Value, format_number};

static NO_FILES: NoFiles = NoFiles;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl EvalError {
    fn new(message: impl Into<String>, span: Option<Span>) -> Self {
        EvalError {
            message: message.into(),
            span,
            help: None,
        }
    }
}

type Result<T> = std::result::Result<T, EvalError>;

/// What `timestamp()` and `uuid()` need when applying: the walker fills it in (the clock is
/// read there, once per operation); planning leaves it out, so both stay unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyTime {
    /// RFC 3339 UTC, as Terraform's `timestamp()` returns it (`2026-11-23T12:34:56Z`).
    pub timestamp: String,
}

impl ApplyTime {
    /// The current time.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        ApplyTime {
            timestamp: functions::rfc3339(secs),
        }
    }
}

/// Everything an expression can refer to.
pub struct Scope<'a> {
    pub file: usize,
    pub vars: &'a BTreeMap<String, Value>,
    pub locals: &'a BTreeMap<String, LocalConfig>,
    pub resources: &'a HashMap<ResourceAddress, Value>,
    /// Resource types declared in the configuration, to tell "undeclared" from "not yet known".
    pub declared: &'a dyn Fn(&ResourceAddress) -> bool,
    pub path_module: &'a str,
    /// Files for `file`, `fileexists` and `templatefile` (read by the CLI, never by the engine).
    pub files: &'a dyn FileSource,
    /// `count` inside a resource with `count` (`{ index = N }`).
    pub count: Option<Value>,
    /// `each` inside a resource with `for_each` (`{ key = ..., value = ... }`).
    pub each: Option<Value>,
    /// Values of other things by root name (`module`, `data`): `module.NAME` is
    /// `extra["module"]["NAME"]`.
    pub extra: BTreeMap<String, Value>,
    /// The module instance this expression belongs to (resource references resolve in it).
    pub module: Vec<crate::addr::ModuleStep>,
    /// Set while applying: `timestamp()` and `uuid()` return real values (unknown when
    /// planning, so plans stay deterministic).
    pub apply_time: Option<ApplyTime>,
    /// Only the variables bound here are visible (`templatefile`).
    isolated: bool,
    bindings: Vec<(String, Value)>,
    depth: Cell<usize>,
}

impl<'a> Scope<'a> {
    pub fn new(
        file: usize,
        vars: &'a BTreeMap<String, Value>,
        locals: &'a BTreeMap<String, LocalConfig>,
        resources: &'a HashMap<ResourceAddress, Value>,
        declared: &'a dyn Fn(&ResourceAddress) -> bool,
        path_module: &'a str,
    ) -> Self {
        Scope {
            file,
            vars,
            locals,
            resources,
            declared,
            path_module,
            files: &NO_FILES,
            count: None,
            each: None,
            extra: BTreeMap::new(),
            module: Vec::new(),
            apply_time: None,
            isolated: false,
            bindings: Vec::new(),
            depth: Cell::new(0),
        }
    }

    /// Read files through `files`.
    pub fn with_files(mut self, files: &'a dyn FileSource) -> Self {
        self.files = files;
        self
    }

    /// Make `name` refer to `value` (a `dynamic` block's iterator) until `pop_binding`.
    pub fn push_binding(&mut self, name: &str, value: Value) {
        self.bindings.push((name.to_string(), value));
    }

    pub fn pop_binding(&mut self) {
        self.bindings.pop();
    }

    /// Bind `count.index` or `each.key`/`each.value` for one instance.
    pub fn with_instance(mut self, count: Option<Value>, each: Option<Value>) -> Self {
        self.count = count;
        self.each = each;
        self
    }

    fn span(&self, node: &impl hcl_edit::Span) -> Option<Span> {
        node.span().map(|r| Span::new(self.file, r))
    }

    fn lookup_binding(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn with_file(&self, file: usize) -> Scope<'a> {
        Scope {
            file,
            vars: self.vars,
            locals: self.locals,
            resources: self.resources,
            declared: self.declared,
            path_module: self.path_module,
            files: self.files,
            count: self.count.clone(),
            each: self.each.clone(),
            extra: self.extra.clone(),
            module: self.module.clone(),
            apply_time: self.apply_time.clone(),
            isolated: false,
            bindings: Vec::new(),
            depth: Cell::new(self.depth.get()),
        }
    }
}

/// Evaluate one expression.
pub fn eval(expr: &Expression, scope: &mut Scope<'_>) -> Result<Value> {
    match expr {
        Expression::Null(_) => Ok(Value::Null),
        Expression::Bool(b) => Ok(Value::Bool(*b.value())),
        Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(f64::NAN))),
        Expression::String(s) => Ok(Value::String(s.value().to_string())),
        Expression::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(eval(item, scope)?);
            }
            Ok(Value::List(out))
        }
        Expression::Object(obj) => {
            let mut out = BTreeMap::new();
            for (key, value) in obj.iter() {
                let k = match key {
                    hcl_edit::expr::ObjectKey::Ident(id) => id.as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(e) => match eval(e, scope)? {
                        Value::Unknown => return Ok(Value::Unknown),
                        v => v.to_template_string().ok_or_else(|| {
                            EvalError::new(
                                format!("object key must be a string, got {}", v.type_name()),
                                scope.span(e),
                            )
                        })?,
                    },
                };
                out.insert(k, eval(value.expr(), scope)?);
            }
            Ok(Value::Object(out))
        }
        Expression::StringTemplate(t) => eval_template(t, scope),
        Expression::HeredocTemplate(h) => eval_template(&h.template, scope),
        Expression::Parenthesis(p) => eval(p.inner(), scope),
        Expression::Variable(v) => eval_root(v.as_str(), scope.span(v), scope),
        Expression::Conditional(c) => match eval(&c.cond_expr, scope)? {
            Value::Unknown => Ok(Value::Unknown),
            cond => match cond.as_bool() {
                Some(true) => eval(&c.true_expr, scope),
                Some(false) => eval(&c.false_expr, scope),
                None => Err(EvalError::new(
                    format!("condition must be a bool, got {}", cond.type_name()),
                    scope.span(&c.cond_expr),
                )),
            },
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let span = scope.span(call.as_ref());
            match name {
                "try" => return eval_try(call, scope, span),
                "can" => return eval_can(call, scope, span),
                "templatefile" => return eval_templatefile(call, scope, span),
                _ => {}
            }
            let mut args = Vec::with_capacity(call.args.len());
            for arg in call.args.iter() {
                args.push(eval(arg, scope)?);
            }
            if call.args.expand_final() {
                match args.pop() {
                    Some(Value::List(last)) => args.extend(last),
                    Some(Value::Unknown) => return Ok(Value::Unknown),
                    Some(other) => {
                        return Err(EvalError::new(
                            format!(
                                "Invalid expanding argument value: the final argument must be a list, got {}",
                                other.type_name()
                            ),
                            span,
                        ));
                    }
                    None => {}
                }
            }
            if let Some(at) = &scope.apply_time
                && args.is_empty()
            {
                match name {
                    "timestamp" => return Ok(Value::String(at.timestamp.clone())),
                    "uuid" => return Ok(Value::String(uuid::Uuid::new_v4().to_string())),
                    _ => {}
                }
            }
            functions::call_with(name, args, scope.files).map_err(|e| func_error(name, e, span))
        }
        Expression::Traversal(t) => {
            let base = match &t.expr {
                Expression::Variable(v) => {
                    // `var.x`, `local.x`, `type.name` consume their first attribute step.
                    let root = v.as_str();
                    if let (Some(first), true) = (t.operators.first(), needs_attr(root, scope)) {
                        let TraversalOperator::GetAttr(attr) = first.value() else {
                            return Err(EvalError::new(
                                format!("`{root}` must be followed by an attribute name"),
                                scope.span(v),
                            ));
                        };
                        let span = match (v.span(), attr.span()) {
                            (Some(a), Some(b)) => Some(Span::new(scope.file, a.start..b.end)),
                            _ => scope.span(v),
                        };
                        let value = eval_named(root, attr.as_str(), span, scope)?;
                        return apply_operators(value, &t.operators[1..], scope);
                    }
                    eval_root(root, scope.span(v), scope)?
                }
                other => eval(other, scope)?,
            };
            apply_operators(base, &t.operators, scope)
        }
        Expression::UnaryOp(op) => {
            let v = eval(&op.expr, scope)?;
            match (op.operator.value(), v) {
                (_, Value::Unknown) => Ok(Value::Unknown),
                (UnaryOperator::Neg, v) => v.as_f64().map(|n| Value::Number(-n)).ok_or_else(|| {
                    EvalError::new("unary minus needs a number", scope.span(op.as_ref()))
                }),
                (UnaryOperator::Not, v) => v
                    .as_bool()
                    .map(|b| Value::Bool(!b))
                    .ok_or_else(|| EvalError::new("`!` needs a bool", scope.span(op.as_ref()))),
            }
        }
        Expression::BinaryOp(op) => {
            let lhs = eval(&op.lhs_expr, scope)?;
            // Short-circuit as Terraform does not, but it is harmless and avoids needless errors.
            let rhs = eval(&op.rhs_expr, scope)?;
            binary(*op.operator.value(), lhs, rhs)
                .map_err(|m| EvalError::new(m, scope.span(op.as_ref())))
        }
        Expression::ForExpr(f) => eval_for(f, scope),
    }
}

fn func_error(name: &str, e: functions::FuncError, span: Option<Span>) -> EvalError {
    let mut err = EvalError::new(
        format!("Error in function call {name}(): {}", e.message),
        span,
    );
    err.help = e.help;
    err
}

/// `try(a, b, ...)`: the first argument that evaluates without an error.
fn eval_try(
    call: &hcl_edit::expr::FuncCall,
    scope: &mut Scope<'_>,
    span: Option<Span>,
) -> Result<Value> {
    if call.args.is_empty() {
        return Err(EvalError::new(
            "Error in function call try(): at least one argument is required",
            span,
        ));
    }
    let mut last = None;
    for arg in call.args.iter() {
        match eval(arg, scope) {
            Ok(v) if v.contains_unknown() => return Ok(Value::Unknown),
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    let mut e = EvalError::new(
        "Error in function call try(): no expression succeeded",
        span,
    );
    if let Some(last) = last {
        e.help = Some(format!("the last expression failed with: {}", last.message));
    }
    Err(e)
}

/// `can(expr)`: whether `expr` evaluates without an error.
fn eval_can(
    call: &hcl_edit::expr::FuncCall,
    scope: &mut Scope<'_>,
    span: Option<Span>,
) -> Result<Value> {
    let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
        return Err(EvalError::new(
            "Error in function call can(): exactly one argument is required",
            span,
        ));
    };
    Ok(match eval(arg, scope) {
        Ok(v) if v.contains_unknown() => Value::Unknown,
        Ok(_) => Value::Bool(true),
        Err(_) => Value::Bool(false),
    })
}

/// `templatefile(path, vars)`: the file rendered as a template that sees only `vars`.
fn eval_templatefile(
    call: &hcl_edit::expr::FuncCall,
    scope: &mut Scope<'_>,
    span: Option<Span>,
) -> Result<Value> {
    let args: Vec<&Expression> = call.args.iter().collect();
    let [path_expr, vars_expr] = args[..] else {
        return Err(EvalError::new(
            "Error in function call templatefile(): expects 2 arguments (path, vars)",
            span,
        ));
    };
    let path = eval(path_expr, scope)?;
    let vars = eval(vars_expr, scope)?;
    if path.is_unknown() {
        return Ok(Value::Unknown);
    }
    let fail = |m: String| {
        EvalError::new(
            format!("Error in function call templatefile(): {m}"),
            span.clone(),
        )
    };
    let path = functions::to_string(&path).map_err(|e| fail(e.message))?;
    let text = match scope.files.read(&path) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(fail(format!("no file exists at \"{path}\""))),
        Err(e) => return Err(fail(e)),
    };
    let template = hcl_edit::parser::parse_template(&text)
        .map_err(|e| fail(format!("{path}: {}", e.message())))?;
    let bindings = match vars {
        Value::Object(m) => m,
        Value::Null => BTreeMap::new(),
        Value::Unknown => return Ok(Value::Unknown),
        other => {
            return Err(fail(format!(
                "vars must be an object or map, got {}",
                other.type_name()
            )));
        }
    };
    let mut inner = scope.with_file(scope.file);
    inner.isolated = true;
    inner.bindings = bindings.into_iter().collect();
    let mut out = String::new();
    let mut unknown = false;
    // Spans inside the template file do not point into a loaded source: drop them.
    match render_template(&template, &mut inner, &mut out, &mut unknown, false, false) {
        Ok(()) if unknown => Ok(Value::Unknown),
        Ok(()) => Ok(Value::String(out)),
        Err(e) => Err(fail(format!("{path}: {}", e.message))),
    }
}

fn needs_attr(root: &str, scope: &Scope<'_>) -> bool {
    if scope.lookup_binding(root).is_some() {
        return false;
    }
    matches!(
        root,
        "var" | "local" | "path" | "terraform" | "count" | "each" | "self" | "data" | "module"
    ) || root.contains('_')
        || scope.extra.contains_key(root)
}

fn eval_root(name: &str, span: Option<Span>, scope: &Scope<'_>) -> Result<Value> {
    if let Some(v) = scope.lookup_binding(name) {
        return Ok(v.clone());
    }
    Err(
        EvalError::new(format!("Unknown variable `{name}`"), span).with_help(
            "references look like `var.name`, `local.name` or `resource_type.name.attribute`",
        ),
    )
}

impl EvalError {
    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn eval_named(root: &str, name: &str, span: Option<Span>, scope: &Scope<'_>) -> Result<Value> {
    if scope.isolated {
        return Err(EvalError::new(
            format!(
                "Invalid reference `{root}.{name}`: a template file sees only the variables passed to templatefile()"
            ),
            span,
        ));
    }
    if let Some(v) = scope.extra.get(root) {
        return match v {
            Value::Unknown => Ok(Value::Unknown),
            v => get_attr(v.clone(), name, span),
        };
    }
    match root {
        "var" => scope.vars.get(name).cloned().ok_or_else(|| {
            EvalError::new(
                format!("Reference to undeclared input variable \"{name}\""),
                span,
            )
            .with_help(format!("declare it with `variable \"{name}\" {{}}`"))
        }),
        "local" => {
            let Some(local) = scope.locals.get(name) else {
                return Err(EvalError::new(
                    format!("Reference to undeclared local value \"{name}\""),
                    span,
                ));
            };
            if scope.depth.get() > 64 {
                return Err(EvalError::new(
                    format!("local.{name} refers to itself"),
                    span,
                ));
            }
            let mut inner = scope.with_file(local.file);
            inner.depth.set(scope.depth.get() + 1);
            eval(&local.expr, &mut inner)
        }
        "path" => match name {
            "module" | "root" | "cwd" => Ok(Value::String(scope.path_module.to_string())),
            _ => Err(EvalError::new(
                format!("Unknown path attribute `path.{name}`"),
                span,
            )),
        },
        "terraform" => match name {
            "workspace" => Ok(Value::String("default".into())),
            _ => Err(EvalError::new(
                format!("Unknown attribute `terraform.{name}`"),
                span,
            )),
        },
        "count" | "each" => {
            let bound = if root == "count" {
                &scope.count
            } else {
                &scope.each
            };
            match bound {
                Some(v) => get_attr(v.clone(), name, span),
                None => Err(EvalError::new(
                    format!(
                        "Reference to \"{root}\" in context without {}",
                        if root == "count" { "count" } else { "for_each" }
                    ),
                    span,
                )
                .with_help(format!(
                    "`{root}.{name}` is only available in a resource or module with `{}` set",
                    if root == "count" { "count" } else { "for_each" }
                ))),
            }
        }
        "self" => Err(EvalError::new(
            format!("`{root}.{name}` is not available here"),
            span,
        )),
        type_name => {
            let addr = ResourceAddress::new(type_name, name).in_module(scope.module.clone());
            if let Some(v) = scope.resources.get(&addr) {
                return Ok(v.clone());
            }
            if (scope.declared)(&addr) {
                Ok(Value::Unknown)
            } else {
                Err(
                    EvalError::new(format!("Reference to undeclared resource \"{addr}\""), span)
                        .with_help(format!(
                            "declare it with `resource \"{type_name}\" \"{name}\" {{ ... }}`"
                        )),
                )
            }
        }
    }
}

fn apply_operators(
    mut value: Value,
    ops: &[hcl_edit::Decorated<TraversalOperator>],
    scope: &mut Scope<'_>,
) -> Result<Value> {
    let mut i = 0;
    while i < ops.len() {
        let op = &ops[i];
        match op.value() {
            TraversalOperator::GetAttr(attr) => {
                value = get_attr(value, attr.as_str(), scope.span(op))?
            }
            TraversalOperator::Index(idx) => {
                let key = eval(idx, scope)?;
                value = index(value, &key, scope.span(op))?;
            }
            TraversalOperator::LegacyIndex(n) => {
                value = index(value, &Value::Number(*n.value() as f64), scope.span(op))?
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                let rest = &ops[i + 1..];
                let items = match value {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => Vec::new(),
                    Value::List(items) => items,
                    other => vec![other],
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(apply_operators(item, rest, scope)?);
                }
                return Ok(Value::List(out));
            }
        }
        i += 1;
    }
    Ok(value)
}

fn get_attr(value: Value, name: &str, span: Option<Span>) -> Result<Value> {
    match value {
        Value::Unknown => Ok(Value::Unknown),
        Value::Object(mut map) => map.remove(name).ok_or_else(|| {
            let mut e = EvalError::new(
                format!("This object does not have an attribute named \"{name}\""),
                span,
            );
            if let Some(s) = crate::diag::did_you_mean(name, map.keys().map(String::as_str)) {
                e.help = Some(format!("did you mean `{s}`?"));
            }
            e
        }),
        Value::Null => Err(EvalError::new(
            format!("Attempt to get attribute \"{name}\" from a null value"),
            span,
        )),
        other => Err(EvalError::new(
            format!(
                "Can't access attribute \"{name}\" on a {}",
                other.type_name()
            ),
            span,
        )),
    }
}

fn index(value: Value, key: &Value, span: Option<Span>) -> Result<Value> {
    match (value, key) {
        (Value::Unknown, _) | (_, Value::Unknown) => Ok(Value::Unknown),
        (Value::List(mut items), k) => {
            let len = items.len();
            let i = k.as_i64().ok_or_else(|| {
                EvalError::new(
                    format!("list index must be a whole number, got {k}"),
                    span.clone(),
                )
            })?;
            if i < 0 || i as usize >= len {
                return Err(EvalError::new(
                    format!("Invalid index {i}: the list has {len} element(s)"),
                    span,
                ));
            }
            Ok(items.swap_remove(i as usize))
        }
        (Value::Object(mut map), k) => {
            let key = k
                .to_template_string()
                .ok_or_else(|| EvalError::new("map key must be a string", span.clone()))?;
            map.remove(&key).ok_or_else(|| {
                EvalError::new(
                    format!("The given key \"{key}\" does not exist in this map"),
                    span,
                )
            })
        }
        (other, _) => Err(EvalError::new(
            format!("Can't index into a {}", other.type_name()),
            span,
        )),
    }
}

fn binary(op: BinaryOperator, lhs: Value, rhs: Value) -> std::result::Result<Value, String> {
    use BinaryOperator::*;
    if lhs.is_unknown() || rhs.is_unknown() {
        return Ok(Value::Unknown);
    }
    let num = |v: &Value| {
        v.as_f64()
            .ok_or_else(|| format!("operator {op:?} needs numbers, got {}", v.type_name()))
    };
    let boolean = |v: &Value| {
        v.as_bool()
            .ok_or_else(|| format!("operator {op:?} needs bools, got {}", v.type_name()))
    };
    Ok(match op {
        Eq => Value::Bool(
            crate::proposal::loosely_equal(&lhs, &rhs) && lhs.type_name() == rhs.type_name(),
        ),
        NotEq => Value::Bool(
            !(crate::proposal::loosely_equal(&lhs, &rhs) && lhs.type_name() == rhs.type_name()),
        ),
        Less => Value::Bool(num(&lhs)? < num(&rhs)?),
        LessEq => Value::Bool(num(&lhs)? <= num(&rhs)?),
        Greater => Value::Bool(num(&lhs)? > num(&rhs)?),
        GreaterEq => Value::Bool(num(&lhs)? >= num(&rhs)?),
        Plus => Value::Number(num(&lhs)? + num(&rhs)?),
        Minus => Value::Number(num(&lhs)? - num(&rhs)?),
        Mul => Value::Number(num(&lhs)? * num(&rhs)?),
        Div => {
            let d = num(&rhs)?;
            if d == 0.0 {
                return Err("division by zero".into());
            }
            Value::Number(num(&lhs)? / d)
        }
        Mod => {
            let d = num(&rhs)?;
            if d == 0.0 {
                return Err("modulo by zero".into());
            }
            Value::Number(num(&lhs)? % d)
        }
        And => Value::Bool(boolean(&lhs)? && boolean(&rhs)?),
        Or => Value::Bool(boolean(&lhs)? || boolean(&rhs)?),
    })
}

fn eval_template(template: &Template, scope: &mut Scope<'_>) -> Result<Value> {
    // A template that is exactly one interpolation yields the value itself, unconverted.
    if let Some(Element::Interpolation(i)) = template.as_single_element() {
        return eval(&i.expr, scope);
    }
    let mut out = String::new();
    let mut unknown = false;
    render_template(template, scope, &mut out, &mut unknown, false, false)?;
    Ok(if unknown {
        Value::Unknown
    } else {
        Value::String(out)
    })
}

/// Whether an element strips whitespace from the literal before it (`~` after `${` / `%{`)
/// and after it (`~` before `}`).
fn strips(element: &Element) -> (bool, bool) {
    match element {
        Element::Literal(_) => (false, false),
        Element::Interpolation(i) => (i.strip.strip_start(), i.strip.strip_end()),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(dir) => (
                dir.if_expr.strip.strip_start(),
                dir.endif_expr.strip.strip_end(),
            ),
            Directive::For(dir) => (
                dir.for_expr.strip.strip_start(),
                dir.endfor_expr.strip.strip_end(),
            ),
        },
    }
}

/// Render `template` into `out`. `lead`/`trail`: strip whitespace at the start of the first
/// literal / end of the last one (markers on the enclosing directive).
fn render_template(
    template: &Template,
    scope: &mut Scope<'_>,
    out: &mut String,
    unknown: &mut bool,
    lead: bool,
    trail: bool,
) -> Result<()> {
    let elements: Vec<&Element> = template.iter().collect();
    for (idx, element) in elements.iter().enumerate() {
        match element {
            Element::Literal(s) => {
                let strip_start = if idx == 0 {
                    lead
                } else {
                    strips(elements[idx - 1]).1
                };
                let strip_end = if idx + 1 == elements.len() {
                    trail
                } else {
                    strips(elements[idx + 1]).0
                };
                let mut text: &str = s.value();
                if strip_start {
                    text = text.trim_start();
                }
                if strip_end {
                    text = text.trim_end();
                }
                out.push_str(text);
            }
            Element::Interpolation(i) => match eval(&i.expr, scope)? {
                Value::Unknown => *unknown = true,
                Value::Null => {
                    return Err(EvalError::new(
                        "Invalid template interpolation value: the value is null",
                        scope.span(&i.expr),
                    ));
                }
                v => match v.to_template_string() {
                    Some(s) => out.push_str(&s),
                    None => {
                        if v.contains_unknown() {
                            *unknown = true;
                        } else {
                            return Err(EvalError::new(
                                format!(
                                    "Invalid template interpolation value: cannot include a {} in a string template",
                                    v.type_name()
                                ),
                                scope.span(&i.expr),
                            ));
                        }
                    }
                },
            },
            Element::Directive(d) => match d.as_ref() {
                Directive::If(dir) => match eval(&dir.if_expr.cond_expr, scope)? {
                    Value::Unknown => *unknown = true,
                    v => {
                        let Some(cond) = v.as_bool() else {
                            return Err(EvalError::new(
                                format!(
                                    "Invalid template directive condition: a bool is required, got {}",
                                    v.type_name()
                                ),
                                scope.span(&dir.if_expr.cond_expr),
                            ));
                        };
                        let end_strip = dir.endif_expr.strip.strip_start();
                        if cond {
                            let trail = match &dir.else_expr {
                                Some(e) => e.strip.strip_start(),
                                None => end_strip,
                            };
                            render_template(
                                &dir.if_expr.template,
                                scope,
                                out,
                                unknown,
                                dir.if_expr.strip.strip_end(),
                                trail,
                            )?;
                        } else if let Some(e) = &dir.else_expr {
                            render_template(
                                &e.template,
                                scope,
                                out,
                                unknown,
                                e.strip.strip_end(),
                                end_strip,
                            )?;
                        }
                    }
                },
                Directive::For(dir) => {
                    let f = &dir.for_expr;
                    let collection = eval(&f.collection_expr, scope)?;
                    if collection.is_unknown() {
                        *unknown = true;
                        continue;
                    }
                    for (k, v) in iterate(collection, scope.span(&f.collection_expr))? {
                        let pushed = bind(
                            scope,
                            f.key_var.as_ref().map(|k| k.as_str()),
                            f.value_var.as_str(),
                            k,
                            v,
                        );
                        let r = render_template(
                            &f.template,
                            scope,
                            out,
                            unknown,
                            f.strip.strip_end(),
                            dir.endfor_expr.strip.strip_start(),
                        );
                        scope.bindings.truncate(scope.bindings.len() - pushed);
                        r?;
                    }
                }
            },
        }
    }
    Ok(())
}

fn bind(
    scope: &mut Scope<'_>,
    key_var: Option<&str>,
    value_var: &str,
    k: Value,
    v: Value,
) -> usize {
    let mut pushed = 0;
    if let Some(kv) = key_var {
        scope.bindings.push((kv.to_string(), k));
        pushed += 1;
    }
    scope.bindings.push((value_var.to_string(), v));
    pushed + 1
}

fn iterate(collection: Value, span: Option<Span>) -> Result<Vec<(Value, Value)>> {
    match collection {
        Value::List(items) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect()),
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect()),
        Value::Null => Err(EvalError::new("Cannot iterate over a null value", span)),
        Value::Unknown => Err(EvalError::new(
            "Cannot iterate over a value that is known only after apply",
            span,
        )),
        other => Err(EvalError::new(
            format!("Cannot iterate over a {}", other.type_name()),
            span,
        )),
    }
}

fn eval_for(f: &hcl_edit::expr::ForExpr, scope: &mut Scope<'_>) -> Result<Value> {
    let collection = eval(&f.intro.collection_expr, scope)?;
    if collection.is_unknown() {
        return Ok(Value::Unknown);
    }
    let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
    let value_var = f.intro.value_var.as_str().to_string();
    let mut list = Vec::new();
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in iterate(collection, scope.span(&f.intro.collection_expr))? {
        let pushed = bind(scope, key_var.as_deref(), &value_var, k, v);
        let result = (|| -> Result<()> {
            if let Some(cond) = &f.cond {
                match eval(&cond.expr, scope)? {
                    Value::Unknown => {
                        return Err(EvalError::new(
                            "for-expression condition is unknown",
                            scope.span(&cond.expr),
                        ));
                    }
                    c if c.as_bool() == Some(false) => return Ok(()),
                    _ => {}
                }
            }
            let value = eval(&f.value_expr, scope)?;
            match &f.key_expr {
                Some(ke) => {
                    let key = eval(ke, scope)?.to_template_string().ok_or_else(|| {
                        EvalError::new("for-expression key must be a string", scope.span(ke))
                    })?;
                    if f.grouping {
                        match map.entry(key).or_insert_with(|| Value::List(Vec::new())) {
                            Value::List(items) => items.push(value),
                            _ => unreachable_group(),
                        }
                    } else if map.insert(key.clone(), value).is_some() {
                        return Err(EvalError::new(
                            format!(
                                "Duplicate object key \"{key}\"; use `...` after the value to group"
                            ),
                            scope.span(ke),
                        ));
                    }
                }
                None => list.push(value),
            }
            Ok(())
        })();
        scope.bindings.truncate(scope.bindings.len() - pushed);
        result?;
    }
    Ok(if f.key_expr.is_some() {
        Value::Object(map)
    } else {
        Value::List(list)
    })
}

fn unreachable_group() {}

/// Render a value for human output (plans): numbers without fraction, strings quoted.
pub fn render(value: &Value) -> String {
    match value {
        Value::Number(n) => format_number(*n),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_and_uuid_are_known_only_when_applying() {
        let parsed = hcl_edit::parser::parse_body(
            "x = { at = timestamp(), id = uuid(), n = length(uuid()) }\n",
        )
        .expect("parse");
        let expr = parsed.get_attribute("x").expect("attribute").value.clone();
        let (vars, locals, resources) = (BTreeMap::new(), BTreeMap::new(), HashMap::new());
        let declared = |_: &ResourceAddress| false;
        let mut scope = Scope::new(0, &vars, &locals, &resources, &declared, ".");
        let planned = eval(&expr, &mut scope).expect("eval");
        assert_eq!(planned.get("at"), &Value::Unknown);
        assert_eq!(planned.get("n"), &Value::Unknown);
        scope.apply_time = Some(ApplyTime {
            timestamp: "2026-11-23T12:34:56Z".into(),
        });
        let applied = eval(&expr, &mut scope).expect("eval");
        assert_eq!(applied.get("at"), &Value::from("2026-11-23T12:34:56Z"));
        assert_eq!(applied.get("n"), &Value::Number(36.0));
        let id = applied.get("id").as_str().unwrap_or_default().to_string();
        assert_eq!(
            uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()),
            Ok(4)
        );
    }

    fn run_with(src: &str, files: &dyn FileSource) -> Result<Value> {
        let body = format!("x = {src}\n");
        let parsed = hcl_edit::parser::parse_body(&body).expect("parse");
        let expr = parsed.get_attribute("x").expect("attribute").value.clone();
        let mut vars = BTreeMap::new();
        vars.insert("name".to_string(), Value::String("hub".into()));
        vars.insert("n".to_string(), Value::Number(3.0));
        vars.insert(
            "subnets".to_string(),
            Value::Object(
                [
                    ("a".to_string(), Value::String("10.0.1.0/24".into())),
                    ("b".to_string(), Value::String("10.0.2.0/24".into())),
                ]
                .into_iter()
                .collect(),
            ),
        );
        vars.insert(
            "list".to_string(),
            Value::List(vec![
                Value::Object([("id".to_string(), Value::from("x"))].into_iter().collect()),
                Value::Object([("id".to_string(), Value::from("y"))].into_iter().collect()),
            ]),
        );
        vars.insert("unknown".to_string(), Value::Unknown);
        let locals = BTreeMap::new();
        let resources = HashMap::new();
        let declared = |_: &ResourceAddress| false;
        let mut scope = Scope::new(0, &vars, &locals, &resources, &declared, ".").with_files(files);
        eval(&expr, &mut scope)
    }

    fn run(src: &str) -> Value {
        run_with(src, &NoFiles).unwrap_or_else(|e| panic!("{src}: {}", e.message))
    }

    fn fails(src: &str) -> String {
        match run_with(src, &NoFiles) {
            Ok(v) => panic!("{src} should fail, got {v}"),
            Err(e) => e.message,
        }
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn operators_follow_terraform() {
        assert_eq!(run("1 + 2 * 3"), Value::Number(7.0));
        assert_eq!(run("(1 + 2) * 3"), Value::Number(9.0));
        assert_eq!(run("7 % 3"), Value::Number(1.0));
        assert_eq!(run("-var.n"), Value::Number(-3.0));
        assert_eq!(run("\"5\" + 1"), Value::Number(6.0));
        assert_eq!(run("1 == 1"), Value::Bool(true));
        assert_eq!(run("1 == \"1\""), Value::Bool(false));
        assert_eq!(run("\"a\" != \"b\""), Value::Bool(true));
        assert_eq!(run("3 >= 3 && 2 < 1"), Value::Bool(false));
        assert_eq!(run("!false || false"), Value::Bool(true));
        assert_eq!(run("[1, 2] == [1, 2]"), Value::Bool(true));
        assert_eq!(run("var.unknown + 1"), Value::Unknown);
        assert!(fails("1 / 0").contains("division by zero"));
        assert!(fails("\"a\" + 1").contains("number"));
    }

    #[test]
    fn conditionals_for_and_splat() {
        assert_eq!(run("var.n > 2 ? \"big\" : \"small\""), s("big"));
        assert_eq!(run("var.unknown ? 1 : 2"), Value::Unknown);
        assert!(fails("\"x\" ? 1 : 2").contains("bool"));
        assert_eq!(
            run("[for k, v in var.subnets : \"${k}=${v}\"]"),
            Value::List(vec![s("a=10.0.1.0/24"), s("b=10.0.2.0/24")])
        );
        assert_eq!(
            run("{for k, v in var.subnets : upper(k) => v if k != \"b\"}"),
            Value::Object([("A".to_string(), s("10.0.1.0/24"))].into_iter().collect())
        );
        assert_eq!(
            run("{for s in [\"a\", \"b\", \"a\"] : s => s...}"),
            Value::Object(
                [
                    ("a".to_string(), Value::List(vec![s("a"), s("a")])),
                    ("b".to_string(), Value::List(vec![s("b")])),
                ]
                .into_iter()
                .collect()
            )
        );
        assert!(fails("{for s in [\"a\", \"a\"] : s => s}").contains("Duplicate object key"));
        assert_eq!(
            run("[for i, x in [10, 20] : i + x]"),
            Value::List(vec![Value::Number(10.0), Value::Number(21.0)])
        );
        assert_eq!(run("var.list[*].id"), Value::List(vec![s("x"), s("y")]));
        assert_eq!(run("var.list.*.id"), Value::List(vec![s("x"), s("y")]));
        assert_eq!(run("var.list[1].id"), s("y"));
        assert_eq!(run("var.subnets[\"a\"]"), s("10.0.1.0/24"));
        assert_eq!(run("var.subnets.b"), s("10.0.2.0/24"));
        assert_eq!(run("null[*]"), Value::List(vec![]));
        assert!(fails("var.list[5]").contains("Invalid index"));
        assert!(fails("var.subnets.c").contains("does not have an attribute"));
        assert_eq!(run("length([for x in var.unknown : x])"), Value::Unknown);
    }

    #[test]
    fn templates_directives_and_heredocs() {
        assert_eq!(run("\"vnet-${var.name}-${var.n}\""), s("vnet-hub-3"));
        assert_eq!(
            run("\"${var.n}\""),
            Value::Number(3.0),
            "a lone interpolation keeps its type"
        );
        assert_eq!(
            run("\"%{ if var.n > 1 }many%{ else }one%{ endif }\""),
            s("many")
        );
        assert_eq!(
            run("\"%{ for k, v in var.subnets }${k}:${v};%{ endfor }\""),
            s("a:10.0.1.0/24;b:10.0.2.0/24;")
        );
        assert_eq!(run("\"a $${literal} %%{x}\""), s("a ${literal} %{x}"));
        assert_eq!(run("\"${var.unknown}-x\""), Value::Unknown);
        assert!(fails("\"x${null}\"").contains("null"));
        assert!(fails("\"a${[1]}\"").contains("cannot include"));
        let heredoc = "<<EOT\nhello ${var.name}\n  indented\nEOT\n";
        assert_eq!(run(heredoc), s("hello hub\n  indented\n"));
        let stripped = "<<-EOT\n    first\n      second ${var.n}\n    EOT\n";
        assert_eq!(run(stripped), s("first\n  second 3\n"));
        let strip_markers = "<<EOT\n%{ for k, v in var.subnets ~}\n${k}\n%{ endfor ~}\nend\nEOT\n";
        assert_eq!(run(strip_markers), s("a\nb\nend\n"));
        assert_eq!(run("\"x   ${~ var.name ~}   y\""), s("xhuby"));
    }

    #[test]
    fn try_can_and_templatefile() {
        assert_eq!(run("try(var.subnets.c, \"fallback\")"), s("fallback"));
        assert_eq!(run("try(var.subnets.a, \"fallback\")"), s("10.0.1.0/24"));
        assert_eq!(run("try(var.unknown.x, 1)"), Value::Unknown);
        assert!(fails("try(var.subnets.c, var.subnets.d)").contains("no expression succeeded"));
        assert_eq!(
            run("can(regex(\"^10\\\\.\", \"10.0.0.0\"))"),
            Value::Bool(true)
        );
        assert_eq!(run("can(cidrhost(\"nope\", 1))"), Value::Bool(false));
        assert_eq!(run("can(var.unknown)"), Value::Unknown);
        let mut files = BTreeMap::new();
        files.insert(
            "routes.tpl".to_string(),
            "%{ for r in routes ~}\nroute ${r}\n%{ endfor ~}\nname=${name}\n".to_string(),
        );
        let v = run_with(
            "templatefile(\"routes.tpl\", { routes = [\"10.0.0.0/8\", \"172.16.0.0/12\"], name = var.name })",
            &files,
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(v, s("route 10.0.0.0/8\nroute 172.16.0.0/12\nname=hub\n"));
        let e = run_with("templatefile(\"missing.tpl\", {})", &files).unwrap_err();
        assert!(e.message.contains("no file exists"), "{}", e.message);
        files.insert("leak.tpl".to_string(), "${var.name}".to_string());
        let e = run_with("templatefile(\"leak.tpl\", {})", &files).unwrap_err();
        assert!(e.message.contains("only the variables"), "{}", e.message);
        assert_eq!(
            run_with("file(\"routes.tpl\")", &files).map(|v| v.as_str().map(str::len)),
            Ok(Some(59))
        );
        assert!(fails("upper(\"a\", \"b\")").contains("upper()"));
        assert!(fails("nosuch(1)").contains("no function named"));
    }

    #[test]
    fn expanding_function_arguments() {
        assert_eq!(run("min([3, 1, 2]...)"), Value::Number(1.0));
        assert_eq!(
            run("concat([[1], [2]]...)"),
            Value::List(vec![Value::Number(1.0), Value::Number(2.0)])
        );
    }
}
