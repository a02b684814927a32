//! Terraform's built-in functions that network configurations use.
//!
//! Unknown arguments make the result unknown, as in Terraform.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::value::{Value, format_number};

#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    pub message: String,
    pub help: Option<String>,
}

fn err<T>(message: impl Into<String>) -> Result<T, FuncError> {
    Err(FuncError {
        message: message.into(),
        help: None,
    })
}

type R = Result<Value, FuncError>;

/// Names of every function we provide (for "did you mean").
pub const NAMES: &[&str] = &[
    "abs",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "coalesce",
    "concat",
    "contains",
    "element",
    "format",
    "join",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "replace",
    "split",
    "tonumber",
    "tostring",
    "trimspace",
    "upper",
    "values",
];

pub fn call(name: &str, args: Vec<Value>) -> R {
    if !NAMES.contains(&name) {
        let mut e = FuncError {
            message: format!("There is no function named \"{name}\""),
            help: None,
        };
        if let Some(s) = crate::diag::did_you_mean(name, NAMES.iter().copied()) {
            e.help = Some(format!("did you mean `{s}`?"));
        }
        return Err(e);
    }
    if args.iter().any(Value::contains_unknown) && name != "length" {
        return Ok(Value::Unknown);
    }
    match name {
        "abs" => num1(&args).map(|n| Value::Number(n.abs())),
        "lower" => str1(&args).map(|s| Value::String(s.to_lowercase())),
        "upper" => str1(&args).map(|s| Value::String(s.to_uppercase())),
        "trimspace" => str1(&args).map(|s| Value::String(s.trim().to_string())),
        "tostring" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [v] => v
                .to_template_string()
                .map(Value::String)
                .map_or_else(|| err("cannot convert to string"), Ok),
            _ => arity(1),
        },
        "tonumber" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [v] => v
                .as_f64()
                .map(Value::Number)
                .map_or_else(|| err(format!("cannot convert {v} to number")), Ok),
            _ => arity(1),
        },
        "length" => match args.as_slice() {
            [Value::Unknown] => Ok(Value::Unknown),
            [Value::String(s)] => Ok(Value::Number(s.chars().count() as f64)),
            [Value::List(l)] => Ok(Value::Number(l.len() as f64)),
            [Value::Object(m)] => Ok(Value::Number(m.len() as f64)),
            [v] => err(format!("cannot take the length of a {}", v.type_name())),
            _ => arity(1),
        },
        "join" => match args.as_slice() {
            [sep, Value::List(items)] => {
                let sep = sep.as_str().ok_or_else(|| FuncError {
                    message: "separator must be a string".into(),
                    help: None,
                })?;
                let parts: Option<Vec<String>> =
                    items.iter().map(Value::to_template_string).collect();
                parts
                    .map(|p| Value::String(p.join(sep)))
                    .map_or_else(|| err("join needs a list of strings"), Ok)
            }
            _ => err("join(separator, list)"),
        },
        "split" => match args.as_slice() {
            [Value::String(sep), Value::String(s)] => Ok(Value::List(
                s.split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            )),
            _ => err("split(separator, string)"),
        },
        "replace" => match args.as_slice() {
            [Value::String(s), Value::String(from), Value::String(to)] => {
                Ok(Value::String(s.replace(from.as_str(), to)))
            }
            _ => err("replace(string, substring, replacement)"),
        },
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Value::List(items) => out.extend(items),
                    other => return err(format!("concat needs lists, got {}", other.type_name())),
                }
            }
            Ok(Value::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Object(m) => out.extend(m),
                    Value::Null => {}
                    other => {
                        return err(format!(
                            "merge needs maps or objects, got {}",
                            other.type_name()
                        ));
                    }
                }
            }
            Ok(Value::Object(out))
        }
        "keys" => match args.as_slice() {
            [Value::Object(m)] => Ok(Value::List(
                m.keys().map(|k| Value::String(k.clone())).collect(),
            )),
            _ => err("keys(map)"),
        },
        "values" => match args.as_slice() {
            [Value::Object(m)] => Ok(Value::List(m.values().cloned().collect())),
            _ => err("values(map)"),
        },
        "lookup" => match args.as_slice() {
            [Value::Object(m), k] | [Value::Object(m), k, _] => {
                let key = k.to_template_string().unwrap_or_default();
                match (m.get(&key), args.get(2)) {
                    (Some(v), _) => Ok(v.clone()),
                    (None, Some(default)) => Ok(default.clone()),
                    (None, None) => {
                        err(format!("the given key \"{key}\" does not exist in the map"))
                    }
                }
            }
            _ => err("lookup(map, key, default)"),
        },
        "element" => match args.as_slice() {
            [Value::List(items), i] => {
                if items.is_empty() {
                    return err("cannot use element() with an empty list");
                }
                let i = i.as_i64().ok_or_else(|| FuncError {
                    message: "index must be a number".into(),
                    help: None,
                })?;
                if i < 0 {
                    return err("index must not be negative");
                }
                Ok(items[(i as usize) % items.len()].clone())
            }
            _ => err("element(list, index)"),
        },
        "contains" => match args.as_slice() {
            [Value::List(items), v] => Ok(Value::Bool(
                items.iter().any(|i| crate::proposal::loosely_equal(i, v)),
            )),
            _ => err("contains(list, value)"),
        },
        "coalesce" => args
            .into_iter()
            .find(|v| !v.is_null() && v.as_str() != Some(""))
            .map_or_else(|| err("no non-null, non-empty argument"), Ok),
        "min" | "max" => {
            let nums: Option<Vec<f64>> = args.iter().map(Value::as_f64).collect();
            let nums = nums.ok_or_else(|| FuncError {
                message: format!("{name} needs numbers"),
                help: None,
            })?;
            let r = if name == "min" {
                nums.iter().copied().reduce(f64::min)
            } else {
                nums.iter().copied().reduce(f64::max)
            };
            r.map(Value::Number)
                .map_or_else(|| err(format!("{name} needs at least one argument")), Ok)
        }
        "format" => format(&args),
        "jsonencode" => match args.as_slice() {
            [v] => Ok(Value::String(v.to_json().to_string())),
            _ => arity(1),
        },
        "cidrsubnet" => match args.as_slice() {
            [prefix, newbits, netnum] => {
                let (addr, len) = parse_cidr(prefix)?;
                let newbits = whole(newbits, "newbits")?;
                let netnum = whole(netnum, "netnum")?;
                let new_len = len as u64 + newbits;
                if new_len > 32 {
                    return err(format!(
                        "insufficient address space to extend prefix of {len} by {newbits}"
                    ));
                }
                if netnum >= 1u64 << newbits {
                    return err(format!(
                        "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
                    ));
                }
                let base = u32::from(addr) as u64 & mask(len);
                let net = base | (netnum << (32 - new_len));
                Ok(Value::String(format!(
                    "{}/{}",
                    Ipv4Addr::from(net as u32),
                    new_len
                )))
            }
            _ => arity(3),
        },
        "cidrhost" => match args.as_slice() {
            [prefix, hostnum] => {
                let (addr, len) = parse_cidr(prefix)?;
                let size = 1i64 << (32 - len);
                let mut n = hostnum.as_i64().ok_or_else(|| FuncError {
                    message: "hostnum must be a number".into(),
                    help: None,
                })?;
                if n < 0 {
                    n += size;
                }
                if n < 0 || n >= size {
                    return err(format!(
                        "prefix of {len} does not accommodate a host numbered {n}"
                    ));
                }
                let base = u32::from(addr) as u64 & mask(len);
                Ok(Value::String(
                    Ipv4Addr::from((base + n as u64) as u32).to_string(),
                ))
            }
            _ => arity(2),
        },
        "cidrnetmask" => match args.as_slice() {
            [prefix] => {
                let (_, len) = parse_cidr(prefix)?;
                Ok(Value::String(Ipv4Addr::from(mask(len) as u32).to_string()))
            }
            _ => arity(1),
        },
        _ => err(format!("function {name} is not implemented")),
    }
}

fn arity(n: usize) -> R {
    err(format!("expects {n} argument(s)"))
}

fn str1(args: &[Value]) -> Result<String, FuncError> {
    match args {
        [v] => v.to_template_string().ok_or_else(|| FuncError {
            message: format!("expects a string, got {}", v.type_name()),
            help: None,
        }),
        _ => Err(FuncError {
            message: "expects 1 argument".into(),
            help: None,
        }),
    }
}

fn num1(args: &[Value]) -> Result<f64, FuncError> {
    match args {
        [v] => v.as_f64().ok_or_else(|| FuncError {
            message: format!("expects a number, got {}", v.type_name()),
            help: None,
        }),
        _ => Err(FuncError {
            message: "expects 1 argument".into(),
            help: None,
        }),
    }
}

fn whole(v: &Value, what: &str) -> Result<u64, FuncError> {
    v.as_i64()
        .filter(|n| *n >= 0)
        .map(|n| n as u64)
        .ok_or_else(|| FuncError {
            message: format!("{what} must be a non-negative whole number"),
            help: None,
        })
}

fn mask(len: u8) -> u64 {
    if len == 0 {
        0
    } else {
        (0xffff_ffffu64 << (32 - len as u64)) & 0xffff_ffff
    }
}

/// Parse an IPv4 CIDR such as `10.0.0.0/16`.
pub fn parse_cidr(v: &Value) -> Result<(Ipv4Addr, u8), FuncError> {
    let s = v.as_str().ok_or_else(|| FuncError {
        message: "prefix must be a string".into(),
        help: None,
    })?;
    let (a, l) = s.split_once('/').ok_or_else(|| FuncError {
        message: format!("invalid CIDR address \"{s}\""),
        help: None,
    })?;
    let addr: Ipv4Addr = a.parse().map_err(|_| FuncError {
        message: format!("invalid CIDR address \"{s}\""),
        help: None,
    })?;
    let len: u8 = l
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| FuncError {
            message: format!("invalid prefix length in \"{s}\""),
            help: None,
        })?;
    Ok((addr, len))
}

fn format(args: &[Value]) -> R {
    let Some(Value::String(spec)) = args.first() else {
        return err("format(spec, values...)");
    };
    let mut out = String::new();
    let mut rest = args[1..].iter();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'd' | 'v' | 'q')) => {
                let v = rest.next().ok_or_else(|| FuncError {
                    message: "not enough arguments for format".into(),
                    help: None,
                })?;
                match verb {
                    'd' => out.push_str(&format_number(
                        v.as_f64()
                            .ok_or_else(|| FuncError {
                                message: "%d needs a number".into(),
                                help: None,
                            })?
                            .trunc(),
                    )),
                    'q' => {
                        out.push_str(&format!("{:?}", v.to_template_string().unwrap_or_default()))
                    }
                    _ => out.push_str(
                        &v.to_template_string()
                            .unwrap_or_else(|| v.to_json().to_string()),
                    ),
                }
            }
            other => {
                return err(format!(
                    "unsupported format verb %{}",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), 8.into(), 2.into()]).unwrap(),
            s("10.0.2.0/24")
        );
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), 11.into(), 2047.into()]).unwrap(),
            s("10.0.255.224/27")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.12.112.0/20"), 16.into()]).unwrap(),
            s("10.12.112.16")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.12.112.0/20"), (-2).into()]).unwrap(),
            s("10.12.127.254")
        );
        assert_eq!(
            call("cidrnetmask", vec![s("172.16.0.0/12")]).unwrap(),
            s("255.240.0.0")
        );
        assert!(call("cidrsubnet", vec![s("10.0.0.0/30"), 4.into(), 0.into()]).is_err());
    }

    #[test]
    fn unknown_propagates() {
        assert_eq!(call("lower", vec![Value::Unknown]).unwrap(), Value::Unknown);
    }

    #[test]
    fn format_verbs() {
        assert_eq!(
            call("format", vec![s("%s-%d"), s("er"), 3.into()]).unwrap(),
            s("er-3")
        );
    }
}
