//! Type constraints of input variables (`string`, `list(object({ ... }))`, `optional(T, d)`)
//! and Terraform's conversion of values to them.

use std::collections::BTreeMap;
use std::fmt;

use hcl_edit::expr::{Expression, ObjectKey};

use crate::value::{Value, format_number};

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, ObjectAttr>),
    Tuple(Vec<Type>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAttr {
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (k, a)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if a.optional {
                        write!(f, "{k} = optional({})", a.ty)?;
                    } else {
                        write!(f, "{k} = {}", a.ty)?;
                    }
                }
                f.write_str("})")
            }
            Type::Tuple(items) => {
                f.write_str("tuple([")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

/// Parse a type constraint expression. `Err` carries a message for the whole expression.
pub fn parse(expr: &Expression) -> Result<Type, String> {
    parse_inner(expr, false).map(|(t, _)| t)
}

/// Returns the type and, for `optional(T, default)`, (true, default).
fn parse_inner(
    expr: &Expression,
    allow_optional: bool,
) -> Result<(Type, Option<Option<Value>>), String> {
    match expr {
        Expression::Variable(v) => keyword(v.as_str()).map(|t| (t, None)),
        // Terraform 0.11 quoted types.
        Expression::String(s) => match s.value().as_str() {
            "string" => Ok((Type::String, None)),
            "list" => Ok((Type::List(Box::new(Type::Any)), None)),
            "map" => Ok((Type::Map(Box::new(Type::Any)), None)),
            other => Err(format!("\"{other}\" is not a valid type")),
        },
        Expression::Parenthesis(p) => parse_inner(p.inner(), allow_optional),
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            let one = |args: &[&Expression]| -> Result<Type, String> {
                match args {
                    [a] => parse(a),
                    _ => Err(format!("{name}(...) takes exactly one element type")),
                }
            };
            match name {
                "list" => Ok((Type::List(Box::new(one(&args)?)), None)),
                "set" => Ok((Type::Set(Box::new(one(&args)?)), None)),
                "map" => Ok((Type::Map(Box::new(one(&args)?)), None)),
                "tuple" => match args.as_slice() {
                    [Expression::Array(items)] => {
                        let mut out = Vec::new();
                        for i in items.iter() {
                            out.push(parse(i)?);
                        }
                        Ok((Type::Tuple(out), None))
                    }
                    _ => Err("tuple(...) takes a list of element types: tuple([string, number])".into()),
                },
                "object" => match args.as_slice() {
                    [Expression::Object(obj)] => {
                        let mut attrs = BTreeMap::new();
                        for (k, v) in obj.iter() {
                            let key = match k {
                                ObjectKey::Ident(id) => id.as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                                ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
                                ObjectKey::Expression(_) => {
                                    return Err("object attribute names must be identifiers".into());
                                }
                            };
                            let (ty, opt) = parse_inner(v.expr(), true)?;
                            attrs.insert(
                                key,
                                ObjectAttr {
                                    ty,
                                    optional: opt.is_some(),
                                    default: opt.flatten(),
                                },
                            );
                        }
                        Ok((Type::Object(attrs), None))
                    }
                    _ => Err("object(...) takes an object of attribute types: object({ name = string })".into()),
                },
                "optional" => {
                    if !allow_optional {
                        return Err("optional(...) is only allowed for attributes of object(...)".into());
                    }
                    match args.as_slice() {
                        [t] => Ok((parse(t)?, Some(None))),
                        [t, d] => {
                            let ty = parse(t)?;
                            let default = literal_value(d)?;
                            let default = convert(default, &ty)
                                .map_err(|e| format!("invalid default for optional attribute: {e}"))?;
                            Ok((ty, Some(Some(default))))
                        }
                        _ => Err("optional(type) or optional(type, default)".into()),
                    }
                }
                other => Err(format!("\"{other}\" is not a type constructor (list, set, map, object, tuple)")),
            }
        }
        _ => Err("not a type: expected string, number, bool, any, list(...), set(...), map(...), object({...}) or tuple([...])".into()),
    }
}

fn keyword(k: &str) -> Result<Type, String> {
    match k {
        "string" => Ok(Type::String),
        "number" => Ok(Type::Number),
        "bool" => Ok(Type::Bool),
        "any" => Ok(Type::Any),
        "list" => Ok(Type::List(Box::new(Type::Any))),
        "set" => Ok(Type::Set(Box::new(Type::Any))),
        "map" => Ok(Type::Map(Box::new(Type::Any))),
        other => {
            let mut m = format!("\"{other}\" is not a valid type");
            if let Some(s) = crate::diag::did_you_mean(
                other,
                [
                    "string", "number", "bool", "any", "list", "set", "map", "object", "tuple",
                ],
            ) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            Err(m)
        }
    }
}

/// A constant expression (defaults in type constraints).
fn literal_value(expr: &Expression) -> Result<Value, String> {
    let vars = BTreeMap::new();
    let locals = BTreeMap::new();
    let resources = std::collections::HashMap::new();
    let declared = |_: &crate::addr::ResourceAddress| false;
    let mut scope = crate::eval::Scope::new(0, &vars, &locals, &resources, &declared, ".");
    crate::eval::eval(expr, &mut scope).map_err(|e| e.message)
}

/// Convert `value` to `ty` as Terraform does; the error names the path where conversion failed.
pub fn convert(value: Value, ty: &Type) -> Result<Value, String> {
    convert_at(value, ty, &mut Vec::new())
}

fn at(path: &[String]) -> String {
    if path.is_empty() {
        String::new()
    } else {
        let mut s = String::new();
        for p in path {
            if p.starts_with('[') {
                s.push_str(p);
            } else {
                s.push('.');
                s.push_str(p);
            }
        }
        format!(" at {}", s.trim_start_matches('.'))
    }
}

fn convert_at(value: Value, ty: &Type, path: &mut Vec<String>) -> Result<Value, String> {
    match (value, ty) {
        (v @ (Value::Null | Value::Unknown), _) => Ok(v),
        (v, Type::Any) => Ok(v),
        (Value::String(s), Type::String) => Ok(Value::String(s)),
        (Value::Number(n), Type::String) => Ok(Value::String(format_number(n))),
        (Value::Bool(b), Type::String) => Ok(Value::String(b.to_string())),
        (Value::Number(n), Type::Number) => Ok(Value::Number(n)),
        (Value::String(s), Type::Number) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Number)
            .ok_or_else(|| format!("a number is required{}, got \"{s}\"", at(path))),
        (Value::Bool(b), Type::Bool) => Ok(Value::Bool(b)),
        (Value::String(s), Type::Bool) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("a bool is required{}, got \"{s}\"", at(path))),
        },
        (Value::List(items), Type::List(inner) | Type::Set(inner)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(format!("[{i}]"));
                out.push(convert_at(item, inner, path)?);
                path.pop();
            }
            if matches!(ty, Type::Set(_)) {
                let mut seen = std::collections::BTreeSet::new();
                out.retain(|v| seen.insert(v.to_json().to_string()));
                if out.iter().all(|v| matches!(v, Value::String(_))) {
                    out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
            }
            Ok(Value::List(out))
        }
        (Value::Object(map), Type::Map(inner)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                path.push(k.clone());
                out.insert(k, convert_at(v, inner, path)?);
                path.pop();
            }
            Ok(Value::Object(out))
        }
        (Value::Object(mut map), Type::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (k, a) in attrs {
                path.push(k.clone());
                let v = match map.remove(k) {
                    None | Some(Value::Null) if a.optional => {
                        a.default.clone().unwrap_or(Value::Null)
                    }
                    None => {
                        return Err(format!(
                            "attribute \"{k}\" is required{}",
                            at(&path[..path.len() - 1])
                        ));
                    }
                    Some(v) => convert_at(v, &a.ty, path)?,
                };
                path.pop();
                out.insert(k.clone(), v);
            }
            Ok(Value::Object(out))
        }
        (Value::List(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(format!(
                    "a tuple of {} element(s) is required{}, got {}",
                    types.len(),
                    at(path),
                    items.len()
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(types).enumerate() {
                path.push(format!("[{i}]"));
                out.push(convert_at(item, t, path)?);
                path.pop();
            }
            Ok(Value::List(out))
        }
        (v, ty) => Err(format!(
            "{} is required{}, got {}",
            article(ty),
            at(path),
            v.type_name()
        )),
    }
}

fn article(ty: &Type) -> String {
    match ty {
        Type::Any => "a value".into(),
        Type::String => "a string".into(),
        Type::Number => "a number".into(),
        Type::Bool => "a bool".into(),
        Type::List(_) => "a list".into(),
        Type::Set(_) => "a set".into(),
        Type::Map(_) => "a map".into(),
        Type::Object(_) => "an object".into(),
        Type::Tuple(_) => "a tuple".into(),
    }
}

/// Whether a raw string from the command line or the environment is taken literally
/// (primitive types) or parsed as an HCL expression (collections).
pub fn takes_raw_string(ty: Option<&Type>) -> bool {
    matches!(
        ty,
        None | Some(Type::String | Type::Number | Type::Bool | Type::Any)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Type {
        let e = hcl_edit::parser::parse_expr(src).expect("parse");
        parse(&e).unwrap_or_else(|m| panic!("{src}: {m}"))
    }
    fn val(src: &str) -> Value {
        let e = hcl_edit::parser::parse_expr(src).expect("parse");
        literal_value(&e).expect("value")
    }

    #[test]
    fn parses_constraints() {
        assert_eq!(ty("string"), Type::String);
        assert_eq!(ty("list(string)").to_string(), "list(string)");
        assert_eq!(
            ty("map(object({ cidr = string, nsg = optional(bool, true) }))").to_string(),
            "map(object({cidr = string, nsg = optional(bool)}))"
        );
        assert_eq!(
            ty("tuple([string, number])").to_string(),
            "tuple([string, number])"
        );
        assert_eq!(ty("\"list\""), Type::List(Box::new(Type::Any)));
        let e = hcl_edit::parser::parse_expr("strng").expect("parse");
        assert!(parse(&e).unwrap_err().contains("did you mean `string`"));
        let e = hcl_edit::parser::parse_expr("optional(string)").expect("parse");
        assert!(parse(&e).unwrap_err().contains("only allowed"));
    }

    #[test]
    fn converts_as_terraform_does() {
        assert_eq!(
            convert(Value::Number(5.0), &Type::String),
            Ok(Value::from("5"))
        );
        assert_eq!(
            convert(Value::from("5"), &Type::Number),
            Ok(Value::Number(5.0))
        );
        assert!(
            convert(Value::from("x"), &Type::Number)
                .unwrap_err()
                .contains("a number is required")
        );
        assert_eq!(
            convert(Value::from("true"), &Type::Bool),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            convert(val("[\"b\", \"a\", \"b\"]"), &ty("set(string)")),
            Ok(val("[\"a\", \"b\"]"))
        );
        let t = ty(
            "map(object({ cidr = string, nsg = optional(bool, true), tags = optional(map(string)) }))",
        );
        assert_eq!(
            convert(
                val(
                    "{ a = { cidr = \"10.0.0.0/24\" }, b = { cidr = \"10.0.1.0/24\", nsg = false, extra = 1 } }"
                ),
                &t
            ),
            Ok(val(
                "{ a = { cidr = \"10.0.0.0/24\", nsg = true, tags = null }, b = { cidr = \"10.0.1.0/24\", nsg = false, tags = null } }"
            ))
        );
        let e = convert(val("{ a = { nsg = true } }"), &t).unwrap_err();
        assert!(e.contains("attribute \"cidr\" is required at a"), "{e}");
        let e = convert(val("{ a = { cidr = [1] } }"), &t).unwrap_err();
        assert!(
            e.contains("a string is required at a.cidr, got list"),
            "{e}"
        );
        assert!(convert(val("[1]"), &ty("tuple([string, number])")).is_err());
        assert_eq!(
            convert(val("[1, \"2\"]"), &ty("tuple([string, number])")),
            Ok(val("[\"1\", 2]"))
        );
        assert!(
            convert(val("\"x\""), &ty("list(string)"))
                .unwrap_err()
                .contains("a list is required")
        );
        assert_eq!(convert(Value::Unknown, &Type::String), Ok(Value::Unknown));
    }
}
