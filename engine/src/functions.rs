//! Terraform's built-in functions that network configurations use.
//!
//! Unknown arguments make the result unknown, as in Terraform. Functions that need the file
//! system (`file`, `fileexists`) read through a [`FileSource`] the CLI provides, so the engine
//! itself never touches the disk. `try`, `can` and `templatefile` need the evaluator and live
//! in [`crate::eval`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::hashes;
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

fn fe(message: impl Into<String>) -> FuncError {
    FuncError {
        message: message.into(),
        help: None,
    }
}

type R = Result<Value, FuncError>;

/// Read-only access to files for `file`, `fileexists` and `templatefile`. The CLI implements
/// it (paths relative to the project directory); the engine never reads files itself.
pub trait FileSource: Send + Sync {
    /// The file's text, `None` if there is no such file; `Err` for a file that exists but
    /// cannot be read as UTF-8 text.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// A file source with no files (unit tests, evaluation without a project).
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, _path: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

impl FileSource for BTreeMap<String, String> {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        Ok(self.get(path).cloned())
    }
}

/// Names of every function we provide (for "did you mean").
pub const NAMES: &[&str] = &[
    "abs",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "can",
    "ceil",
    "chomp",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "file",
    "fileexists",
    "flatten",
    "floor",
    "format",
    "formatlist",
    "index",
    "indent",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "log",
    "lookup",
    "lower",
    "max",
    "md5",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "parseint",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "sensitive",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "timestamp",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "uuid",
    "values",
    "yamlencode",
    "zipmap",
];

/// "There is no function named …" with a suggestion.
pub fn no_such_function(name: &str) -> FuncError {
    let mut e = fe(format!("There is no function named \"{name}\""));
    if let Some(s) = crate::diag::did_you_mean(name, NAMES.iter().copied()) {
        e.help = Some(format!("did you mean `{s}`?"));
    }
    e
}

/// Seconds since the Unix epoch as RFC 3339 UTC (`2026-11-23T09:30:17Z`), what
/// `timestamp()` returns.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Call a function with no file access.
pub fn call(name: &str, args: Vec<Value>) -> R {
    call_with(name, args, &NoFiles)
}

/// Call `name` with evaluated `args`.
pub fn call_with(name: &str, args: Vec<Value>, files: &dyn FileSource) -> R {
    if !NAMES.contains(&name) {
        return Err(no_such_function(name));
    }
    // Functions that are unknown until apply, whatever their arguments.
    if matches!(name, "uuid" | "timestamp") {
        return if args.is_empty() {
            Ok(Value::Unknown)
        } else {
            arity(name, 0)
        };
    }
    let unknown_ok = matches!(name, "length" | "coalesce" | "try" | "can");
    if !unknown_ok && args.iter().any(Value::contains_unknown) {
        return Ok(Value::Unknown);
    }
    match name {
        // Numbers.
        "abs" => num1(name, &args).map(|n| Value::Number(n.abs())),
        "ceil" => num1(name, &args).map(|n| Value::Number(n.ceil())),
        "floor" => num1(name, &args).map(|n| Value::Number(n.floor())),
        "signum" => num1(name, &args).map(|n| {
            Value::Number(if n > 0.0 {
                1.0
            } else if n < 0.0 {
                -1.0
            } else {
                0.0
            })
        }),
        "pow" => {
            let [a, b] = nums::<2>(name, &args)?;
            Ok(Value::Number(a.powf(b)))
        }
        "log" => {
            let [a, b] = nums::<2>(name, &args)?;
            Ok(Value::Number(a.ln() / b.ln()))
        }
        "min" | "max" => {
            if args.is_empty() {
                return err("must have at least one argument");
            }
            let mut nums = Vec::with_capacity(args.len());
            for a in &args {
                nums.push(to_number(a)?);
            }
            let r = if name == "min" {
                nums.iter().copied().reduce(f64::min)
            } else {
                nums.iter().copied().reduce(f64::max)
            };
            Ok(Value::Number(r.unwrap_or(0.0)))
        }
        "parseint" => parseint(&args),
        "sum" => {
            let items = list1(name, &args)?;
            if items.is_empty() {
                return err("cannot sum an empty list");
            }
            let mut total = 0.0;
            for v in items {
                total += to_number(v)?;
            }
            Ok(Value::Number(total))
        }
        "range" => range(&args),

        // Strings.
        "lower" => str1(name, &args).map(|s| Value::String(s.to_lowercase())),
        "upper" => str1(name, &args).map(|s| Value::String(s.to_uppercase())),
        "title" => str1(name, &args).map(|s| Value::String(title(&s))),
        "strrev" => str1(name, &args).map(|s| Value::String(s.chars().rev().collect())),
        "trimspace" => str1(name, &args).map(|s| Value::String(s.trim().to_string())),
        "chomp" => str1(name, &args).map(|s| {
            let mut s = s;
            while s.ends_with('\n') || s.ends_with('\r') {
                s.pop();
            }
            Value::String(s)
        }),
        "trim" => {
            let [s, cut] = strs::<2>(name, &args)?;
            let set: Vec<char> = cut.chars().collect();
            Ok(Value::String(s.trim_matches(|c| set.contains(&c)).to_string()))
        }
        "trimprefix" => {
            let [s, p] = strs::<2>(name, &args)?;
            Ok(Value::String(
                s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }
        "trimsuffix" => {
            let [s, p] = strs::<2>(name, &args)?;
            Ok(Value::String(
                s.strip_suffix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }
        "startswith" => {
            let [s, p] = strs::<2>(name, &args)?;
            Ok(Value::Bool(s.starts_with(p.as_str())))
        }
        "endswith" => {
            let [s, p] = strs::<2>(name, &args)?;
            Ok(Value::Bool(s.ends_with(p.as_str())))
        }
        "strcontains" => {
            let [s, p] = strs::<2>(name, &args)?;
            Ok(Value::Bool(s.contains(p.as_str())))
        }
        "indent" => match args.as_slice() {
            [n, s] => {
                let n = to_int(n, "spaces")?;
                let s = to_string(s)?;
                let pad = " ".repeat(n.max(0) as usize);
                Ok(Value::String(s.replace('\n', &format!("\n{pad}"))))
            }
            _ => arity(name, 2),
        },
        "substr" => substr(&args),
        "split" => {
            let [sep, s] = strs::<2>(name, &args)?;
            if sep.is_empty() {
                return Ok(Value::List(
                    s.chars().map(|c| Value::String(c.to_string())).collect(),
                ));
            }
            Ok(Value::List(
                s.split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            ))
        }
        "join" => join(&args),
        "replace" => replace(&args),
        "format" => match args.split_first() {
            Some((spec, rest)) => format(&to_string(spec)?, rest).map(Value::String),
            None => err("format(spec, values...) needs at least a format string"),
        },
        "formatlist" => formatlist(&args),
        "regex" | "regexall" => regex_fn(name, &args),

        // Collections.
        "length" => match args.as_slice() {
            [v] if v.is_unknown() => Ok(Value::Unknown),
            [Value::String(s)] => Ok(Value::Number(s.chars().count() as f64)),
            [Value::List(l)] => Ok(Value::Number(l.len() as f64)),
            [Value::Object(m)] => Ok(Value::Number(m.len() as f64)),
            [Value::Null] => err("argument must not be null"),
            [v] => err(format!("cannot take the length of a {}", v.type_name())),
            _ => arity(name, 1),
        },
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Value::List(items) => out.extend(items),
                    other => {
                        return err(format!(
                            "all arguments must be lists or tuples; got {}",
                            other.type_name()
                        ));
                    }
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
                            "arguments must be maps or objects, got {}",
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
            [v] => err(format!("must have map or object type, got {}", v.type_name())),
            _ => arity(name, 1),
        },
        "values" => match args.as_slice() {
            [Value::Object(m)] => Ok(Value::List(m.values().cloned().collect())),
            [v] => err(format!("must have map or object type, got {}", v.type_name())),
            _ => arity(name, 1),
        },
        "lookup" => match args.as_slice() {
            [Value::Object(m), k] | [Value::Object(m), k, _] => {
                let key = to_string(k)?;
                match (m.get(&key), args.get(2)) {
                    (Some(v), _) => Ok(v.clone()),
                    (None, Some(default)) => Ok(default.clone()),
                    (None, None) => err(format!(
                        "the given key \"{key}\" does not exist in the map"
                    )),
                }
            }
            [v, ..] if args.len() <= 3 => err(format!(
                "the first argument must be a map or object, got {}",
                v.type_name()
            )),
            _ => err("lookup(map, key, default) takes 2 or 3 arguments"),
        },
        "element" => match args.as_slice() {
            [Value::List(items), i] => {
                if items.is_empty() {
                    return err("cannot use element function with an empty list");
                }
                let i = to_int(i, "index")?;
                if i < 0 {
                    return err("cannot use element function with a negative index");
                }
                Ok(items[(i as usize) % items.len()].clone())
            }
            [v, _] => err(format!("the first argument must be a list, got {}", v.type_name())),
            _ => arity(name, 2),
        },
        "index" => match args.as_slice() {
            [Value::List(items), v] => items
                .iter()
                .position(|i| equal(i, v))
                .map(|p| Value::Number(p as f64))
                .ok_or_else(|| fe("item not found")),
            [v, _] => err(format!("the first argument must be a list, got {}", v.type_name())),
            _ => arity(name, 2),
        },
        "contains" => match args.as_slice() {
            [Value::List(items), v] => Ok(Value::Bool(items.iter().any(|i| equal(i, v)))),
            [v, _] => err(format!(
                "the first argument must be a list or set, got {}",
                v.type_name()
            )),
            _ => arity(name, 2),
        },
        "flatten" => match args.as_slice() {
            [Value::List(items)] => {
                let mut out = Vec::new();
                flatten_into(items, &mut out);
                Ok(Value::List(out))
            }
            [v] => err(format!("can only flatten lists, got {}", v.type_name())),
            _ => arity(name, 1),
        },
        "distinct" => {
            let items = list1(name, &args)?;
            let mut out: Vec<Value> = Vec::new();
            for v in items {
                if !out.iter().any(|o| equal(o, v)) {
                    out.push(v.clone());
                }
            }
            Ok(Value::List(out))
        }
        "reverse" => {
            let items = list1(name, &args)?;
            Ok(Value::List(items.iter().rev().cloned().collect()))
        }
        "sort" => {
            let items = list1(name, &args)?;
            let mut strs = Vec::with_capacity(items.len());
            for v in items {
                if v.is_null() {
                    return err("given list element is null; a null value cannot be sorted");
                }
                strs.push(to_string(v)?);
            }
            strs.sort();
            Ok(Value::List(strs.into_iter().map(Value::String).collect()))
        }
        "slice" => match args.as_slice() {
            [Value::List(items), start, end] => {
                let s = to_int(start, "start_index")?;
                let e = to_int(end, "end_index")?;
                if s < 0 {
                    return err("the start index must not be less than zero");
                }
                if e > items.len() as i64 {
                    return err("end index must not be greater than the length of the list");
                }
                if s > e {
                    return err("the start index must be less than or equal to the end index");
                }
                Ok(Value::List(items[s as usize..e as usize].to_vec()))
            }
            [v, _, _] => err(format!("the first argument must be a list, got {}", v.type_name())),
            _ => arity(name, 3),
        },
        "zipmap" => match args.as_slice() {
            [Value::List(keys), Value::List(values)] => {
                if keys.len() != values.len() {
                    return err(format!(
                        "number of keys ({}) does not match number of values ({})",
                        keys.len(),
                        values.len()
                    ));
                }
                let mut out = BTreeMap::new();
                for (k, v) in keys.iter().zip(values) {
                    out.insert(to_string(k)?, v.clone());
                }
                Ok(Value::Object(out))
            }
            [_, _] => err("zipmap(keys, values) needs two lists"),
            _ => arity(name, 2),
        },
        "coalesce" => {
            for a in &args {
                match a {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => continue,
                    Value::String(s) if s.is_empty() => continue,
                    v => return Ok(v.clone()),
                }
            }
            err("no non-null, non-empty-string arguments")
        }
        "coalescelist" => {
            if args.is_empty() {
                return err("at least one argument is required");
            }
            for a in &args {
                match a {
                    Value::List(items) if !items.is_empty() => return Ok(a.clone()),
                    Value::List(_) | Value::Null => continue,
                    other => {
                        return err(format!(
                            "coalescelist arguments must be lists or tuples, got {}",
                            other.type_name()
                        ));
                    }
                }
            }
            Ok(Value::List(Vec::new()))
        }
        "compact" => {
            let items = list1(name, &args)?;
            let mut out = Vec::new();
            for v in items {
                match v {
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    v => out.push(Value::String(to_string(v)?)),
                }
            }
            Ok(Value::List(out))
        }
        "chunklist" => match args.as_slice() {
            [Value::List(items), size] => {
                let n = to_int(size, "size")?;
                if n < 0 {
                    return err("the size argument must be positive");
                }
                if n == 0 {
                    return Ok(Value::List(vec![Value::List(items.clone())]));
                }
                Ok(Value::List(
                    items
                        .chunks(n as usize)
                        .map(|c| Value::List(c.to_vec()))
                        .collect(),
                ))
            }
            _ => arity(name, 2),
        },
        "one" => match args.as_slice() {
            [Value::List(items)] => match items.as_slice() {
                [] => Ok(Value::Null),
                [v] => Ok(v.clone()),
                _ => err("must be a list, set, or tuple value with either zero or one elements"),
            },
            [Value::Null] => err("argument must not be null"),
            [v] => err(format!("must be a list, set, or tuple, got {}", v.type_name())),
            _ => arity(name, 1),
        },
        "alltrue" | "anytrue" => {
            let items = list1(name, &args)?;
            let mut bools = Vec::with_capacity(items.len());
            for v in items {
                bools.push(to_bool(v)?);
            }
            Ok(Value::Bool(if name == "alltrue" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            }))
        }
        "setunion" | "setintersection" | "setsubtract" => set_op(name, &args),
        "setproduct" => {
            let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
            for a in &args {
                let Value::List(items) = a else {
                    return err("all arguments must be lists or sets");
                };
                let mut next = Vec::new();
                for prefix in &acc {
                    for item in items {
                        let mut p = prefix.clone();
                        p.push(item.clone());
                        next.push(p);
                    }
                }
                acc = next;
            }
            if args.is_empty() {
                return err("at least one argument is required");
            }
            Ok(Value::List(acc.into_iter().map(Value::List).collect()))
        }
        "transpose" => match args.as_slice() {
            [Value::Object(m)] => {
                let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                for (k, v) in m {
                    let Value::List(items) = v else {
                        return err("transpose needs a map of lists of strings");
                    };
                    for item in items {
                        out.entry(to_string(item)?)
                            .or_default()
                            .push(Value::String(k.clone()));
                    }
                }
                Ok(Value::Object(
                    out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
                ))
            }
            _ => err("transpose(map) needs a map of lists of strings"),
        },

        // Type conversion.
        "tostring" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))] => {
                Ok(Value::String(to_string(v)?))
            }
            [v] => err(format!("cannot convert {} to string", v.type_name())),
            _ => arity(name, 1),
        },
        "tonumber" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [Value::Number(n)] => Ok(Value::Number(*n)),
            [Value::String(s)] => s
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Value::Number)
                .ok_or_else(|| fe(format!("cannot convert \"{s}\" to number: string must be a decimal representation of a number"))),
            [v] => err(format!("cannot convert {} to number", v.type_name())),
            _ => arity(name, 1),
        },
        "tobool" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [Value::Bool(b)] => Ok(Value::Bool(*b)),
            [Value::String(s)] if s == "true" => Ok(Value::Bool(true)),
            [Value::String(s)] if s == "false" => Ok(Value::Bool(false)),
            [Value::String(s)] => err(format!(
                "cannot convert \"{s}\" to bool; only the strings \"true\" or \"false\" are allowed"
            )),
            [v] => err(format!("cannot convert {} to bool", v.type_name())),
            _ => arity(name, 1),
        },
        "tolist" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [Value::List(items)] => Ok(Value::List(unify(items.clone())?)),
            [v] => err(format!("cannot convert {} to list", v.type_name())),
            _ => arity(name, 1),
        },
        "toset" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [Value::List(items)] => Ok(Value::List(to_set(unify(items.clone())?))),
            [v] => err(format!("cannot convert {} to set", v.type_name())),
            _ => arity(name, 1),
        },
        "tomap" => match args.as_slice() {
            [Value::Null] => Ok(Value::Null),
            [Value::Object(m)] => {
                let values = unify(m.values().cloned().collect())?;
                Ok(Value::Object(m.keys().cloned().zip(values).collect()))
            }
            [v] => err(format!("cannot convert {} to map", v.type_name())),
            _ => arity(name, 1),
        },
        "sensitive" | "nonsensitive" => match args.as_slice() {
            [v] => Ok(v.clone()),
            _ => arity(name, 1),
        },

        // Encoding.
        "jsonencode" => match args.as_slice() {
            [v] => Ok(Value::String(json_encode(v))),
            _ => arity(name, 1),
        },
        "jsondecode" => {
            let s = str1(name, &args)?;
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|j| Value::from_json(&j))
                .map_err(|e| fe(format!("invalid JSON: {e}")))
        }
        "yamlencode" => match args.as_slice() {
            [v] => {
                let mut out = String::new();
                yaml_encode(v, 0, &mut out);
                Ok(Value::String(out))
            }
            _ => arity(name, 1),
        },
        "base64encode" => str1(name, &args).map(|s| Value::String(hashes::base64_encode(s.as_bytes()))),
        "base64decode" => {
            let s = str1(name, &args)?;
            let bytes = hashes::base64_decode(&s)
                .ok_or_else(|| fe(format!("failed to decode base64 data \"{s}\"")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| {
                fe("the result of decoding the provided string is not valid UTF-8")
            })
        }
        "md5" => str1(name, &args).map(|s| Value::String(hashes::hex(&hashes::md5(s.as_bytes())))),
        "sha1" => {
            str1(name, &args).map(|s| Value::String(hashes::hex(&hashes::sha1(s.as_bytes()))))
        }
        "sha256" => {
            str1(name, &args).map(|s| Value::String(hashes::hex(&hashes::sha256(s.as_bytes()))))
        }

        // Files.
        "file" => {
            let path = str1(name, &args)?;
            match files.read(&path) {
                Ok(Some(text)) => Ok(Value::String(text)),
                Ok(None) => err(format!("no file exists at \"{path}\"")),
                Err(e) => err(e),
            }
        }
        "fileexists" => {
            let path = str1(name, &args)?;
            match files.read(&path) {
                Ok(found) => Ok(Value::Bool(found.is_some())),
                Err(_) => Ok(Value::Bool(true)),
            }
        }

        // Network.
        "cidrsubnet" => match args.as_slice() {
            [prefix, newbits, netnum] => {
                let net = Cidr::parse(prefix)?;
                let newbits = to_int(newbits, "newbits")?;
                let netnum = to_int(netnum, "netnum")?;
                net.subnet(newbits, netnum).map(|c| Value::String(c.to_string()))
            }
            _ => arity(name, 3),
        },
        "cidrsubnets" => cidrsubnets(&args),
        "cidrhost" => match args.as_slice() {
            [prefix, hostnum] => {
                let net = Cidr::parse(prefix)?;
                let n = to_int(hostnum, "hostnum")?;
                net.host(n).map(Value::String)
            }
            _ => arity(name, 2),
        },
        "cidrnetmask" => match args.as_slice() {
            [prefix] => {
                let net = Cidr::parse(prefix)?;
                if net.bits != 32 {
                    return err("only IPv4 networks have a netmask");
                }
                let mask = net.mask() as u32;
                Ok(Value::String(Ipv4Addr::from(mask).to_string()))
            }
            _ => arity(name, 1),
        },
        _ => err(format!("function {name} must be called by the evaluator")),
    }
}

fn arity(name: &str, n: usize) -> R {
    err(format!("{name}() expects {n} argument(s)"))
}

/// A primitive as a string, as Terraform converts it.
pub fn to_string(v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(format_number(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => err("argument must not be null"),
        other => err(format!("a string is required, got {}", other.type_name())),
    }
}

fn to_number(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| fe(format!("a number is required, got \"{s}\""))),
        Value::Null => err("argument must not be null"),
        other => err(format!("a number is required, got {}", other.type_name())),
    }
}

fn to_int(v: &Value, what: &str) -> Result<i64, FuncError> {
    let n = to_number(v)?;
    if n.fract() != 0.0 || n.abs() > 9.0e15 {
        return err(format!(
            "{what} must be a whole number, got {}",
            format_number(n)
        ));
    }
    Ok(n as i64)
}

fn to_bool(v: &Value) -> Result<bool, FuncError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        Value::Null => err("argument must not be null"),
        other => err(format!("a bool is required, got {}", other.type_name())),
    }
}

fn str1(name: &str, args: &[Value]) -> Result<String, FuncError> {
    match args {
        [v] => to_string(v),
        _ => Err(fe(format!("{name}() expects 1 argument"))),
    }
}

fn strs<const N: usize>(name: &str, args: &[Value]) -> Result<[String; N], FuncError> {
    if args.len() != N {
        return Err(fe(format!("{name}() expects {N} argument(s)")));
    }
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (o, a) in out.iter_mut().zip(args) {
        *o = to_string(a)?;
    }
    Ok(out)
}

fn num1(name: &str, args: &[Value]) -> Result<f64, FuncError> {
    match args {
        [v] => to_number(v),
        _ => Err(fe(format!("{name}() expects 1 argument"))),
    }
}

fn nums<const N: usize>(name: &str, args: &[Value]) -> Result<[f64; N], FuncError> {
    if args.len() != N {
        return Err(fe(format!("{name}() expects {N} argument(s)")));
    }
    let mut out = [0.0; N];
    for (o, a) in out.iter_mut().zip(args) {
        *o = to_number(a)?;
    }
    Ok(out)
}

fn list1<'a>(name: &str, args: &'a [Value]) -> Result<&'a [Value], FuncError> {
    match args {
        [Value::List(items)] => Ok(items),
        [Value::Null] => err("argument must not be null"),
        [v] => err(format!("a list is required, got {}", v.type_name())),
        _ => Err(fe(format!("{name}() expects 1 argument"))),
    }
}

/// Equality as `==` sees it: same type and value (numbers by value).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Convert list elements to one type, as Terraform does for `tolist`/`toset`/`tomap`: mixed
/// primitives become strings.
fn unify(items: Vec<Value>) -> Result<Vec<Value>, FuncError> {
    let has_string = items.iter().any(|v| matches!(v, Value::String(_)));
    let mixed_primitives = {
        let kinds: BTreeSet<&str> = items
            .iter()
            .filter(|v| !v.is_null())
            .map(Value::type_name)
            .collect();
        kinds.len() > 1
    };
    if !mixed_primitives {
        return Ok(items);
    }
    if has_string
        && items.iter().all(|v| {
            matches!(
                v,
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
            )
        })
    {
        return items
            .into_iter()
            .map(|v| {
                if v.is_null() {
                    Ok(Value::Null)
                } else {
                    to_string(&v).map(Value::String)
                }
            })
            .collect();
    }
    err("all elements must have the same type")
}

/// Sets: unique elements; strings sorted lexically, numbers numerically, as cty orders sets.
fn to_set(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.iter().any(|o| equal(o, &v)) {
            out.push(v);
        }
    }
    if out.iter().all(|v| matches!(v, Value::String(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if out.iter().all(|v| matches!(v, Value::Number(_))) {
        out.sort_by(|a, b| {
            a.as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}

fn set_op(name: &str, args: &[Value]) -> R {
    let mut lists = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::List(items) => lists.push(items.clone()),
            other => {
                return err(format!(
                    "{name} arguments must be sets, got {}",
                    other.type_name()
                ));
            }
        }
    }
    let Some((first, rest)) = lists.split_first() else {
        return err(format!("{name} needs at least one set"));
    };
    let out: Vec<Value> = match name {
        "setunion" => lists.iter().flatten().cloned().collect(),
        "setintersection" => first
            .iter()
            .filter(|v| rest.iter().all(|l| l.iter().any(|x| equal(x, v))))
            .cloned()
            .collect(),
        _ => {
            if lists.len() != 2 {
                return err("setsubtract(a, b) takes exactly two sets");
            }
            first
                .iter()
                .filter(|v| !lists[1].iter().any(|x| equal(x, v)))
                .cloned()
                .collect()
        }
    };
    Ok(Value::List(to_set(unify(out)?)))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for v in items {
        match v {
            Value::List(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

/// Go's `strings.Title`: upper-case the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

fn substr(args: &[Value]) -> R {
    let [s, offset, length] = args else {
        return arity("substr", 3);
    };
    let chars: Vec<char> = to_string(s)?.chars().collect();
    let len = chars.len() as i64;
    let mut offset = to_int(offset, "offset")?;
    let length = to_int(length, "length")?;
    if offset < 0 {
        offset += len;
        if offset < 0 {
            offset = 0;
        }
    }
    if offset >= len {
        return Ok(Value::String(String::new()));
    }
    let end = if length < 0 {
        len
    } else {
        (offset + length).min(len)
    };
    Ok(Value::String(
        chars[offset as usize..end as usize].iter().collect(),
    ))
}

fn join(args: &[Value]) -> R {
    let Some((sep, lists)) = args.split_first() else {
        return err("join(separator, list) needs a separator and at least one list");
    };
    if lists.is_empty() {
        return err("at least one list is required");
    }
    let sep = to_string(sep)?;
    let mut parts = Vec::new();
    for l in lists {
        let Value::List(items) = l else {
            return err(format!(
                "join needs lists of strings, got {}",
                l.type_name()
            ));
        };
        for v in items {
            if v.is_null() {
                return err("element is null: cannot concatenate null values");
            }
            parts.push(to_string(v)?);
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn replace(args: &[Value]) -> R {
    let [s, from, to] = strs::<3>("replace", args)?;
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        let re = compile(&from[1..from.len() - 1])?;
        return Ok(Value::String(re.replace_all(&s, to.as_str()).into_owned()));
    }
    Ok(Value::String(s.replace(from.as_str(), &to)))
}

fn compile(pattern: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(pattern).map_err(|e| fe(format!("invalid regular expression: {e}")))
}

fn regex_fn(name: &str, args: &[Value]) -> R {
    let [pattern, s] = strs::<2>(name, args)?;
    let re = compile(&pattern)?;
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let named = names.iter().skip(1).any(Option::is_some);
    let groups = names.len() - 1;
    let one = |caps: regex::Captures<'_>| -> Value {
        if groups == 0 {
            return Value::String(caps.get(0).map(|m| m.as_str()).unwrap_or("").into());
        }
        let text = |i: usize| -> Value {
            caps.get(i)
                .map(|m| Value::String(m.as_str().into()))
                .unwrap_or(Value::Null)
        };
        if named {
            let mut out = BTreeMap::new();
            for (i, n) in names.iter().enumerate().skip(1) {
                if let Some(n) = n {
                    out.insert(n.to_string(), text(i));
                }
            }
            Value::Object(out)
        } else {
            Value::List((1..=groups).map(text).collect())
        }
    };
    if name == "regexall" {
        return Ok(Value::List(re.captures_iter(&s).map(one).collect()));
    }
    match re.captures(&s) {
        Some(caps) => Ok(one(caps)),
        None => err("pattern did not match any part of the given string"),
    }
}

fn parseint(args: &[Value]) -> R {
    let [s, base] = args else {
        return arity("parseint", 2);
    };
    let s = to_string(s)?;
    let base = to_int(base, "base")?;
    if !(2..=62).contains(&base) {
        return err("base must be a whole number between 2 and 62 inclusive");
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return err(format!("cannot parse \"{s}\" as a base {base} integer"));
    }
    let mut n: i128 = 0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i128 - '0' as i128,
            'a'..='z' => c as i128 - 'a' as i128 + 10,
            'A'..='Z' if base <= 36 => c as i128 - 'A' as i128 + 10,
            'A'..='Z' => c as i128 - 'A' as i128 + 36,
            _ => -1,
        };
        if d < 0 || d >= base as i128 {
            return err(format!("cannot parse \"{s}\" as a base {base} integer"));
        }
        n = n.saturating_mul(base as i128).saturating_add(d);
    }
    Ok(Value::Number(if neg { -(n as f64) } else { n as f64 }))
}

fn range(args: &[Value]) -> R {
    let (start, limit, step) = match args {
        [l] => (0.0, to_number(l)?, None),
        [s, l] => (to_number(s)?, to_number(l)?, None),
        [s, l, st] => (to_number(s)?, to_number(l)?, Some(to_number(st)?)),
        _ => return err("range() takes one to three arguments"),
    };
    let step = step.unwrap_or(if limit < start { -1.0 } else { 1.0 });
    if step == 0.0 {
        return err("step must not be zero");
    }
    if (step < 0.0 && start < limit) || (step > 0.0 && start > limit) {
        return err(if step < 0.0 {
            "the start value must be greater than the limit when step is negative"
        } else {
            "the start value must be less than the limit when step is positive"
        });
    }
    let mut out = Vec::new();
    let mut v = start;
    while (step > 0.0 && v < limit) || (step < 0.0 && v > limit) {
        if out.len() >= 1024 {
            return err(
                "more than 1024 values were generated; either decrease the difference between start and limit or use a smaller step",
            );
        }
        out.push(Value::Number(v));
        v += step;
    }
    Ok(Value::List(out))
}

/// Terraform's `format`: `%v %s %d %f %e %g %t %q %x %X %o %b %%`, flags `-+ 0#`, width,
/// precision and explicit argument indexes (`%[2]s`).
pub fn format(spec: &str, args: &[Value]) -> Result<String, FuncError> {
    let mut out = String::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut next_arg = 0usize;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let (mut minus, mut plus, mut zero, mut space, mut sharp) =
            (false, false, false, false, false);
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                '#' => sharp = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'[') {
            let close = chars[i..]
                .iter()
                .position(|&c| c == ']')
                .ok_or_else(|| fe("unterminated argument index"))?;
            let n: String = chars[i + 1..i + close].iter().collect();
            let n: usize = n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| fe(format!("invalid argument index \"{n}\"")))?;
            next_arg = n - 1;
            i += close + 1;
        }
        let mut width = None;
        let mut w = String::new();
        while let Some(&d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            w.push(d);
            i += 1;
        }
        if !w.is_empty() {
            width = w.parse::<usize>().ok();
        }
        let mut precision = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut p = String::new();
            while let Some(&d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                p.push(d);
                i += 1;
            }
            precision = Some(p.parse::<usize>().unwrap_or(0));
        }
        let Some(&verb) = chars.get(i) else {
            return err("format string ends in the middle of a verb");
        };
        i += 1;
        let arg = args.get(next_arg).ok_or_else(|| {
            fe(format!(
                "not enough arguments for \"%{verb}\" at {}: need index {} but have {} total",
                i - 1,
                next_arg + 1,
                args.len()
            ))
        })?;
        next_arg += 1;
        if arg.is_null() && verb != 'v' {
            return err(format!(
                "unsupported value for \"%{verb}\": null value cannot be formatted"
            ));
        }
        let sign = |n: f64, body: String| -> String {
            if n < 0.0 || body.starts_with('-') {
                body
            } else if plus {
                format!("+{body}")
            } else if space {
                format!(" {body}")
            } else {
                body
            }
        };
        let text = match verb {
            'v' => match arg {
                Value::Null => "null".to_string(),
                Value::String(s) if !sharp => s.clone(),
                Value::Number(n) if !sharp => format_number(*n),
                Value::Bool(b) if !sharp => b.to_string(),
                other => json_encode(other),
            },
            's' => {
                let s = to_string(arg)?;
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => json_quote(&to_string(arg)?),
            't' => to_bool(arg)?.to_string(),
            'd' => {
                let n = to_number(arg)?;
                if n.fract() != 0.0 {
                    return err(format!(
                        "unsupported value for \"%d\" at {}: number has a fractional part",
                        i - 1
                    ));
                }
                sign(n, format!("{}", n as i64))
            }
            'f' | 'F' => {
                let n = to_number(arg)?;
                sign(n, format!("{:.*}", precision.unwrap_or(6), n))
            }
            'e' | 'E' => {
                let n = to_number(arg)?;
                let s = go_exp(n, precision.unwrap_or(6));
                sign(n, if verb == 'E' { s.to_uppercase() } else { s })
            }
            'g' | 'G' => {
                let n = to_number(arg)?;
                sign(n, format_number(n))
            }
            'x' | 'X' | 'o' | 'b' => match arg {
                Value::String(s) if matches!(verb, 'x' | 'X') => {
                    let h = hashes::hex(s.as_bytes());
                    if verb == 'X' { h.to_uppercase() } else { h }
                }
                v => {
                    let n = to_number(v)?;
                    if n.fract() != 0.0 {
                        return err(format!(
                            "unsupported value for \"%{verb}\": number has a fractional part"
                        ));
                    }
                    let n = n as i64;
                    let (neg, a) = (n < 0, n.unsigned_abs());
                    let body = match verb {
                        'x' => format!("{a:x}"),
                        'X' => format!("{a:X}"),
                        'o' => format!("{a:o}"),
                        _ => format!("{a:b}"),
                    };
                    let prefix = match (sharp, verb) {
                        (true, 'x') => "0x",
                        (true, 'X') => "0X",
                        (true, 'o') => "0",
                        _ => "",
                    };
                    format!("{}{prefix}{body}", if neg { "-" } else { "" })
                }
            },
            other => return err(format!("unrecognized format character '{other}'")),
        };
        let len = text.chars().count();
        match width {
            Some(w) if len < w => {
                let pad = w - len;
                if minus {
                    out.push_str(&text);
                    out.push_str(&" ".repeat(pad));
                } else if zero
                    && matches!(verb, 'd' | 'f' | 'F' | 'e' | 'E' | 'x' | 'X' | 'o' | 'b')
                {
                    let (sgn, digits) = match text.chars().next() {
                        Some(c @ ('-' | '+' | ' ')) => (c.to_string(), text[1..].to_string()),
                        _ => (String::new(), text.clone()),
                    };
                    out.push_str(&sgn);
                    out.push_str(&"0".repeat(pad));
                    out.push_str(&digits);
                } else {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(&text);
                }
            }
            _ => out.push_str(&text),
        }
    }
    Ok(out)
}

/// Go's `%e`: `1.234560e+03`.
fn go_exp(n: f64, precision: usize) -> String {
    let s = format!("{:.*e}", precision, n);
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn formatlist(args: &[Value]) -> R {
    let Some((spec, rest)) = args.split_first() else {
        return err("formatlist(spec, values...) needs a format string");
    };
    let spec = to_string(spec)?;
    let mut n: Option<usize> = None;
    for (i, a) in rest.iter().enumerate() {
        if let Value::List(items) = a {
            match n {
                Some(m) if m != items.len() => {
                    return err(format!(
                        "argument {} has length {}, which is inconsistent with argument 1 of length {m}",
                        i + 2,
                        items.len()
                    ));
                }
                _ => n = Some(items.len()),
            }
        }
    }
    let Some(n) = n else {
        // No lists at all: one result.
        return Ok(Value::List(vec![Value::String(format(&spec, rest)?)]));
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<Value> = rest
            .iter()
            .map(|a| match a {
                Value::List(items) => items[i].clone(),
                other => other.clone(),
            })
            .collect();
        out.push(Value::String(format(&spec, &row)?));
    }
    Ok(Value::List(out))
}

/// JSON string quoting as Go's encoder does it (`<`, `>`, `&`, U+2028, U+2029 escaped).
fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `jsonencode`: compact, keys sorted, HTML-sensitive characters escaped as Terraform does.
pub fn json_encode(v: &Value) -> String {
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) => json_quote(s),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(json_encode).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", json_quote(k), json_encode(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) if s.contains('\n') => {
            let body: Vec<String> = s.lines().map(str::to_string).collect();
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            format!("|{chomp}\n{}", body.join("\n"))
        }
        Value::String(s) => {
            let mut q = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => q.push_str("\\\""),
                    '\\' => q.push_str("\\\\"),
                    '\t' => q.push_str("\\t"),
                    c => q.push(c),
                }
            }
            q.push('"');
            q
        }
        Value::List(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::List(l) if !l.is_empty()) || matches!(v, Value::Object(m) if !m.is_empty())
}

/// `yamlencode`: YAML 1.2 block style, keys and strings double-quoted, as Terraform emits.
fn yaml_encode(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                out.push_str(&pad);
                out.push_str(&yaml_scalar(&Value::String(k.clone())));
                out.push(':');
                if is_block(val) {
                    out.push('\n');
                    let child = if matches!(val, Value::List(_)) {
                        indent
                    } else {
                        indent + 2
                    };
                    yaml_encode(val, child, out);
                } else {
                    out.push(' ');
                    out.push_str(&scalar_indented(val, indent + 2));
                    out.push('\n');
                }
            }
        }
        Value::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                if is_block(item) {
                    let mut inner = String::new();
                    yaml_encode(item, indent + 2, &mut inner);
                    // The first line goes after the dash.
                    out.push_str(inner.trim_start());
                } else {
                    out.push_str(&scalar_indented(item, indent + 2));
                    out.push('\n');
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_indented(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn scalar_indented(v: &Value, indent: usize) -> String {
    let s = yaml_scalar(v);
    if s.starts_with('|') {
        let pad = " ".repeat(indent);
        let mut lines = s.lines();
        let head = lines.next().unwrap_or("|").to_string();
        let rest: Vec<String> = lines.map(|l| format!("{pad}{l}")).collect();
        format!("{head}\n{}", rest.join("\n"))
    } else {
        s
    }
}

/// An IPv4 or IPv6 prefix as numbers.
struct Cidr {
    addr: u128,
    len: u32,
    bits: u32,
}

impl Cidr {
    fn parse(v: &Value) -> Result<Cidr, FuncError> {
        let s = to_string(v)?;
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| fe(format!("invalid CIDR address: \"{s}\"")))?;
        let ip: IpAddr = a
            .parse()
            .map_err(|_| fe(format!("invalid CIDR address: \"{s}\"")))?;
        let (addr, bits) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let len: u32 = l
            .parse()
            .ok()
            .filter(|l| *l <= bits)
            .ok_or_else(|| fe(format!("invalid CIDR address: \"{s}\"")))?;
        let c = Cidr { addr, len, bits };
        Ok(Cidr {
            addr: addr & c.mask(),
            ..c
        })
    }

    fn mask_of(len: u32, bits: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            (all << (bits - len)) & all
        }
    }

    fn mask(&self) -> u128 {
        Self::mask_of(self.len, self.bits)
    }

    fn size(len: u32, bits: u32) -> u128 {
        if bits - len >= 128 {
            u128::MAX
        } else {
            1u128 << (bits - len)
        }
    }

    fn ip(&self, n: u128) -> String {
        if self.bits == 32 {
            Ipv4Addr::from(n as u32).to_string()
        } else {
            Ipv6Addr::from(n).to_string()
        }
    }

    fn subnet(&self, newbits: i64, netnum: i64) -> Result<String, FuncError> {
        if newbits < 0 {
            return err("newbits must not be negative");
        }
        let new_len = self.len as i64 + newbits;
        if new_len > self.bits as i64 {
            return err(format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                self.len
            ));
        }
        let new_len = new_len as u32;
        let max = if newbits >= 127 {
            u128::MAX
        } else {
            1u128 << newbits
        };
        if netnum < 0 || netnum as u128 >= max {
            return err(format!(
                "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
            ));
        }
        let shift = self.bits - new_len;
        let net = self.addr | ((netnum as u128) << shift);
        Ok(format!("{}/{new_len}", self.ip(net)))
    }

    fn host(&self, n: i64) -> Result<String, FuncError> {
        let size = Self::size(self.len, self.bits);
        let idx: u128 = if n < 0 {
            let back = n.unsigned_abs() as u128;
            if back > size {
                return err(format!(
                    "prefix of {} does not accommodate a host numbered {n}",
                    self.len
                ));
            }
            size - back
        } else {
            n as u128
        };
        if idx >= size {
            return err(format!(
                "prefix of {} does not accommodate a host numbered {n}",
                self.len
            ));
        }
        Ok(self.ip(self.addr + idx))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ip(self.addr), self.len)
    }
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets, each aligned to its own size, as
/// Terraform allocates them.
fn cidrsubnets(args: &[Value]) -> R {
    let Some((prefix, newbits)) = args.split_first() else {
        return err("cidrsubnets(prefix, newbits...) needs a prefix");
    };
    let base = Cidr::parse(prefix)?;
    if newbits.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    let end = base.addr + (Cidr::size(base.len, base.bits) - 1);
    let mut next: u128 = base.addr;
    let mut out = Vec::with_capacity(newbits.len());
    for (i, nb) in newbits.iter().enumerate() {
        let nb = to_int(nb, "newbits")?;
        if nb < 1 {
            return err(format!(
                "invalid newbits value for argument {}: must extend the prefix by at least one bit",
                i + 2
            ));
        }
        let len = base.len as i64 + nb;
        if len > base.bits as i64 {
            return err(format!(
                "would extend prefix to {len} bits, which is too long for an IPv{} address",
                if base.bits == 32 { 4 } else { 6 }
            ));
        }
        let len = len as u32;
        let size = Cidr::size(len, base.bits);
        // Align up to this subnet's size.
        let start = next.div_ceil(size).saturating_mul(size);
        let last = start.saturating_add(size - 1);
        if start < next || last > end || start < base.addr {
            return err(format!(
                "not enough remaining address space for a subnet with a prefix of {len} bits after {}",
                out.last()
                    .and_then(|v: &Value| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| base.to_string())
            ));
        }
        out.push(Value::String(format!("{}/{len}", base.ip(start))));
        next = last.wrapping_add(1);
        if next == 0 && i + 1 < newbits.len() {
            return err("not enough remaining address space");
        }
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_426_217), "2026-11-23T09:30:17Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }
    fn n(x: f64) -> Value {
        Value::Number(x)
    }
    fn l(items: Vec<Value>) -> Value {
        Value::List(items)
    }
    fn ls(items: &[&str]) -> Value {
        l(items.iter().map(|x| s(x)).collect())
    }
    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn ok(name: &str, args: Vec<Value>) -> Value {
        call(name, args).unwrap_or_else(|e| panic!("{name}: {}", e.message))
    }
    fn fails(name: &str, args: Vec<Value>) -> String {
        match call(name, args) {
            Ok(v) => panic!("{name} should fail, got {v}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            ok("cidrsubnet", vec![s("10.0.0.0/16"), n(8.), n(2.)]),
            s("10.0.2.0/24")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4.), n(2.)]),
            s("172.18.0.0/16")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4.), n(15.)]),
            s("10.1.2.240/28")
        );
        // A host address in the prefix is masked to the network first.
        assert_eq!(
            ok("cidrsubnet", vec![s("10.0.3.7/16"), n(8.), n(1.)]),
            s("10.0.1.0/24")
        );
        assert_eq!(
            ok(
                "cidrsubnet",
                vec![s("fd00:fd12:3456:7890::/56"), n(16.), n(162.)]
            ),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.0.0.0/16"), n(0.), n(0.)]),
            s("10.0.0.0/16")
        );
        assert!(fails("cidrsubnet", vec![s("10.0.0.0/30"), n(4.), n(0.)]).contains("insufficient"));
        assert!(fails("cidrsubnet", vec![s("10.0.0.0/16"), n(2.), n(4.)]).contains("accommodate"));
        assert!(fails("cidrsubnet", vec![s("10.0.0.0"), n(2.), n(1.)]).contains("invalid CIDR"));
        assert!(fails("cidrsubnet", vec![s("10.0.0.0/33"), n(2.), n(1.)]).contains("invalid CIDR"));

        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(16.)]),
            s("10.12.112.16")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(268.)]),
            s("10.12.113.12")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(-2.)]),
            s("10.12.127.254")
        );
        assert_eq!(
            ok("cidrhost", vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34.)]),
            s("fd00:fd12:3456:7890::22")
        );
        assert!(fails("cidrhost", vec![s("10.0.0.0/30"), n(4.)]).contains("accommodate"));
        assert!(fails("cidrhost", vec![s("10.0.0.0/30"), n(-5.)]).contains("accommodate"));

        assert_eq!(
            ok("cidrnetmask", vec![s("172.16.0.0/12")]),
            s("255.240.0.0")
        );
        assert_eq!(
            ok("cidrnetmask", vec![s("10.0.0.0/32")]),
            s("255.255.255.255")
        );
        assert_eq!(ok("cidrnetmask", vec![s("0.0.0.0/0")]), s("0.0.0.0"));
        assert!(fails("cidrnetmask", vec![s("fd00::/8")]).contains("IPv4"));
    }

    #[test]
    fn cidrsubnets_allocates_consecutively_and_aligned() {
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![s("10.1.0.0/16"), n(4.), n(4.), n(8.), n(4.)]
            ),
            ls(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ])
        );
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![
                    s("fd00:fd12:3456:7890::/56"),
                    n(16.),
                    n(16.),
                    n(16.),
                    n(32.)
                ]
            ),
            ls(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88"
            ])
        );
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/8")]), l(vec![]));
        assert!(
            fails("cidrsubnets", vec![s("10.0.0.0/30"), n(1.), n(1.), n(1.)])
                .contains("not enough remaining address space")
        );
        assert!(fails("cidrsubnets", vec![s("10.0.0.0/30"), n(3.)]).contains("too long"));
    }

    #[test]
    fn unknown_propagates() {
        assert_eq!(ok("lower", vec![Value::Unknown]), Value::Unknown);
        assert_eq!(
            ok("concat", vec![l(vec![Value::Unknown]), l(vec![])]),
            Value::Unknown
        );
        assert_eq!(ok("uuid", vec![]), Value::Unknown);
        assert_eq!(ok("timestamp", vec![]), Value::Unknown);
        assert_eq!(ok("length", vec![l(vec![Value::Unknown, n(1.)])]), n(2.));
        assert_eq!(ok("length", vec![Value::Unknown]), Value::Unknown);
    }

    #[test]
    fn unknown_function_suggests() {
        let e = call("cidrsubent", vec![]).unwrap_err();
        assert!(e.message.contains("no function named"));
        assert_eq!(e.help.as_deref(), Some("did you mean `cidrsubnet`?"));
    }

    #[test]
    fn format_verbs() {
        let f = |spec: &str, args: Vec<Value>| {
            let mut a = vec![s(spec)];
            a.extend(args);
            ok("format", a)
        };
        assert_eq!(f("%s-%d", vec![s("er"), n(3.)]), s("er-3"));
        assert_eq!(f("Hello, %s!", vec![s("Ander")]), s("Hello, Ander!"));
        assert_eq!(
            f("There are %d lights", vec![n(4.)]),
            s("There are 4 lights")
        );
        assert_eq!(f("%.2f", vec![n(12.3456)]), s("12.35"));
        assert_eq!(f("%03d", vec![n(7.)]), s("007"));
        assert_eq!(f("%-5s|", vec![s("ab")]), s("ab   |"));
        assert_eq!(f("%5s|", vec![s("ab")]), s("   ab|"));
        assert_eq!(f("%q", vec![s("a\"b")]), s("\"a\\\"b\""));
        assert_eq!(f("%t", vec![Value::Bool(true)]), s("true"));
        assert_eq!(f("%v", vec![l(vec![n(1.), s("a")])]), s("[1,\"a\"]"));
        assert_eq!(f("%#v", vec![s("a")]), s("\"a\""));
        assert_eq!(f("%x", vec![n(255.)]), s("ff"));
        assert_eq!(f("%#x", vec![n(255.)]), s("0xff"));
        assert_eq!(f("%b", vec![n(5.)]), s("101"));
        assert_eq!(f("%o", vec![n(8.)]), s("10"));
        assert_eq!(f("%+d", vec![n(5.)]), s("+5"));
        assert_eq!(f("%e", vec![n(1234.5678)]), s("1.234568e+03"));
        assert_eq!(f("%[2]s %[1]s", vec![s("a"), s("b")]), s("b a"));
        assert_eq!(f("100%%", vec![]), s("100%"));
        assert_eq!(f("%s", vec![n(1.5)]), s("1.5"));
        assert!(fails("format", vec![s("%d"), n(1.5)]).contains("fractional"));
        assert!(fails("format", vec![s("%s %s"), s("a")]).contains("not enough arguments"));
        assert!(fails("format", vec![s("%s"), Value::Null]).contains("null"));
        assert!(fails("format", vec![s("%z"), s("a")]).contains("unrecognized"));
    }

    #[test]
    fn formatlist_expands_lists_and_repeats_scalars() {
        assert_eq!(
            ok(
                "formatlist",
                vec![s("Hello, %s!"), ls(&["Valentina", "Ander"])]
            ),
            ls(&["Hello, Valentina!", "Hello, Ander!"])
        );
        assert_eq!(
            ok(
                "formatlist",
                vec![s("%s, %s!"), s("Salutations"), ls(&["Valentina", "Ander"])]
            ),
            ls(&["Salutations, Valentina!", "Salutations, Ander!"])
        );
        assert!(
            fails("formatlist", vec![s("%s%s"), ls(&["a"]), ls(&["b", "c"])])
                .contains("inconsistent")
        );
        assert_eq!(ok("formatlist", vec![s("%s"), l(vec![])]), l(vec![]));
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            ok("join", vec![s(", "), ls(&["foo", "bar", "baz"])]),
            s("foo, bar, baz")
        );
        assert_eq!(
            ok("join", vec![s(","), ls(&["a"]), ls(&["b", "c"])]),
            s("a,b,c")
        );
        assert_eq!(ok("join", vec![s(","), l(vec![])]), s(""));
        assert!(fails("join", vec![s(","), l(vec![Value::Null])]).contains("null"));
        assert_eq!(
            ok("split", vec![s(","), s("foo,bar,baz")]),
            ls(&["foo", "bar", "baz"])
        );
        assert_eq!(ok("split", vec![s(","), s("foo")]), ls(&["foo"]));
        assert_eq!(ok("split", vec![s(","), s("")]), ls(&[""]));
        assert_eq!(ok("lower", vec![s("HELLO")]), s("hello"));
        assert_eq!(ok("upper", vec![s("hello")]), s("HELLO"));
        assert_eq!(ok("title", vec![s("hello world")]), s("Hello World"));
        assert_eq!(ok("title", vec![s("hub-spoke vnet")]), s("Hub-Spoke Vnet"));
        assert_eq!(
            ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            s("1 - 2 - 3")
        );
        assert_eq!(
            ok(
                "replace",
                vec![s("hello world"), s("/w.*d/"), s("everybody")]
            ),
            s("hello everybody")
        );
        assert_eq!(
            ok(
                "replace",
                vec![s("vnet-hub-01"), s("/^vnet-(\\w+)-(\\d+)$/"), s("$2-$1")]
            ),
            s("01-hub")
        );
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trimspace", vec![s("  hello\n\n")]), s("hello"));
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("hello")]),
            s("world")
        );
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("cat")]),
            s("helloworld")
        );
        assert_eq!(
            ok("trimsuffix", vec![s("helloworld"), s("world")]),
            s("hello")
        );
        assert_eq!(
            ok("substr", vec![s("hello world"), n(1.), n(4.)]),
            s("ello")
        );
        assert_eq!(ok("substr", vec![s("🤔🤷"), n(0.), n(1.)]), s("🤔"));
        assert_eq!(
            ok("substr", vec![s("hello world"), n(-5.), n(-1.)]),
            s("world")
        );
        assert_eq!(
            ok("substr", vec![s("hello world"), n(6.), n(10.)]),
            s("world")
        );
        assert_eq!(ok("substr", vec![s("hello"), n(10.), n(2.)]), s(""));
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("hello")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("endswith", vec![s("hello world"), s("hello")]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("strcontains", vec![s("hello world"), s("wor")]),
            Value::Bool(true)
        );
        assert_eq!(ok("chomp", vec![s("hello\r\n\n")]), s("hello"));
        assert_eq!(ok("indent", vec![n(2.), s("a\nb")]), s("a\n  b"));
        assert_eq!(ok("strrev", vec![s("abc")]), s("cba"));
        assert_eq!(ok("length", vec![s("🤔🤷")]), n(2.));
    }

    #[test]
    fn regex_functions() {
        assert_eq!(
            ok(
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]
            ),
            s("aaabbbccc")
        );
        assert_eq!(
            ok(
                "regex",
                vec![s("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)"), s("2019-02-01")]
            ),
            ls(&["2019", "02", "01"])
        );
        assert_eq!(
            ok(
                "regex",
                vec![
                    s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    s("https://terraform.io/docs/")
                ]
            ),
            m(&[("authority", s("terraform.io")), ("scheme", s("https"))])
        );
        assert!(fails("regex", vec![s("[0-9]+"), s("abc")]).contains("did not match"));
        assert!(fails("regex", vec![s("("), s("abc")]).contains("invalid regular expression"));
        assert_eq!(
            ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]),
            ls(&["abcd", "efgh"])
        );
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("123")]), l(vec![]));
        assert_eq!(
            ok(
                "length",
                vec![ok("regexall", vec![s("10\\.0"), s("10.0.0.0 10.0.1.0")])]
            ),
            n(2.)
        );
    }

    #[test]
    fn collection_functions() {
        assert_eq!(ok("length", vec![ls(&["a", "b"])]), n(2.));
        assert_eq!(ok("length", vec![m(&[("a", n(1.))])]), n(1.));
        assert!(fails("length", vec![n(1.)]).contains("length"));
        assert_eq!(
            ok("element", vec![ls(&["a", "b", "c"]), n(3.)]),
            s("a"),
            "element wraps around"
        );
        assert!(fails("element", vec![l(vec![]), n(0.)]).contains("empty"));
        assert!(fails("element", vec![ls(&["a"]), n(-1.)]).contains("negative"));
        assert_eq!(ok("index", vec![ls(&["a", "b", "c"]), s("b")]), n(1.));
        assert!(fails("index", vec![ls(&["a"]), s("z")]).contains("not found"));
        let mp = m(&[("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(ok("lookup", vec![mp.clone(), s("a"), s("what?")]), s("ay"));
        assert_eq!(
            ok("lookup", vec![mp.clone(), s("c"), s("what?")]),
            s("what?")
        );
        assert!(fails("lookup", vec![mp.clone(), s("c")]).contains("does not exist"));
        assert_eq!(
            ok(
                "merge",
                vec![
                    m(&[("a", s("b")), ("c", s("d"))]),
                    m(&[("e", s("f")), ("c", s("z"))])
                ]
            ),
            m(&[("a", s("b")), ("c", s("z")), ("e", s("f"))])
        );
        assert_eq!(ok("merge", vec![]), m(&[]));
        assert_eq!(
            ok("concat", vec![ls(&["a", ""]), ls(&["b", "c"])]),
            ls(&["a", "", "b", "c"])
        );
        assert!(fails("concat", vec![s("a")]).contains("lists"));
        assert_eq!(
            ok(
                "flatten",
                vec![l(vec![ls(&["a", "b"]), l(vec![]), l(vec![ls(&["c"])])])]
            ),
            ls(&["a", "b", "c"])
        );
        assert_eq!(
            ok("distinct", vec![ls(&["a", "b", "a", "c", "d", "b"])]),
            ls(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("keys", vec![m(&[("b", n(1.)), ("a", n(2.))])]),
            ls(&["a", "b"])
        );
        assert_eq!(
            ok("values", vec![m(&[("b", n(1.)), ("a", n(2.))])]),
            l(vec![n(2.), n(1.)])
        );
        assert_eq!(
            ok("zipmap", vec![ls(&["a", "b"]), l(vec![n(1.), n(2.)])]),
            m(&[("a", n(1.)), ("b", n(2.))])
        );
        assert!(fails("zipmap", vec![ls(&["a"]), l(vec![])]).contains("does not match"));
        assert_eq!(
            ok("contains", vec![ls(&["a", "b"]), s("a")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("contains", vec![l(vec![n(1.)]), s("1")]),
            Value::Bool(false)
        );
        assert_eq!(ok("coalesce", vec![s(""), Value::Null, s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![n(1.), n(2.)]), n(1.));
        assert!(fails("coalesce", vec![Value::Null, s("")]).contains("no non-null"));
        assert_eq!(
            ok("coalescelist", vec![l(vec![]), ls(&["c", "d"]), ls(&["e"])]),
            ls(&["c", "d"])
        );
        assert_eq!(
            ok("compact", vec![l(vec![s("a"), s(""), Value::Null, s("b")])]),
            ls(&["a", "b"])
        );
        assert_eq!(
            ok("reverse", vec![l(vec![n(1.), n(2.)])]),
            l(vec![n(2.), n(1.)])
        );
        assert_eq!(
            ok("sort", vec![ls(&["e", "d", "a", "x"])]),
            ls(&["a", "d", "e", "x"])
        );
        assert_eq!(ok("sort", vec![l(vec![n(11.), n(3.)])]), ls(&["11", "3"]));
        assert_eq!(
            ok("slice", vec![ls(&["a", "b", "c", "d"]), n(1.), n(3.)]),
            ls(&["b", "c"])
        );
        assert_eq!(ok("slice", vec![ls(&["a"]), n(1.), n(1.)]), l(vec![]));
        assert!(fails("slice", vec![ls(&["a"]), n(0.), n(2.)]).contains("greater"));
        assert!(fails("slice", vec![ls(&["a", "b"]), n(2.), n(1.)]).contains("less than"));
        assert_eq!(
            ok(
                "setunion",
                vec![ls(&["a", "b"]), ls(&["b", "c"]), ls(&["d"])]
            ),
            ls(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok(
                "setintersection",
                vec![ls(&["a", "b"]), ls(&["b", "c"]), ls(&["b", "d"])]
            ),
            ls(&["b"])
        );
        assert_eq!(
            ok("setsubtract", vec![ls(&["a", "b", "c"]), ls(&["a", "c"])]),
            ls(&["b"])
        );
        assert_eq!(ok("one", vec![l(vec![])]), Value::Null);
        assert_eq!(ok("one", vec![ls(&["x"])]), s("x"));
        assert!(fails("one", vec![ls(&["x", "y"])]).contains("zero or one"));
        assert_eq!(ok("alltrue", vec![l(vec![])]), Value::Bool(true));
        assert_eq!(
            ok("anytrue", vec![l(vec![s("true"), Value::Bool(false)])]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("chunklist", vec![ls(&["a", "b", "c"]), n(2.)]),
            l(vec![ls(&["a", "b"]), ls(&["c"])])
        );
        assert_eq!(
            ok(
                "transpose",
                vec![m(&[("a", ls(&["1", "2"])), ("b", ls(&["2", "3"]))])]
            ),
            m(&[("1", ls(&["a"])), ("2", ls(&["a", "b"])), ("3", ls(&["b"]))])
        );
        assert_eq!(ok("sum", vec![l(vec![n(10.), n(13.), n(6.)])]), n(29.));
        assert_eq!(
            ok("setproduct", vec![ls(&["a", "b"]), ls(&["1"])]),
            l(vec![ls(&["a", "1"]), ls(&["b", "1"])])
        );
    }

    #[test]
    fn numeric_functions() {
        assert_eq!(ok("abs", vec![n(-12.4)]), n(12.4));
        assert_eq!(ok("ceil", vec![n(4.1)]), n(5.));
        assert_eq!(ok("floor", vec![n(-4.1)]), n(-5.));
        assert_eq!(ok("min", vec![n(12.), n(54.), n(3.)]), n(3.));
        assert_eq!(ok("max", vec![n(12.), n(54.), n(3.)]), n(54.));
        assert!(fails("max", vec![]).contains("at least one"));
        assert_eq!(ok("range", vec![n(3.)]), l(vec![n(0.), n(1.), n(2.)]));
        assert_eq!(
            ok("range", vec![n(1.), n(4.)]),
            l(vec![n(1.), n(2.), n(3.)])
        );
        assert_eq!(
            ok("range", vec![n(1.), n(8.), n(2.)]),
            l(vec![n(1.), n(3.), n(5.), n(7.)])
        );
        assert_eq!(
            ok("range", vec![n(4.), n(1.)]),
            l(vec![n(4.), n(3.), n(2.)])
        );
        assert_eq!(
            ok("range", vec![n(10.), n(5.), n(-2.)]),
            l(vec![n(10.), n(8.), n(6.)])
        );
        assert_eq!(ok("range", vec![n(0.)]), l(vec![]));
        assert!(fails("range", vec![n(1.), n(4.), n(0.)]).contains("zero"));
        assert!(fails("range", vec![n(1.), n(4.), n(-1.)]).contains("greater"));
        assert!(fails("range", vec![n(2000.)]).contains("1024"));
        assert_eq!(ok("pow", vec![n(3.), n(2.)]), n(9.));
        assert_eq!(ok("signum", vec![n(-13.)]), n(-1.));
        assert_eq!(ok("parseint", vec![s("FF"), n(16.)]), n(255.));
        assert_eq!(ok("parseint", vec![s("-10"), n(2.)]), n(-2.));
        assert!(fails("parseint", vec![s("12"), n(2.)]).contains("cannot parse"));
    }

    #[test]
    fn conversion_functions() {
        assert_eq!(ok("tostring", vec![n(1.)]), s("1"));
        assert_eq!(ok("tostring", vec![Value::Bool(true)]), s("true"));
        assert_eq!(ok("tostring", vec![Value::Null]), Value::Null);
        assert!(fails("tostring", vec![ls(&["a"])]).contains("cannot convert"));
        assert_eq!(ok("tonumber", vec![s("1.5")]), n(1.5));
        assert!(fails("tonumber", vec![s("no")]).contains("cannot convert"));
        assert_eq!(ok("tobool", vec![s("true")]), Value::Bool(true));
        assert!(fails("tobool", vec![s("yes")]).contains("only the strings"));
        assert_eq!(ok("tolist", vec![l(vec![s("a"), n(1.)])]), ls(&["a", "1"]));
        assert!(fails("tolist", vec![l(vec![ls(&["a"]), n(1.)])]).contains("same type"));
        assert_eq!(ok("toset", vec![ls(&["c", "b", "b"])]), ls(&["b", "c"]));
        assert_eq!(
            ok("toset", vec![l(vec![s("a"), n(1.), s("1")])]),
            ls(&["1", "a"])
        );
        assert_eq!(
            ok("tomap", vec![m(&[("a", n(1.)), ("b", s("x"))])]),
            m(&[("a", s("1")), ("b", s("x"))])
        );
        assert!(fails("tomap", vec![ls(&["a"])]).contains("cannot convert"));
    }

    #[test]
    fn encoding_functions() {
        assert_eq!(
            ok("jsonencode", vec![m(&[("hello", s("world"))])]),
            s("{\"hello\":\"world\"}")
        );
        assert_eq!(
            ok("jsonencode", vec![s("<a&b>")]),
            s("\"\\u003ca\\u0026b\\u003e\"")
        );
        assert_eq!(
            ok(
                "jsonencode",
                vec![l(vec![n(1.), n(1.5), Value::Null, Value::Bool(true)])]
            ),
            s("[1,1.5,null,true]")
        );
        assert_eq!(
            ok(
                "jsondecode",
                vec![s("{\"hello\": \"world\", \"n\": [1, true, null]}")]
            ),
            m(&[
                ("hello", s("world")),
                ("n", l(vec![n(1.), Value::Bool(true), Value::Null]))
            ])
        );
        assert!(fails("jsondecode", vec![s("{")]).contains("invalid JSON"));
        assert_eq!(
            ok("yamlencode", vec![m(&[("a", s("b")), ("c", s("d"))])]),
            s("\"a\": \"b\"\n\"c\": \"d\"\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![m(&[
                    ("foo", l(vec![n(1.), n(2.), n(3.)])),
                    ("bar", s("baz"))
                ])]
            ),
            s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![m(&[
                    (
                        "foo",
                        l(vec![n(1.), m(&[("a", s("b")), ("c", s("d"))]), n(3.)])
                    ),
                    ("bar", s("baz"))
                ])]
            ),
            s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![m(&[("a", m(&[("b", Value::Null)])), ("e", l(vec![]))])]
            ),
            s("\"a\":\n  \"b\": null\n\"e\": []\n")
        );
        assert_eq!(
            ok("base64encode", vec![s("Hello World")]),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            s("Hello World")
        );
        assert!(fails("base64decode", vec![s("not base64!")]).contains("decode"));
        assert!(fails("base64decode", vec![s("/w==")]).contains("UTF-8"));
        assert_eq!(
            ok("md5", vec![s("hello world")]),
            s("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(
            ok("sha1", vec![s("hello world")]),
            s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            ok("sha256", vec![s("hello world")]),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
    }

    #[test]
    fn file_functions_read_through_the_file_source() {
        let mut files = BTreeMap::new();
        files.insert("cloud-init.yaml".to_string(), "#cloud-config\n".to_string());
        assert_eq!(
            call_with("file", vec![s("cloud-init.yaml")], &files).unwrap(),
            s("#cloud-config\n")
        );
        assert_eq!(
            call_with("fileexists", vec![s("cloud-init.yaml")], &files).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call_with("fileexists", vec![s("nope")], &files).unwrap(),
            Value::Bool(false)
        );
        let e = call_with("file", vec![s("nope")], &files).unwrap_err();
        assert!(e.message.contains("no file exists"), "{}", e.message);
    }
}
