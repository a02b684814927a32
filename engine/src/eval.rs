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
use crate::functions;
use crate::value::{Value, format_number};

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

/// Everything an expression can refer to.
pub struct Scope<'a> {
    pub file: usize,
    pub vars: &'a BTreeMap<String, Value>,
    pub locals: &'a BTreeMap<String, LocalConfig>,
    pub resources: &'a HashMap<ResourceAddress, Value>,
    /// Resource types declared in the configuration, to tell "undeclared" from "not yet known".
    pub declared: &'a dyn Fn(&ResourceAddress) -> bool,
    pub path_module: &'a str,
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
            bindings: Vec::new(),
            depth: Cell::new(0),
        }
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
            let mut args = Vec::with_capacity(call.args.len());
            for arg in call.args.iter() {
                args.push(eval(arg, scope)?);
            }
            if call.args.expand_final()
                && let Some(Value::List(last)) = args.pop()
            {
                args.extend(last);
            }
            functions::call(name, args).map_err(|e| {
                let mut err = EvalError::new(
                    format!("in function {name}(): {}", e.message),
                    scope.span(call.as_ref()),
                );
                err.help = e.help;
                err
            })
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

fn needs_attr(root: &str, scope: &Scope<'_>) -> bool {
    if scope.lookup_binding(root).is_some() {
        return false;
    }
    matches!(
        root,
        "var" | "local" | "path" | "terraform" | "count" | "each" | "self"
    ) || root.contains('_')
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
        "count" | "each" | "self" => Err(EvalError::new(
            format!("`{root}.{name}` is not available here"),
            span,
        )),
        type_name => {
            let addr = ResourceAddress::new(type_name, name);
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
    render_template(template, scope, &mut out, &mut unknown)?;
    Ok(if unknown {
        Value::Unknown
    } else {
        Value::String(out)
    })
}

fn render_template(
    template: &Template,
    scope: &mut Scope<'_>,
    out: &mut String,
    unknown: &mut bool,
) -> Result<()> {
    for element in template.iter() {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
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
                                format!("Cannot include a {} in a string template", v.type_name()),
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
                        if v.as_bool().unwrap_or(false) {
                            render_template(&dir.if_expr.template, scope, out, unknown)?;
                        } else if let Some(e) = &dir.else_expr {
                            render_template(&e.template, scope, out, unknown)?;
                        }
                    }
                },
                Directive::For(dir) => {
                    let f = &dir.for_expr;
                    let collection = eval(&f.collection_expr, scope)?;
                    for (k, v) in iterate(collection, scope.span(&f.collection_expr))? {
                        let pushed = bind(
                            scope,
                            f.key_var.as_ref().map(|k| k.as_str()),
                            f.value_var.as_str(),
                            k,
                            v,
                        );
                        let r = render_template(&f.template, scope, out, unknown);
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
