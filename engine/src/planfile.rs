//! A plan with everything needed to review it, save it, and apply exactly it later.

use std::collections::BTreeMap;

use crate::addr::ResourceAddress;
use crate::drift::Drift;
use crate::plan::Plan;
use crate::provider::AttrPath;
use crate::state::State;
use crate::value::Value;

/// A variable's value as the plan used it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanVariable {
    pub value: Value,
    pub sensitive: bool,
}

/// How the plan was made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanMode {
    /// Only accept drift into state; no changes to remote objects.
    pub refresh_only: bool,
    /// `--target` addresses, as given.
    pub targets: Vec<String>,
    /// `--replace` addresses, as given.
    pub replace: Vec<String>,
}

/// A plan and its context: what renderers read and what `plan --out` saves.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    pub plan: Plan,
    /// The refreshed state the plan was computed against (apply starts from it).
    pub prior_state: State,
    /// Objects changed outside netform, found by refresh (sorted by address).
    pub drift: Vec<Drift>,
    pub variables: BTreeMap<String, PlanVariable>,
    /// Hash of the configuration sources (file names and contents).
    pub config_hash: String,
    /// Terraform's `configuration` object of the JSON plan, computed when planning.
    pub configuration: serde_json::Value,
    /// Attribute paths that hold values of sensitive variables, per resource.
    pub sensitive_paths: BTreeMap<ResourceAddress, Vec<AttrPath>>,
    pub mode: PlanMode,
}

impl SavedPlan {
    /// A plan with no context: no drift, empty prior state.
    pub fn bare(plan: Plan) -> Self {
        SavedPlan {
            prior_state: State::new(plan.prior_lineage.clone().unwrap_or_default()),
            plan,
            drift: Vec::new(),
            variables: BTreeMap::new(),
            config_hash: String::new(),
            configuration: serde_json::Value::Object(Default::default()),
            sensitive_paths: BTreeMap::new(),
            mode: PlanMode::default(),
        }
    }

    /// Bundle a fresh plan with what reviewers and a later apply need from the configuration
    /// (all but Terraform's `configuration` object: see `with_configuration`).
    pub fn new(
        plan: Plan,
        prior_state: State,
        drift: Vec<Drift>,
        config: &crate::config::Config,
        vars: &BTreeMap<String, Value>,
        mode: PlanMode,
    ) -> Self {
        let variables = vars
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    PlanVariable {
                        value: v.clone(),
                        sensitive: config.variables.get(k).is_some_and(|c| c.sensitive),
                    },
                )
            })
            .collect();
        SavedPlan {
            plan,
            prior_state,
            drift,
            variables,
            config_hash: config_hash(&config.sources),
            configuration: serde_json::Value::Object(Default::default()),
            sensitive_paths: crate::render_json::sensitive_paths(config),
            mode,
        }
    }

    /// Fill in Terraform's `configuration` object, which only the JSON plan and plan files
    /// carry: computing it for every plan, even one shown as text, cost 8 % of a
    /// 1,000-object plan and tens of megabytes for 10,000.
    pub fn with_configuration(
        mut self,
        config: &crate::config::Config,
        provider_name: &str,
    ) -> Self {
        self.configuration = crate::render_json::configuration(config, provider_name);
        self
    }

    /// Attribute paths holding sensitive-variable values for one resource instance.
    pub fn sensitive_for(&self, addr: &ResourceAddress) -> &[AttrPath] {
        self.sensitive_paths
            .get(addr)
            .or_else(|| self.sensitive_paths.get(&addr.resource()))
            .or_else(|| self.sensitive_paths.get(&static_address(addr)))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True when applying would change anything: remote objects, output values, or state
    /// (refresh-only drift). This is what `plan --detailed-exitcode` reports as 2.
    pub fn has_changes(&self) -> bool {
        if self.mode.refresh_only {
            !self.drift.is_empty()
        } else {
            self.plan.has_changes() || self.outputs_change()
        }
    }

    /// True when an output value would be added, changed or removed.
    pub fn outputs_change(&self) -> bool {
        let prior = &self.prior_state.outputs;
        if self.plan.destroy {
            return !prior.is_empty();
        }
        prior.keys().any(|k| !self.plan.outputs.contains_key(k))
            || self.plan.outputs.iter().any(|(k, o)| match prior.get(k) {
                None => true,
                Some(p) => Value::from_json(&p.value) != o.value || p.sensitive != o.sensitive,
            })
    }
}

/// The plan file format written by `plan --out`.
pub const FORMAT: &str = "netform-plan";
pub const FORMAT_VERSION: u64 = 1;

/// Why a saved plan cannot be applied or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanFileError {
    #[error("the file is not a netform plan file: {0}")]
    NotAPlan(String),
    #[error(
        "the plan file has format version {0}, this netform reads version {FORMAT_VERSION}; create the plan again with this netform"
    )]
    Version(u64),
    #[error(
        "Saved plan does not match the given state: the plan was created for state lineage {planned}, the current state has lineage {current}. Create a new plan against this state."
    )]
    LineageMismatch { planned: String, current: String },
    #[error(
        "Saved plan is stale: the state was changed by another operation after the plan was created (plan made at state serial {planned}, state is now at serial {current}). Create a new plan."
    )]
    Stale { planned: u64, current: u64 },
    #[error(
        "Saved plan does not match the configuration: the .tf files changed after the plan was created. Create a new plan."
    )]
    ConfigChanged,
}

/// Hash of the configuration: SHA-256 over each `.tf` / `.tf.json` file's name and text, hex.
/// Variables files are left out: the plan records the variable values themselves.
pub fn config_hash(sources: &[crate::config::SourceFile]) -> String {
    let mut data = Vec::new();
    for s in sources
        .iter()
        .filter(|s| s.name.ends_with(".tf") || s.name.ends_with(".tf.json"))
    {
        data.extend_from_slice(s.name.as_bytes());
        data.push(0);
        data.extend_from_slice(&(s.text.len() as u64).to_be_bytes());
        data.extend_from_slice(s.text.as_bytes());
    }
    sha256_hex(&data)
}

/// Check that `saved` can be applied to `current` state with a configuration hashing to `config_hash`.
pub fn check_applicable(
    saved: &SavedPlan,
    current: &State,
    config_hash: &str,
) -> Result<(), PlanFileError> {
    if saved.config_hash != config_hash {
        return Err(PlanFileError::ConfigChanged);
    }
    let planned = &saved.prior_state;
    // A first-ever plan (no state yet) compares the serial only, as Terraform does.
    let fresh = |s: &State| s.serial == 0 && s.resources.is_empty();
    if !(fresh(planned) && fresh(current)) && planned.lineage != current.lineage {
        return Err(PlanFileError::LineageMismatch {
            planned: planned.lineage.clone(),
            current: current.lineage.clone(),
        });
    }
    if planned.serial != current.serial {
        return Err(PlanFileError::Stale {
            planned: planned.serial,
            current: current.serial,
        });
    }
    Ok(())
}

/// A value and its unknown mask, Terraform's way (`after` + `after_unknown`).
fn encode_value(v: &Value) -> serde_json::Value {
    serde_json::json!({ "value": v.to_json(), "unknown": v.unknown_mask() })
}

fn decode_value(j: &serde_json::Value) -> Value {
    with_unknowns(
        j.get("value").unwrap_or(&serde_json::Value::Null),
        j.get("unknown"),
    )
}

/// Rebuild a `Value` from JSON and a mask with `true` where the value is unknown.
pub fn with_unknowns(json: &serde_json::Value, mask: Option<&serde_json::Value>) -> Value {
    use serde_json::Value as J;
    match (json, mask) {
        (_, Some(J::Bool(true))) => Value::Unknown,
        (J::Array(items), Some(J::Array(masks))) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| with_unknowns(item, masks.get(i)))
                .collect(),
        ),
        (J::Object(map), Some(J::Object(masks))) => Value::Object(
            map.iter()
                .map(|(k, item)| (k.clone(), with_unknowns(item, masks.get(k))))
                .collect(),
        ),
        (other, _) => Value::from_json(other),
    }
}

/// Terraform's `action_reason` vocabulary (the plan keeps them as static strings).
const REASONS: &[&str] = &[
    "replace_because_cannot_update",
    "replace_because_tainted",
    "replace_by_request",
    "replace_by_triggers",
    "delete_because_no_resource_config",
    "delete_because_wrong_repetition",
    "delete_because_count_index",
    "delete_because_each_key",
    "delete_because_no_module",
    "delete_because_no_move_target",
    "read_because_config_unknown",
    "read_because_dependency_pending",
];

fn static_reason(r: &str) -> Option<&'static str> {
    REASONS.iter().find(|x| **x == r).copied()
}

fn action_name(a: crate::plan::Action) -> &'static str {
    use crate::plan::Action;
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate => "delete-then-create",
        Action::CreateThenDelete => "create-then-delete",
        Action::Delete => "delete",
        Action::Forget => "forget",
    }
}

fn parse_action(s: &str) -> Option<crate::plan::Action> {
    use crate::plan::Action;
    Some(match s {
        "no-op" => Action::NoOp,
        "create" => Action::Create,
        "update" => Action::Update,
        "delete-then-create" => Action::DeleteThenCreate,
        "create-then-delete" => Action::CreateThenDelete,
        "delete" => Action::Delete,
        "forget" => Action::Forget,
        _ => return None,
    })
}

impl SavedPlan {
    /// The plan file's text: pretty JSON, deterministic, with a trailing newline.
    /// It holds sensitive values (as Terraform's plan files do): write it readable by the owner only.
    pub fn to_file_json(&self) -> String {
        use serde_json::json;
        let changes: Vec<serde_json::Value> = self
            .plan
            .changes
            .iter()
            .map(|c| {
                json!({
                    "address": c.addr.to_string(),
                    "action": action_name(c.action),
                    "reason": c.reason,
                    "before": c.before,
                    "after": c.after.as_ref().map(encode_value),
                    "replace": c.replace.iter().map(|r| json!({"path": r.path, "reason": r.reason})).collect::<Vec<_>>(),
                    "dependencies": c.dependencies.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "deferred": c.deferred.as_ref().map(|d| json!({"reason": d.reason, "next_step": d.next_step})),
                })
            })
            .collect();
        let outputs: serde_json::Map<String, serde_json::Value> = self
            .plan
            .outputs
            .iter()
            .map(|(k, o)| {
                (
                    k.clone(),
                    json!({"value": encode_value(&o.value), "sensitive": o.sensitive}),
                )
            })
            .collect();
        let variables: serde_json::Map<String, serde_json::Value> = self
            .variables
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!({"value": encode_value(&v.value), "sensitive": v.sensitive}),
                )
            })
            .collect();
        let drift: Vec<serde_json::Value> = self
            .drift
            .iter()
            .map(|d| {
                json!({"address": d.addr.to_string(), "action": action_name(d.action), "before": d.before, "after": d.after})
            })
            .collect();
        let sensitive: serde_json::Map<String, serde_json::Value> = self
            .sensitive_paths
            .iter()
            .map(|(a, p)| (a.to_string(), json!(p)))
            .collect();
        let prior_state =
            serde_json::to_value(&self.prior_state).unwrap_or(serde_json::Value::Null);
        let doc = json!({
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "netform_version": env!("CARGO_PKG_VERSION"),
            "config_hash": self.config_hash,
            "mode": {
                "destroy": self.plan.destroy,
                "refresh_only": self.mode.refresh_only,
                "targets": self.mode.targets,
                "replace": self.mode.replace,
            },
            "prior_lineage": self.plan.prior_lineage,
            "prior_serial": self.plan.prior_serial,
            "variables": variables,
            "changes": changes,
            "outputs": outputs,
            "drift": drift,
            "sensitive_paths": sensitive,
            "configuration": self.configuration,
            "prior_state": prior_state,
        });
        // Indented to the depth of prior state's attribute values, compact below (see
        // `json_text`).
        let mut text = crate::json_text::to_string_layered(&doc, 10);
        text.push('\n');
        text
    }

    /// Read a plan file written by [`SavedPlan::to_file_json`].
    pub fn from_file_json(text: &str) -> Result<SavedPlan, PlanFileError> {
        use crate::plan::{PlannedChange, PlannedOutput};
        use crate::provider::{Deferral, ReplaceCause};
        let bad = |what: &str| PlanFileError::NotAPlan(what.to_string());
        let doc: serde_json::Value =
            crate::json_text::from_str_deep(text).map_err(PlanFileError::NotAPlan)?;
        if doc.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(bad("no \"format\": \"netform-plan\""));
        }
        let version = doc
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad("no format_version"))?;
        if version != FORMAT_VERSION {
            return Err(PlanFileError::Version(version));
        }
        let str_list = |v: Option<&serde_json::Value>| -> Vec<String> {
            v.and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let addr = |v: Option<&serde_json::Value>| -> Result<ResourceAddress, PlanFileError> {
            v.and_then(|a| a.as_str())
                .and_then(ResourceAddress::parse)
                .ok_or_else(|| bad("a change without a valid address"))
        };
        let mut changes = Vec::new();
        for c in doc
            .get("changes")
            .and_then(|c| c.as_array())
            .ok_or_else(|| bad("no changes"))?
        {
            let action = c
                .get("action")
                .and_then(|a| a.as_str())
                .and_then(parse_action)
                .ok_or_else(|| bad("a change without a valid action"))?;
            let replace = c
                .get("replace")
                .and_then(|r| r.as_array())
                .map(|rs| {
                    rs.iter()
                        .map(|r| ReplaceCause {
                            path: str_list(r.get("path")),
                            reason: r
                                .get("reason")
                                .and_then(|s| s.as_str())
                                .unwrap_or_default()
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let deferred = c
                .get("deferred")
                .filter(|d| !d.is_null())
                .map(|d| Deferral {
                    reason: d
                        .get("reason")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    next_step: d
                        .get("next_step")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default()
                        .to_string(),
                });
            changes.push(PlannedChange {
                addr: addr(c.get("address"))?,
                action,
                before: c.get("before").filter(|b| !b.is_null()).cloned(),
                after: c.get("after").filter(|a| !a.is_null()).map(decode_value),
                replace,
                dependencies: str_list(c.get("dependencies"))
                    .iter()
                    .filter_map(|d| ResourceAddress::parse(d))
                    .collect(),
                deferred,
                reason: c
                    .get("reason")
                    .and_then(|r| r.as_str())
                    .and_then(static_reason),
            });
        }
        let outputs = doc
            .get("outputs")
            .and_then(|o| o.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, o)| {
                        (
                            k.clone(),
                            PlannedOutput {
                                value: o.get("value").map(decode_value).unwrap_or_default(),
                                sensitive: o
                                    .get("sensitive")
                                    .and_then(|s| s.as_bool())
                                    .unwrap_or(false),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let variables = doc
            .get("variables")
            .and_then(|o| o.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, o)| {
                        (
                            k.clone(),
                            PlanVariable {
                                value: o.get("value").map(decode_value).unwrap_or_default(),
                                sensitive: o
                                    .get("sensitive")
                                    .and_then(|s| s.as_bool())
                                    .unwrap_or(false),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut drift = Vec::new();
        for d in doc
            .get("drift")
            .and_then(|d| d.as_array())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            drift.push(Drift {
                addr: addr(d.get("address"))?,
                action: d
                    .get("action")
                    .and_then(|a| a.as_str())
                    .and_then(parse_action)
                    .ok_or_else(|| bad("a drift entry without a valid action"))?,
                before: d.get("before").cloned().unwrap_or_default(),
                after: d.get("after").filter(|a| !a.is_null()).cloned(),
            });
        }
        let mut sensitive_paths = BTreeMap::new();
        if let Some(m) = doc.get("sensitive_paths").and_then(|s| s.as_object()) {
            for (a, paths) in m {
                let a = ResourceAddress::parse(a).ok_or_else(|| bad("a bad sensitive path"))?;
                let paths: Vec<AttrPath> = paths
                    .as_array()
                    .map(|ps| ps.iter().map(|p| str_list(Some(p))).collect())
                    .unwrap_or_default();
                sensitive_paths.insert(a, paths);
            }
        }
        let prior_state: State = serde_json::from_value(
            doc.get("prior_state")
                .cloned()
                .ok_or_else(|| bad("no prior_state"))?,
        )
        .map_err(|e| PlanFileError::NotAPlan(format!("prior_state: {e}")))?;
        let mode = doc.get("mode").cloned().unwrap_or_default();
        let plan = Plan {
            changes,
            outputs,
            prior_lineage: doc
                .get("prior_lineage")
                .and_then(|l| l.as_str())
                .map(str::to_string),
            prior_serial: doc
                .get("prior_serial")
                .and_then(|s| s.as_u64())
                .unwrap_or(0),
            destroy: mode
                .get("destroy")
                .and_then(|d| d.as_bool())
                .unwrap_or(false),
            warnings: Vec::new(),
        };
        Ok(SavedPlan {
            plan,
            prior_state,
            drift,
            variables,
            config_hash: doc
                .get("config_hash")
                .and_then(|h| h.as_str())
                .unwrap_or_default()
                .to_string(),
            configuration: doc.get("configuration").cloned().unwrap_or_default(),
            sensitive_paths,
            mode: PlanMode {
                refresh_only: mode
                    .get("refresh_only")
                    .and_then(|d| d.as_bool())
                    .unwrap_or(false),
                targets: str_list(mode.get("targets")),
                replace: str_list(mode.get("replace")),
            },
        })
    }
}

/// SHA-256, hex-encoded (one implementation, in `hashes`, serves the `sha256()` function too).
fn sha256_hex(data: &[u8]) -> String {
    crate::hashes::hex(&crate::hashes::sha256(data))
}

/// The resource block an instance belongs to: no instance keys, in it or its modules.
pub fn static_address(addr: &ResourceAddress) -> ResourceAddress {
    let mut a = addr.resource();
    for m in &mut a.module {
        m.key = None;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, PlannedChange, PlannedOutput};
    use crate::provider::{Deferral, ReplaceCause};

    #[test]
    fn sha256_matches_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(&[b'a'; 1000]),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    fn sample() -> SavedPlan {
        let mut after = BTreeMap::new();
        after.insert("id".to_string(), Value::Unknown);
        after.insert("name".to_string(), Value::from("x"));
        after.insert(
            "list".to_string(),
            Value::List(vec![Value::Unknown, Value::Number(1.5), Value::Null]),
        );
        let mut nested = BTreeMap::new();
        nested.insert("k".to_string(), Value::Unknown);
        after.insert(
            "block".to_string(),
            Value::List(vec![Value::Object(nested)]),
        );
        let mut state = State::new("lin".into());
        state.serial = 7;
        let mut plan = Plan {
            changes: vec![PlannedChange {
                addr: ResourceAddress::parse("azurerm_subnet.s[\"a\"]").expect("addr"),
                action: Action::DeleteThenCreate,
                before: Some(serde_json::json!({"name": "old"})),
                after: Some(Value::Object(after)),
                replace: vec![ReplaceCause {
                    path: vec!["name".into()],
                    reason: "why".into(),
                }],
                dependencies: vec![ResourceAddress::new("azurerm_virtual_network", "v")],
                deferred: Some(Deferral {
                    reason: "r".into(),
                    next_step: "n".into(),
                }),
                reason: Some("replace_by_request"),
            }],
            outputs: BTreeMap::new(),
            prior_lineage: Some("lin".into()),
            prior_serial: 7,
            destroy: false,
            warnings: Vec::new(),
        };
        plan.outputs.insert(
            "o".into(),
            PlannedOutput {
                value: Value::Unknown,
                sensitive: true,
            },
        );
        let mut saved = SavedPlan::bare(plan);
        saved.prior_state = state;
        saved.config_hash = "h".into();
        saved.variables.insert(
            "secret".into(),
            PlanVariable {
                value: "s".into(),
                sensitive: true,
            },
        );
        saved.mode.targets.push("azurerm_subnet.s".into());
        saved
    }

    #[test]
    fn round_trips_unknowns_reasons_and_context() {
        let saved = sample();
        let text = saved.to_file_json();
        let back = SavedPlan::from_file_json(&text).expect("parse");
        assert_eq!(back.plan.changes[0].after, saved.plan.changes[0].after);
        assert_eq!(back.plan.changes[0].reason, Some("replace_by_request"));
        assert_eq!(back.plan.changes[0].replace, saved.plan.changes[0].replace);
        assert_eq!(
            back.plan.changes[0].deferred,
            saved.plan.changes[0].deferred
        );
        assert_eq!(back.plan.outputs["o"].value, Value::Unknown);
        assert_eq!(back.variables, saved.variables);
        assert_eq!(back.mode, saved.mode);
        assert_eq!(back.prior_state, saved.prior_state);
        assert_eq!(back.to_file_json(), text, "deterministic");
    }

    #[test]
    fn stale_or_foreign_state_and_changed_config_are_refused() {
        let saved = sample();
        let mut current = saved.prior_state.clone();
        assert_eq!(check_applicable(&saved, &current, "h"), Ok(()));
        assert_eq!(
            check_applicable(&saved, &current, "other"),
            Err(PlanFileError::ConfigChanged)
        );
        current.serial = 8;
        let err = check_applicable(&saved, &current, "h").expect_err("stale");
        assert!(err.to_string().starts_with("Saved plan is stale"), "{err}");
        current.serial = 7;
        current.lineage = "other".into();
        assert!(matches!(
            check_applicable(&saved, &current, "h"),
            Err(PlanFileError::LineageMismatch { .. })
        ));
        assert!(SavedPlan::from_file_json("{}").is_err());
        assert!(SavedPlan::from_file_json("not json").is_err());
    }
}
