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

    /// True when applying would change anything: remote objects, or state (refresh-only drift).
    pub fn has_changes(&self) -> bool {
        if self.mode.refresh_only {
            !self.drift.is_empty()
        } else {
            self.plan.has_changes()
        }
    }
}
