//! The dependency graph: resources, locals and outputs, with edges from references and
//! `depends_on`. Edges point from a dependency to its dependent, so a topological order
//! lists dependencies first.

use std::collections::{BTreeSet, HashMap};

use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::addr::ResourceAddress;
use crate::config::Config;
use crate::diag::{Diagnostic, Span, did_you_mean};
use crate::refs::{self, RefTarget, Reference};

/// Module names from the root (empty for the root module).
pub type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Resource(ResourceAddress),
    Local(ModPath, String),
    Output(ModPath, String),
    /// A module call: its inputs, `count` and `for_each`.
    Module(ModPath),
}

fn prefix(path: &[String]) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{}.", crate::config::module_key(path))
    }
}

impl std::fmt::Display for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeKind::Resource(a) => write!(f, "{a}"),
            NodeKind::Local(p, n) => write!(f, "{}local.{n}", prefix(p)),
            NodeKind::Output(p, n) => write!(f, "{}output.{n}", prefix(p)),
            NodeKind::Module(p) => write!(f, "{}", crate::config::module_key(p)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct DependencyGraph {
    pub graph: DiGraph<Node, ()>,
    pub index: HashMap<NodeKind, NodeIndex>,
    /// Edges already added: `contains_edge` scans a node's edges, and a resource group has an
    /// edge to nearly every resource, so checking through it made building quadratic.
    pub edges: std::collections::HashSet<(NodeIndex, NodeIndex)>,
    /// Topological order (dependencies first); empty when the graph has a cycle.
    pub order: Vec<NodeIndex>,
}

impl DependencyGraph {
    /// Resources in dependency order.
    pub fn resources_in_order(&self) -> impl Iterator<Item = &ResourceAddress> + '_ {
        self.order
            .iter()
            .filter_map(|i| match &self.graph[*i].kind {
                NodeKind::Resource(a) => Some(a),
                _ => None,
            })
    }

    /// The resources `addr` depends on directly, looking through locals.
    pub fn resource_dependencies(&self, addr: &ResourceAddress) -> BTreeSet<ResourceAddress> {
        let mut out = BTreeSet::new();
        let Some(&start) = self.index.get(&NodeKind::Resource(addr.clone())) else {
            return out;
        };
        let mut stack: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(start, Direction::Incoming)
            .collect();
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match &self.graph[n].kind {
                NodeKind::Resource(a) => {
                    out.insert(a.clone());
                }
                _ => stack.extend(self.graph.neighbors_directed(n, Direction::Incoming)),
            }
        }
        out
    }

    /// DOT for `netform graph`, stable across runs.
    pub fn to_dot(&self) -> String {
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| {
                (
                    self.graph[b].kind.to_string(),
                    self.graph[a].kind.to_string(),
                )
            })
            .collect();
        edges.sort();
        let mut nodes: Vec<String> = self
            .graph
            .node_weights()
            .map(|n| n.kind.to_string())
            .collect();
        nodes.sort();
        let mut out = String::from(
            "digraph {\n  compound = \"true\"\n  newrank = \"true\"\n  rankdir = \"RL\"\n",
        );
        for n in nodes {
            out.push_str(&format!("  \"{n}\" [label=\"{n}\", shape=\"box\"]\n"));
        }
        for (a, b) in edges {
            out.push_str(&format!("  \"{a}\" -> \"{b}\"\n"));
        }
        out.push_str("}\n");
        out
    }
}

/// Build the graph and report undeclared references and cycles.
pub fn build(config: &Config) -> (DependencyGraph, Vec<Diagnostic>) {
    let mut g = DependencyGraph::default();
    let mut diags = Vec::new();
    let mut paths: Vec<ModPath> = vec![Vec::new()];
    paths.extend(config.modules.values().map(|m| m.path.clone()));
    for r in config.resources.iter().chain(&config.data) {
        add_node(&mut g, NodeKind::Resource(r.addr.clone()), r.span.clone());
    }
    for path in &paths {
        let (_, locals, outputs) = config.module_items(path);
        for l in locals.values() {
            add_node(
                &mut g,
                NodeKind::Local(path.clone(), l.name.clone()),
                l.span.clone(),
            );
        }
        for o in outputs.values() {
            add_node(
                &mut g,
                NodeKind::Output(path.clone(), o.name.clone()),
                o.span.clone(),
            );
        }
        if let Some(m) = config.module(path) {
            add_node(&mut g, NodeKind::Module(path.clone()), m.call.span.clone());
        }
    }

    let edge = |g: &mut DependencyGraph, from: &NodeKind, to: &NodeKind| {
        if let (Some(&a), Some(&b)) = (g.index.get(from), g.index.get(to))
            && a != b
            && g.edges.insert((a, b))
        {
            g.graph.add_edge(a, b, ());
        }
    };

    let wire = |g: &mut DependencyGraph,
                from: &NodeKind,
                path: &ModPath,
                references: Vec<Reference>,
                diags: &mut Vec<Diagnostic>| {
        let (variables, _, _) = config.module_items(path);
        for r in references {
            let deps: Vec<NodeKind> = match &r.target {
                RefTarget::Var(name) => {
                    if !variables.contains_key(name) {
                        let mut d = Diagnostic::error(format!(
                            "Reference to undeclared input variable \"{name}\""
                        ))
                        .label(r.span.clone(), "not declared")
                        .code("netform::undeclared");
                        d = match did_you_mean(name, variables.keys().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `var.{s}`?")),
                            None => d.help(format!("declare it with `variable \"{name}\" {{}}`")),
                        };
                        diags.push(d);
                        continue;
                    }
                    if path.is_empty() {
                        continue;
                    }
                    vec![NodeKind::Module(path.clone())]
                }
                RefTarget::Local(name) => vec![NodeKind::Local(path.clone(), name.clone())],
                RefTarget::Resource(addr) => {
                    vec![NodeKind::Resource(addr.clone().in_module(steps(path)))]
                }
                RefTarget::Module(name, output) => {
                    let mut child = path.clone();
                    child.push(name.clone());
                    let Some(m) = config.module(&child) else {
                        let calls: Vec<String> = config
                            .modules
                            .values()
                            .filter(|m| m.path[..m.path.len() - 1] == path[..])
                            .map(|m| m.call.name.clone())
                            .collect();
                        let mut d =
                            Diagnostic::error(format!("Reference to undeclared module \"{name}\""))
                                .label(r.span.clone(), "no such module call")
                                .code("netform::undeclared");
                        if let Some(s) = did_you_mean(name, calls.iter().map(String::as_str)) {
                            d = d.help(format!("did you mean `module.{s}`?"));
                        }
                        diags.push(d);
                        continue;
                    };
                    match output {
                        Some(o) if m.loaded && !m.outputs.contains_key(o) => {
                            let mut d = Diagnostic::error("Unsupported attribute")
                                .detail(format!(
                                    "This object does not have an attribute named \"{o}\": module \"{name}\" declares no such output."
                                ))
                                .label(r.span.clone(), format!("module.{name} has no output \"{o}\""))
                                .code("netform::undeclared");
                            if let Some(s) = did_you_mean(o, m.outputs.keys().map(String::as_str)) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            diags.push(d);
                            continue;
                        }
                        Some(o) => vec![NodeKind::Output(child.clone(), o.clone())],
                        None => m
                            .outputs
                            .keys()
                            .map(|o| NodeKind::Output(child.clone(), o.clone()))
                            .collect(),
                    }
                }
            };
            for dep in deps {
                match g.index.get(&dep) {
                    Some(&from_idx) => {
                        if let Some(&to) = g.index.get(from)
                            && from_idx != to
                        {
                            if g.edges.insert((from_idx, to)) {
                                g.graph.add_edge(from_idx, to, ());
                            }
                        } else if g.index.get(from) == Some(&from_idx)
                            && g.edges.insert((from_idx, from_idx))
                        {
                            // A direct self-reference is a cycle of one.
                            g.graph.add_edge(from_idx, from_idx, ());
                        }
                    }
                    None => diags.push(undeclared(config, &dep, r.span.clone())),
                }
            }
        }
    };

    // A root module call's `providers = { azurerm = azurerm.ALIAS }` names a configured alias.
    for m in config.modules.values().filter(|m| m.path.len() == 1) {
        for (value, span) in m.call.providers.values() {
            if let Some((name, alias)) = value.split_once('.') {
                check_alias(config, name, alias, Some(span.clone()), &mut diags);
            }
        }
    }
    for r in config.resources.iter().chain(&config.data) {
        let path: ModPath = r.addr.module.iter().map(|m| m.name.clone()).collect();
        let mut found = Vec::new();
        for attr in r.body.attributes() {
            if attr.key.as_str() == "provider" {
                check_provider_ref(config, &attr.value, r.file, &mut diags);
            } else if attr.key.as_str() == "depends_on" {
                depends_on(&attr.value, r.file, &mut found, &mut diags);
            } else {
                refs::in_expr(&attr.value, r.file, &mut found);
            }
        }
        for block in r.body.blocks() {
            if block.ident.as_str() != "lifecycle" {
                refs::in_block(block, r.file, &mut found);
            }
        }
        for e in &r.lifecycle.replace_triggered_by {
            let before = found.len();
            refs::in_expr(e, r.file, &mut found);
            if found[before..]
                .iter()
                .all(|f| !matches!(f.target, RefTarget::Resource(_)))
            {
                diags.push(
                    Diagnostic::error("Invalid `replace_triggered_by` entry").label(
                        crate::config::span_of(r.file, e),
                        "expected a resource reference such as azurerm_subnet.gw",
                    ),
                );
            }
        }
        // What preconditions and postconditions read orders the graph as Terraform does:
        // they are checked against final values, never against what is not planned yet.
        for rule in r
            .lifecycle
            .preconditions
            .iter()
            .chain(&r.lifecycle.postconditions)
        {
            refs::in_expr(&rule.condition, rule.file, &mut found);
            if let Some(m) = &rule.error_message {
                refs::in_expr(m, rule.file, &mut found);
            }
        }
        let node = NodeKind::Resource(r.addr.clone());
        wire(&mut g, &node, &path, found, &mut diags);
        if !path.is_empty() {
            edge(&mut g, &NodeKind::Module(path.clone()), &node);
        }
    }
    for path in &paths {
        let (_, locals, outputs) = config.module_items(path);
        for l in locals.values() {
            let mut found = Vec::new();
            refs::in_expr(&l.expr, l.file, &mut found);
            wire(
                &mut g,
                &NodeKind::Local(path.clone(), l.name.clone()),
                path,
                found,
                &mut diags,
            );
        }
        for o in outputs.values() {
            let mut found = Vec::new();
            refs::in_expr(&o.expr, o.file, &mut found);
            let node = NodeKind::Output(path.clone(), o.name.clone());
            wire(&mut g, &node, path, found, &mut diags);
            if !path.is_empty() {
                edge(&mut g, &NodeKind::Module(path.clone()), &node);
            }
        }
    }
    for m in config.modules.values() {
        let parent: ModPath = m.path[..m.path.len() - 1].to_vec();
        let node = NodeKind::Module(m.path.clone());
        let mut found = Vec::new();
        for (expr, _) in m.call.inputs.values() {
            refs::in_expr(expr, m.call.file, &mut found);
        }
        for e in [&m.call.count, &m.call.for_each].into_iter().flatten() {
            refs::in_expr(e, m.call.file, &mut found);
        }
        if let Some(d) = &m.call.depends_on {
            depends_on(d, m.call.file, &mut found, &mut diags);
        }
        wire(&mut g, &node, &parent, found, &mut diags);
        if !parent.is_empty() {
            edge(&mut g, &NodeKind::Module(parent.clone()), &node);
        }
        check_module_inputs(config, m, &mut diags);
    }

    // An output that shows a sensitive value must say so.
    diags.extend(crate::sensitivity::Sensitivity::analyze(config).output_errors(config));
    // `removed` blocks name what is gone from the configuration.
    diags.extend(crate::removed::validate(config));

    match toposort(&g.graph, None) {
        Ok(order) => g.order = order,
        Err(_) => diags.extend(cycle_diagnostics(&g, config)),
    }
    (g, diags)
}

/// `provider = azurerm` or `provider = azurerm.ALIAS` naming a configured alias.
fn check_provider_ref(
    config: &Config,
    expr: &hcl_edit::expr::Expression,
    file: usize,
    diags: &mut Vec<Diagnostic>,
) {
    let span = crate::config::span_of(file, expr);
    let Some(reference) = crate::config::provider_reference(expr) else {
        diags.push(
            Diagnostic::error("Invalid `provider` reference")
                .label(span, "expected azurerm or azurerm.ALIAS")
                .code("netform::provider"),
        );
        return;
    };
    let (name, alias) = match reference.split_once('.') {
        Some((n, a)) => (n.to_string(), Some(a.to_string())),
        None => (reference, None),
    };
    let Some(alias) = alias else { return };
    check_alias(config, &name, &alias, span, diags);
}

/// `NAME.ALIAS` names a `provider "NAME" { alias = "ALIAS" }` block of the root module.
fn check_alias(
    config: &Config,
    name: &str,
    alias: &str,
    span: Option<crate::diag::Span>,
    diags: &mut Vec<Diagnostic>,
) {
    let aliases: Vec<&str> = config
        .providers
        .iter()
        .filter(|p| p.name == name)
        .filter_map(|p| p.alias.as_deref())
        .collect();
    if !aliases.contains(&alias) {
        let mut d = Diagnostic::error(format!(
            "Provider configuration not present: {name}.{alias}"
        ))
        .detail(format!(
            "No `provider \"{name}\"` block has `alias = \"{alias}\"`."
        ))
        .label(span, "no such provider configuration")
        .code("netform::provider");
        d = match did_you_mean(alias, aliases.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{name}.{s}`?")),
            None => d.help(format!(
                "add provider \"{name}\" {{ alias = \"{alias}\" ... }}"
            )),
        };
        diags.push(d);
    }
}

fn steps(path: &[String]) -> Vec<crate::addr::ModuleStep> {
    path.iter()
        .map(|n| crate::addr::ModuleStep {
            name: n.clone(),
            key: None,
        })
        .collect()
}

/// A module call sets only variables its module declares, and every required one.
fn check_module_inputs(
    config: &Config,
    m: &crate::config::ModuleConfig,
    diags: &mut Vec<Diagnostic>,
) {
    if !m.loaded {
        return;
    }
    for (name, (_, span)) in &m.call.inputs {
        if !m.variables.contains_key(name) {
            let mut d = Diagnostic::error(format!("Unsupported argument \"{name}\""))
                .detail(format!(
                    "Module \"{}\" ({}) declares no variable named \"{name}\".",
                    m.call.name, m.dir
                ))
                .label(Some(span.clone()), "not a variable of this module")
                .code("netform::unsupported_argument");
            if let Some(s) = did_you_mean(name, m.variables.keys().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
    for (name, v) in &m.variables {
        if v.default.is_none() && !m.call.inputs.contains_key(name) {
            diags.push(
                Diagnostic::error(format!("Missing required argument \"{name}\""))
                    .detail(format!(
                        "Module \"{}\" needs a value for its variable \"{name}\", which has no default.",
                        m.call.name
                    ))
                    .label(Some(m.call.span.clone()), format!("set `{name} = ...` here"))
                    .label(Some(v.span.clone()), "declared here")
                    .code("netform::module_input"),
            );
        }
    }
    let _ = config;
}

fn add_node(g: &mut DependencyGraph, kind: NodeKind, span: Span) {
    let idx = g.graph.add_node(Node {
        kind: kind.clone(),
        span,
    });
    g.index.insert(kind, idx);
}

fn undeclared(config: &Config, dep: &NodeKind, span: Option<Span>) -> Diagnostic {
    match dep {
        NodeKind::Resource(addr) => {
            let mut d = Diagnostic::error(format!("Reference to undeclared resource \"{addr}\""))
                .label(span, "no such resource in this configuration")
                .code("netform::undeclared");
            let names: Vec<String> = config
                .resources
                .iter()
                .map(|r| r.addr.to_string())
                .collect();
            d = match did_you_mean(&addr.to_string(), names.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "declare it with `resource \"{}\" \"{}\" {{ ... }}`",
                    addr.type_name, addr.name
                )),
            };
            d
        }
        NodeKind::Local(_, name) => {
            Diagnostic::error(format!("Reference to undeclared local value \"{name}\""))
                .label(span, "no such local value")
                .code("netform::undeclared")
        }
        NodeKind::Output(_, name) => Diagnostic::error(format!("Reference to output \"{name}\""))
            .label(span, "outputs cannot be referenced"),
        NodeKind::Module(p) => Diagnostic::error(format!(
            "Reference to undeclared module \"{}\"",
            crate::config::module_key(p)
        ))
        .label(span, "no such module call")
        .code("netform::undeclared"),
    }
}

fn depends_on(
    expr: &hcl_edit::expr::Expression,
    file: usize,
    found: &mut Vec<Reference>,
    diags: &mut Vec<Diagnostic>,
) {
    let hcl_edit::expr::Expression::Array(items) = expr else {
        diags.push(
            Diagnostic::error("`depends_on` must be a list of resource references").label(
                crate::config::span_of(file, expr),
                "expected [resource_type.name, ...]",
            ),
        );
        return;
    };
    for item in items.iter() {
        let before = found.len();
        refs::in_expr(item, file, found);
        if found.len() == before {
            diags.push(Diagnostic::error("Invalid `depends_on` entry").label(
                crate::config::span_of(file, item),
                "expected a reference such as azurerm_subnet.gateway",
            ));
        }
    }
}

/// One diagnostic per cycle, naming every member with its source location.
fn cycle_diagnostics(g: &DependencyGraph, config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for component in tarjan_scc(&g.graph) {
        let is_cycle =
            component.len() > 1 || component.iter().any(|&n| g.graph.contains_edge(n, n));
        if !is_cycle {
            continue;
        }
        let mut members: Vec<&super::graph::Node> =
            component.iter().map(|&n| &g.graph[n]).collect();
        members.sort_by(|a, b| a.kind.cmp(&b.kind));
        let names: Vec<String> = members.iter().map(|m| m.kind.to_string()).collect();
        let places: Vec<String> = members
            .iter()
            .map(|m| format!("  {} at {}", m.kind, config.location(&m.span)))
            .collect();
        let mut d = Diagnostic::error(format!("Cycle: {}", names.join(" → ")))
            .detail(format!(
                "These {} items depend on each other, so none can be planned first:\n{}",
                members.len(),
                places.join("\n")
            ))
            .help("remove one of the references or `depends_on` entries that close the loop")
            .code("netform::cycle");
        for m in members {
            d = d.label(
                Some(m.span.clone()),
                format!("{} is part of the cycle", m.kind),
            );
        }
        out.push(d);
    }
    out
}
