//! `timeouts { create = "2h" }` blocks: per-resource overrides of the provider's operation
//! timeouts (azurerm's defaults: gateways create 90 m, update 60 m, delete 120 m; circuits 30 m).

use std::time::Duration;

use hcl_edit::expr::Expression;

use crate::config::{ResourceConfig, span_of};
use crate::diag::{Diagnostic, did_you_mean};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeoutOverrides {
    pub create: Option<Duration>,
    pub update: Option<Duration>,
    pub delete: Option<Duration>,
    pub read: Option<Duration>,
}

/// Terraform's duration syntax: `90s`, `30m`, `2h`, `1h30m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    parse(text, false)
}

/// The same, where a number without a unit counts as seconds (`90`, `1h30`): for command-line
/// flags such as `--wait-for-provider`.
pub fn parse_duration_lenient(text: &str) -> Option<Duration> {
    parse(text, true)
}

fn parse(text: &str, bare_seconds: bool) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut num = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            _ => return None,
        };
    }
    if !num.is_empty() {
        if !bare_seconds {
            return None;
        }
        total += num.parse::<f64>().ok()?;
    }
    Some(Duration::from_secs_f64(total))
}

/// The overrides a resource's `timeouts` block sets, with diagnostics for bad entries.
pub fn overrides(rc: &ResourceConfig) -> (TimeoutOverrides, Vec<Diagnostic>) {
    let mut out = TimeoutOverrides::default();
    let mut diags = Vec::new();
    for block in rc.body.blocks().filter(|b| b.ident.as_str() == "timeouts") {
        for attr in block.body.attributes() {
            let key = attr.key.as_str();
            let slot = match key {
                "create" => &mut out.create,
                "update" => &mut out.update,
                "delete" => &mut out.delete,
                "read" => &mut out.read,
                other => {
                    let mut d = Diagnostic::error(format!("Unsupported timeout \"{other}\""))
                        .label(
                            span_of(rc.file, &attr.key),
                            "timeouts take create, update, delete and read",
                        );
                    if let Some(s) = did_you_mean(other, ["create", "update", "delete", "read"]) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                    continue;
                }
            };
            match &attr.value {
                Expression::String(s) => match parse_duration(s.value()) {
                    Some(d) => *slot = Some(d),
                    None => diags.push(
                        Diagnostic::error(format!("Invalid duration \"{}\"", s.value())).label(
                            span_of(rc.file, &attr.value),
                            "expected a duration such as \"90m\" or \"1h30m\"",
                        ),
                    ),
                },
                other => diags.push(
                    Diagnostic::error(format!("The `{key}` timeout must be a string")).label(
                        span_of(rc.file, other),
                        "expected a duration such as \"90m\"",
                    ),
                ),
            }
        }
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("3d"), None);
        assert_eq!(parse_duration_lenient("10"), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_duration_lenient("1h30"),
            Some(Duration::from_secs(3630))
        );
        assert_eq!(parse_duration_lenient("3d"), None);
    }
}
