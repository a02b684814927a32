//! Static references in expressions (`var.x`, `local.y`, `azurerm_subnet.gw`), for the graph.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element, Template};

use crate::addr::ResourceAddress;
use crate::diag::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    Var(String),
    Local(String),
    Resource(ResourceAddress),
    /// `module.NAME.OUTPUT` (or the whole `module.NAME`).
    Module(String, Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: RefTarget,
    pub span: Option<Span>,
}

/// Every reference in an expression; names bound by `for` are not references.
pub fn in_expr(expr: &Expression, file: usize, out: &mut Vec<Reference>) {
    let mut bound = Vec::new();
    walk(expr, file, &mut bound, out);
}

/// Every reference in a block body (attributes and nested blocks, recursively). Inside a
/// `dynamic` block's `content`, the iterator name is bound, not a reference.
pub fn in_body(body: &Body, file: usize, out: &mut Vec<Reference>) {
    let mut bound = Vec::new();
    walk_body(body, file, &mut bound, out);
}

/// References in one block (a `dynamic` block binds its iterator in `content`).
pub fn in_block(block: &hcl_edit::structure::Block, file: usize, out: &mut Vec<Reference>) {
    let mut bound = Vec::new();
    walk_block(block, file, &mut bound, out);
}

fn walk_body(body: &Body, file: usize, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for attr in body.attributes() {
        walk(&attr.value, file, bound, out);
    }
    for block in body.blocks() {
        walk_block(block, file, bound, out);
    }
}

fn walk_block(
    block: &hcl_edit::structure::Block,
    file: usize,
    bound: &mut Vec<String>,
    out: &mut Vec<Reference>,
) {
    {
        if block.ident.as_str() == "dynamic" {
            let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
                Some(Expression::Variable(v)) => Some(v.as_str().to_string()),
                _ => block.labels.first().map(|l| l.as_str().to_string()),
            };
            for attr in block.body.attributes() {
                walk(&attr.value, file, bound, out);
            }
            let n = bound.len();
            bound.extend(iterator);
            for inner in block.body.blocks() {
                walk_body(&inner.body, file, bound, out);
            }
            bound.truncate(n);
        } else {
            walk_body(&block.body, file, bound, out);
        }
    }
}

fn walk(expr: &Expression, file: usize, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match expr {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => {}
        Expression::Variable(_) => {}
        Expression::Array(items) => items.iter().for_each(|e| walk(e, file, bound, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(e) = k {
                    walk(e, file, bound, out);
                }
                walk(v.expr(), file, bound, out);
            }
        }
        Expression::StringTemplate(t) => walk_template(t, file, bound, out),
        Expression::HeredocTemplate(h) => walk_template(&h.template, file, bound, out),
        Expression::Parenthesis(p) => walk(p.inner(), file, bound, out),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, file, bound, out);
            walk(&c.true_expr, file, bound, out);
            walk(&c.false_expr, file, bound, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| walk(a, file, bound, out)),
        Expression::UnaryOp(op) => walk(&op.expr, file, bound, out),
        Expression::BinaryOp(op) => {
            walk(&op.lhs_expr, file, bound, out);
            walk(&op.rhs_expr, file, bound, out);
        }
        Expression::ForExpr(f) => {
            walk(&f.intro.collection_expr, file, bound, out);
            let n = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.as_str().to_string());
            }
            bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                walk(k, file, bound, out);
            }
            walk(&f.value_expr, file, bound, out);
            if let Some(c) = &f.cond {
                walk(&c.expr, file, bound, out);
            }
            bound.truncate(n);
        }
        Expression::Traversal(t) => {
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op.value() {
                    walk(e, file, bound, out);
                }
            }
            let Expression::Variable(root) = &t.expr else {
                walk(&t.expr, file, bound, out);
                return;
            };
            let root_name = root.as_str();
            if bound.iter().any(|b| b == root_name) {
                return;
            }
            let Some(TraversalOperator::GetAttr(attr)) = t.operators.first().map(|o| o.value())
            else {
                return;
            };
            let span = match (root.span(), attr.span()) {
                (Some(a), Some(b)) => Some(Span::new(file, a.start..b.end)),
                _ => None,
            };
            let target = match root_name {
                "var" => RefTarget::Var(attr.as_str().to_string()),
                "local" => RefTarget::Local(attr.as_str().to_string()),
                "module" => RefTarget::Module(
                    attr.as_str().to_string(),
                    t.operators.iter().skip(1).find_map(|o| match o.value() {
                        TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
                        TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => None,
                        _ => None,
                    }),
                ),
                "data" => match t.operators.get(1).map(|o| o.value()) {
                    Some(TraversalOperator::GetAttr(name)) => RefTarget::Resource(
                        ResourceAddress::new(attr.as_str(), name.as_str()).data(),
                    ),
                    _ => return,
                },
                "path" | "terraform" | "count" | "each" | "self" => return,
                type_name => RefTarget::Resource(ResourceAddress::new(type_name, attr.as_str())),
            };
            out.push(Reference { target, span });
        }
    }
}

fn walk_template(t: &Template, file: usize, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for el in t.iter() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk(&i.expr, file, bound, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(dir) => {
                    walk(&dir.if_expr.cond_expr, file, bound, out);
                    walk_template(&dir.if_expr.template, file, bound, out);
                    if let Some(e) = &dir.else_expr {
                        walk_template(&e.template, file, bound, out);
                    }
                }
                Directive::For(dir) => {
                    let f = &dir.for_expr;
                    walk(&f.collection_expr, file, bound, out);
                    let n = bound.len();
                    if let Some(k) = &f.key_var {
                        bound.push(k.as_str().to_string());
                    }
                    bound.push(f.value_var.as_str().to_string());
                    walk_template(&f.template, file, bound, out);
                    bound.truncate(n);
                }
            },
        }
    }
}
