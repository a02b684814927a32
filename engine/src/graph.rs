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

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Resource(ResourceAddress),
    Local(String),
    Output(String),
}

impl std::fmt::Display for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeKind::Resource(a) => write!(f, "{a}"),
            NodeKind::Local(n) => write!(f, "local.{n}"),
            NodeKind::Output(n) => write!(f, "output.{n}"),
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
    for r in &config.resources {
        add_node(&mut g, NodeKind::Resource(r.addr.clone()), r.span.clone());
    }
    for l in config.locals.values() {
        add_node(&mut g, NodeKind::Local(l.name.clone()), l.span.clone());
    }
    for o in config.outputs.values() {
        add_node(&mut g, NodeKind::Output(o.name.clone()), o.span.clone());
    }

    let wire = |g: &mut DependencyGraph,
                from: &NodeKind,
                references: Vec<Reference>,
                diags: &mut Vec<Diagnostic>| {
        let Some(&to) = g.index.get(from) else { return };
        for r in references {
            let dep = match &r.target {
                RefTarget::Var(name) => {
                    if !config.variables.contains_key(name) {
                        let mut d = Diagnostic::error(format!(
                            "Reference to undeclared input variable \"{name}\""
                        ))
                        .label(r.span.clone(), "not declared")
                        .code("netform::undeclared");
                        d = match did_you_mean(name, config.variables.keys().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `var.{s}`?")),
                            None => d.help(format!("declare it with `variable \"{name}\" {{}}`")),
                        };
                        diags.push(d);
                    }
                    continue;
                }
                RefTarget::Local(name) => NodeKind::Local(name.clone()),
                RefTarget::Resource(addr) => NodeKind::Resource(addr.clone()),
            };
            match g.index.get(&dep) {
                Some(&from_idx) => {
                    if !g.graph.contains_edge(from_idx, to) {
                        g.graph.add_edge(from_idx, to, ());
                    }
                }
                None => diags.push(undeclared(config, &dep, r.span.clone())),
            }
        }
    };

    for r in &config.resources {
        let mut found = Vec::new();
        for attr in r.body.attributes() {
            if attr.key.as_str() == "depends_on" {
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
        wire(
            &mut g,
            &NodeKind::Resource(r.addr.clone()),
            found,
            &mut diags,
        );
    }
    for l in config.locals.values() {
        let mut found = Vec::new();
        refs::in_expr(&l.expr, l.file, &mut found);
        wire(&mut g, &NodeKind::Local(l.name.clone()), found, &mut diags);
    }
    for o in config.outputs.values() {
        let mut found = Vec::new();
        refs::in_expr(&o.expr, o.file, &mut found);
        wire(&mut g, &NodeKind::Output(o.name.clone()), found, &mut diags);
    }

    // An output that shows a sensitive variable's value must say so.
    for o in config.outputs.values() {
        if !o.sensitive && refers_to_sensitive(config, &o.expr, o.file, 0) {
            diags.push(
                Diagnostic::error("Output refers to sensitive values")
                    .detail(format!(
                        "Output \"{}\" uses a variable declared `sensitive = true`; netform never prints such values.",
                        o.name
                    ))
                    .label(Some(o.span.clone()), "this output shows a sensitive value")
                    .help("add `sensitive = true` to the output block if you intend to expose it to callers")
                    .code("netform::sensitive_output"),
            );
        }
    }

    match toposort(&g.graph, None) {
        Ok(order) => g.order = order,
        Err(_) => diags.extend(cycle_diagnostics(&g, config)),
    }
    (g, diags)
}

/// Whether `expr` uses a sensitive variable, directly or through locals.
pub fn refers_to_sensitive(
    config: &Config,
    expr: &hcl_edit::expr::Expression,
    file: usize,
    depth: usize,
) -> bool {
    if depth > 64 {
        return false;
    }
    let mut found = Vec::new();
    refs::in_expr(expr, file, &mut found);
    found.iter().any(|r| match &r.target {
        RefTarget::Var(v) => config.variables.get(v).is_some_and(|v| v.sensitive),
        RefTarget::Local(l) => config
            .locals
            .get(l)
            .is_some_and(|l| refers_to_sensitive(config, &l.expr, l.file, depth + 1)),
        _ => false,
    })
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
        NodeKind::Local(name) => {
            Diagnostic::error(format!("Reference to undeclared local value \"{name}\""))
                .label(span, "no such local value")
                .code("netform::undeclared")
        }
        NodeKind::Output(name) => Diagnostic::error(format!("Reference to output \"{name}\""))
            .label(span, "outputs cannot be referenced"),
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
