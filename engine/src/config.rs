//! Loading `.tf` files into a typed configuration, keeping byte spans for every item.
//!
//! The CLI reads the files and passes their contents in; nothing here touches the disk.

use std::collections::BTreeMap;

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};

use crate::addr::ResourceAddress;
use crate::diag::{Diagnostic, Span, did_you_mean};

/// One source file as read by the CLI.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (relative path).
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct ResourceConfig {
    pub addr: ResourceAddress,
    pub file: usize,
    /// The block header (`resource "type" "name"`), where diagnostics about the whole resource point.
    pub span: Span,
    pub body: Body,
    /// `count = N`: instances `addr[0]`, `addr[1]`, ...
    pub count: Option<Expression>,
    /// `for_each = map or set`: instances `addr["key"]`.
    pub for_each: Option<Expression>,
    pub lifecycle: Lifecycle,
    /// `provider = azurerm.ALIAS` as written (`"azurerm.ALIAS"`); `None` for the default.
    pub provider_ref: Option<String>,
}

/// A resource's `lifecycle` block.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub span: Option<Span>,
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    /// `ignore_changes = all`.
    pub ignore_all: bool,
    /// Top-level attribute names of `ignore_changes = [a, b]`.
    pub ignore_changes: Vec<String>,
    pub preconditions: Vec<CheckRule>,
    pub postconditions: Vec<CheckRule>,
    /// `replace_triggered_by = [...]`: the expressions (references to resources).
    pub replace_triggered_by: Vec<Expression>,
}

fn lifecycle(file: usize, body: &Body, diags: &mut Vec<Diagnostic>) -> Lifecycle {
    let mut out = Lifecycle::default();
    let Some(block) = body.blocks().find(|b| b.ident.as_str() == "lifecycle") else {
        return out;
    };
    out.span = span_of(file, &block.ident);
    check_names(
        file,
        &block.body,
        &[
            "prevent_destroy",
            "create_before_destroy",
            "ignore_changes",
            "replace_triggered_by",
        ],
        &["precondition", "postcondition"],
        "lifecycle",
        diags,
    );
    let flag = |k: &str, diags: &mut Vec<Diagnostic>| -> bool {
        match block.body.get_attribute(k).map(|a| &a.value) {
            None => false,
            Some(Expression::Bool(b)) => *b.value(),
            Some(other) => {
                diags.push(
                    Diagnostic::error(format!("`{k}` must be a literal true or false"))
                        .label(span_of(file, other), "expressions are not allowed here"),
                );
                false
            }
        }
    };
    out.prevent_destroy = flag("prevent_destroy", diags);
    out.create_before_destroy = flag("create_before_destroy", diags);
    match block.body.get_attribute("ignore_changes").map(|a| &a.value) {
        None => {}
        Some(Expression::Variable(v)) if v.as_str() == "all" => out.ignore_all = true,
        Some(Expression::Array(items)) => {
            for item in items.iter() {
                let name = match item {
                    Expression::Variable(v) => Some(v.as_str().to_string()),
                    Expression::Traversal(t) => match &t.expr {
                        Expression::Variable(v) => Some(v.as_str().to_string()),
                        _ => None,
                    },
                    Expression::String(s) => Some(s.value().to_string()),
                    _ => None,
                };
                match name {
                    Some(n) => out.ignore_changes.push(n),
                    None => diags.push(Diagnostic::error("Invalid `ignore_changes` entry").label(
                        span_of(file, item),
                        "expected an attribute name such as tags",
                    )),
                }
            }
        }
        Some(other) => diags.push(
            Diagnostic::error("`ignore_changes` must be a list of attribute names or `all`")
                .label(span_of(file, other), "write ignore_changes = [tags] or all"),
        ),
    }
    match block
        .body
        .get_attribute("replace_triggered_by")
        .map(|a| &a.value)
    {
        None => {}
        Some(Expression::Array(items)) => {
            out.replace_triggered_by = items.iter().cloned().collect();
        }
        Some(other) => diags.push(
            Diagnostic::error("`replace_triggered_by` must be a list of resource references")
                .label(
                    span_of(file, other),
                    "write replace_triggered_by = [azurerm_x.y]",
                ),
        ),
    }
    out.preconditions = check_rules(file, &block.body, "precondition", diags);
    out.postconditions = check_rules(file, &block.body, "postcondition", diags);
    out
}

impl ResourceConfig {
    /// How the resource repeats: `"list"` with count, `"map"` with for_each, `None` for one.
    pub fn repetition(&self) -> Option<&'static str> {
        if self.count.is_some() {
            Some("list")
        } else if self.for_each.is_some() {
            Some("map")
        } else {
            None
        }
    }
}

#[derive(Debug, Clone)]
pub struct VariableConfig {
    pub name: String,
    pub file: usize,
    pub span: Span,
    pub default: Option<Expression>,
    pub type_expr: Option<Expression>,
    pub description: Option<String>,
    pub sensitive: bool,
    /// `nullable = false` refuses an explicit null (the default applies instead).
    pub nullable: bool,
    pub validations: Vec<CheckRule>,
}

/// A `validation`, `precondition`, `postcondition` or `assert` block.
#[derive(Debug, Clone)]
pub struct CheckRule {
    pub file: usize,
    pub span: Span,
    pub condition: Expression,
    pub error_message: Option<Expression>,
}

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub name: String,
    pub file: usize,
    pub span: Span,
    pub expr: Expression,
}

#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub name: String,
    pub file: usize,
    pub span: Span,
    pub expr: Expression,
    pub sensitive: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProviderBlock {
    pub name: String,
    pub alias: Option<String>,
    pub file: usize,
    pub span: Span,
    pub body: Body,
}

/// Read access to files for `file()`, `fileexists()` and `templatefile()`, implemented by the
/// CLI. Paths are as the configuration writes them (relative to the project directory).
#[derive(Clone)]
pub struct FileAccess(pub std::sync::Arc<dyn crate::functions::FileSource>);

impl Default for FileAccess {
    fn default() -> Self {
        FileAccess(std::sync::Arc::new(crate::functions::NoFiles))
    }
}

impl std::fmt::Debug for FileAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileAccess")
    }
}

/// A `module "NAME" { source = "./dir" ... }` call.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub file: usize,
    pub span: Span,
    pub source: String,
    /// Input variables: name → (expression, span of the argument name).
    pub inputs: BTreeMap<String, (Expression, Span)>,
    pub count: Option<Expression>,
    pub for_each: Option<Expression>,
    pub depends_on: Option<Expression>,
    /// `providers = { azurerm = azurerm.secondary }`: the module's provider name → the
    /// caller's (`"azurerm"` or `"azurerm.ALIAS"` on both sides), with the value's span.
    pub providers: BTreeMap<String, (String, Span)>,
}

/// A child module: its call and its own variables, locals and outputs. Its resources are in
/// [`Config::resources`] with `addr.module` set.
#[derive(Debug, Clone)]
pub struct ModuleConfig {
    /// Module names from the root (`["hub", "spokes"]` for `module.hub.module.spokes`).
    pub path: Vec<String>,
    /// Directory relative to the project (`modules/hub`), what `path.module` returns.
    pub dir: String,
    pub call: ModuleCall,
    /// Whether the CLI has handed over the module's files.
    pub loaded: bool,
    pub variables: BTreeMap<String, VariableConfig>,
    pub locals: BTreeMap<String, LocalConfig>,
    pub outputs: BTreeMap<String, OutputConfig>,
}

/// `module.a.module.b` for a module path (no instance keys).
pub fn module_key(path: &[String]) -> String {
    path.iter()
        .map(|n| format!("module.{n}"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Join a module source (`./modules/hub`, `../shared`) onto its parent's directory.
pub fn join_dir(parent: &str, source: &str) -> String {
    let mut parts: Vec<&str> = if parent == "." || parent.is_empty() {
        Vec::new()
    } else {
        parent.split('/').collect()
    };
    for seg in source.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// A whole configuration: the root module and every child module.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub sources: Vec<SourceFile>,
    /// Files that functions may read (set by the CLI; none by default).
    pub files: FileAccess,
    /// Sorted by address.
    pub resources: Vec<ResourceConfig>,
    pub variables: BTreeMap<String, VariableConfig>,
    pub locals: BTreeMap<String, LocalConfig>,
    pub outputs: BTreeMap<String, OutputConfig>,
    pub providers: Vec<ProviderBlock>,
    /// Child modules by [`module_key`].
    pub modules: BTreeMap<String, ModuleConfig>,
    /// `check` blocks of the root module: assertions reported as warnings.
    pub checks: Vec<CheckBlock>,
    /// `moved { from = ..., to = ... }` blocks, in file order.
    pub moved: Vec<Moved>,
    /// `import { to = ADDR, id = "…" }` blocks: existing objects to adopt at plan time.
    pub imports: Vec<ImportBlock>,
    /// `removed { from = ... }` blocks of every module (addresses from the root).
    pub removed: Vec<crate::removed::Removed>,
    /// `data "TYPE" "NAME"` blocks of every module (addresses in data mode; module steps
    /// without instance keys).
    pub data: Vec<ResourceConfig>,
    /// Values read for data sources before planning (through the provider), per data source
    /// instance: the address carries the module instance's keys.
    pub data_values: std::sync::Arc<std::sync::RwLock<BTreeMap<ResourceAddress, crate::Value>>>,
}

/// A `moved` block: the object at `from` in state is now at `to`.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: ResourceAddress,
    pub to: ResourceAddress,
    pub span: Span,
}

/// `check "NAME" { assert { condition = ..., error_message = ... } }`.
#[derive(Debug, Clone)]
pub struct CheckBlock {
    pub name: String,
    pub span: Span,
    pub asserts: Vec<CheckRule>,
}

impl Config {
    /// The resource block of `addr` (instance keys, of the resource and of its modules, are
    /// ignored).
    pub fn resource(&self, addr: &ResourceAddress) -> Option<&ResourceConfig> {
        let mut want = addr.resource();
        for m in &mut want.module {
            m.key = None;
        }
        self.resources
            .binary_search_by(|r| r.addr.cmp(&want))
            .ok()
            .map(|i| &self.resources[i])
    }

    /// `file:line:column` (1-based) of a span, for messages that name several places.
    pub fn location(&self, span: &Span) -> String {
        let Some(src) = self.sources.get(span.file) else {
            return "?".into();
        };
        let upto = &src.text[..span.range.start.min(src.text.len())];
        let line = upto.matches('\n').count() + 1;
        let col = upto
            .rfind('\n')
            .map(|i| upto.len() - i)
            .unwrap_or(upto.len() + 1);
        format!("{}:{line}:{col}", src.name)
    }

    /// Modules whose files the CLI still has to read: (module key, directory).
    pub fn pending_modules(&self) -> Vec<(String, String)> {
        self.modules
            .iter()
            .filter(|(_, m)| !m.loaded)
            .map(|(k, m)| (k.clone(), m.dir.clone()))
            .collect()
    }

    /// The child module at `path` (names from the root); `None` for the root.
    pub fn module(&self, path: &[String]) -> Option<&ModuleConfig> {
        if path.is_empty() {
            return None;
        }
        self.modules.get(&module_key(path))
    }

    /// Variables, locals and outputs of the module at `path` (the root's for an empty path).
    #[allow(clippy::type_complexity)]
    pub fn module_items(
        &self,
        path: &[String],
    ) -> (
        &BTreeMap<String, VariableConfig>,
        &BTreeMap<String, LocalConfig>,
        &BTreeMap<String, OutputConfig>,
    ) {
        match self.module(path) {
            Some(m) => (&m.variables, &m.locals, &m.outputs),
            None => (&self.variables, &self.locals, &self.outputs),
        }
    }

    /// Directory of the module at `path`, as `path.module` shows it.
    pub fn module_dir(&self, path: &[String]) -> &str {
        self.module(path).map(|m| m.dir.as_str()).unwrap_or(".")
    }

    /// The file source functions read through.
    pub fn file_source(&self) -> &dyn crate::functions::FileSource {
        self.files.0.as_ref()
    }

    /// The alias of the provider configuration the resource or data source at `addr` uses:
    /// its `provider = azurerm.ALIAS`, mapped through each enclosing module call's
    /// `providers = {...}`; `None` for the default configuration. Modules inherit the
    /// default configuration, as in Terraform.
    pub fn provider_alias(&self, addr: &ResourceAddress) -> Option<String> {
        let mut want = addr.resource();
        for m in &mut want.module {
            m.key = None;
        }
        let r = match want.mode {
            crate::addr::Mode::Managed => self.resource(&want),
            crate::addr::Mode::Data => self.data.iter().find(|d| d.addr == want),
        }?;
        let mut reference = r.provider_ref.clone().unwrap_or_else(|| {
            // The default configuration of the provider the type belongs to.
            want.type_name
                .split('_')
                .next()
                .unwrap_or_default()
                .to_string()
        });
        let mut path: Vec<String> = want.module.iter().map(|m| m.name.clone()).collect();
        while !path.is_empty() {
            if let Some(m) = self.module(&path)
                && let Some((mapped, _)) = m.call.providers.get(&reference)
            {
                reference = mapped.clone();
            }
            path.pop();
        }
        reference
            .split_once('.')
            .map(|(_, alias)| alias.to_string())
    }

    /// The `provider "NAME"` block without alias, if any.
    pub fn provider(&self, name: &str) -> Option<&ProviderBlock> {
        self.providers
            .iter()
            .find(|p| p.name == name && p.alias.is_none())
    }
}

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "resource",
    "data",
    "variable",
    "locals",
    "output",
    "provider",
    "terraform",
    "module",
    "moved",
    "import",
    "check",
    "removed",
];

/// Parse every file and build the configuration. Problems are collected, not thrown.
pub fn load(sources: Vec<SourceFile>) -> (Config, Vec<Diagnostic>) {
    let mut config = Config {
        sources: Vec::new(),
        ..Config::default()
    };
    let mut diags = load_files(&mut config, &[], 0, &sources);
    config.sources = sources;
    config.resources.sort_by(|a, b| a.addr.cmp(&b.addr));
    drop_duplicate_resources(&mut config.resources, &mut diags);
    for r in &config.resources {
        diags.extend(crate::timeouts::overrides(r).1);
    }
    (config, diags)
}

/// Hand over the files of the module at `key` (from [`Config::pending_modules`]). Its
/// resources join the configuration with module addresses; its own calls become pending.
pub fn add_module(config: &mut Config, key: &str, sources: Vec<SourceFile>) -> Vec<Diagnostic> {
    // Keep the entry while loading: nested calls resolve their directory against it.
    let Some(mut m) = config.modules.get(key).cloned() else {
        return Vec::new();
    };
    if let Some(entry) = config.modules.get_mut(key) {
        entry.loaded = true;
    }
    m.loaded = true;
    let mut diags = Vec::new();
    if sources.is_empty() {
        diags.push(
            Diagnostic::error(format!(
                "Module \"{}\" has no configuration files",
                m.call.name
            ))
            .label(
                Some(m.call.span.clone()),
                format!("no *.tf files in {}", m.dir),
            )
            .code("netform::module"),
        );
    }
    // Load into the config's root maps, then move the items into the module.
    let root = (
        std::mem::take(&mut config.variables),
        std::mem::take(&mut config.locals),
        std::mem::take(&mut config.outputs),
    );
    let first = config.sources.len();
    diags.extend(load_files(config, &m.path, first, &sources));
    m.variables = std::mem::replace(&mut config.variables, root.0);
    m.locals = std::mem::replace(&mut config.locals, root.1);
    m.outputs = std::mem::replace(&mut config.outputs, root.2);
    config.sources.extend(sources);
    config.resources.sort_by(|a, b| a.addr.cmp(&b.addr));
    drop_duplicate_resources(&mut config.resources, &mut diags);
    for r in config.resources.iter().filter(|r| r.file >= first) {
        diags.extend(crate::timeouts::overrides(r).1);
    }
    config.modules.insert(key.to_string(), m);
    diags
}

fn load_files(
    config: &mut Config,
    module: &[String],
    first: usize,
    sources: &[SourceFile],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let file = first + i;
        match hcl_edit::parser::parse_body(&source.text) {
            Ok(body) => load_body(config, module, file, &body, &mut diags),
            Err(err) => {
                let offset = err.location().offset().min(source.text.len());
                let end = (offset + 1).min(source.text.len()).max(offset);
                diags.push(
                    Diagnostic::error("Invalid HCL syntax")
                        .detail(err.message().to_string())
                        .label(
                            Some(Span::new(file, offset..end)),
                            err.message().to_string(),
                        )
                        .code("netform::syntax"),
                );
            }
        }
    }
    diags
}

pub(crate) fn span_of(file: usize, node: &impl hcl_edit::Span) -> Option<Span> {
    node.span().map(|r| Span::new(file, r))
}

fn header_span(file: usize, block: &Block) -> Option<Span> {
    let start = block.ident.span()?.start;
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|r| r.end)
        .or_else(|| block.ident.span().map(|r| r.end))?;
    Some(Span::new(file, start..end))
}

fn load_body(
    config: &mut Config,
    module: &[String],
    file: usize,
    body: &Body,
    diags: &mut Vec<Diagnostic>,
) {
    let steps: Vec<crate::addr::ModuleStep> = module
        .iter()
        .map(|n| crate::addr::ModuleStep {
            name: n.clone(),
            key: None,
        })
        .collect();
    for attr in body.attributes() {
        diags.push(
            Diagnostic::error(format!(
                "Unexpected top-level argument \"{}\"",
                attr.key.as_str()
            ))
            .label(span_of(file, &attr.key), "arguments belong inside a block")
            .help(
                "top-level items are blocks such as `resource`, `variable`, `locals` or `output`",
            ),
        );
    }
    for block in body.blocks() {
        let kind = block.ident.as_str();
        let span = header_span(file, block);
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let expect_labels = |n: usize, diags: &mut Vec<Diagnostic>| -> bool {
            if labels.len() == n {
                return true;
            }
            diags.push(
                Diagnostic::error(format!(
                    "A `{kind}` block takes {n} label(s), found {}",
                    labels.len()
                ))
                .label(span.clone(), "wrong number of labels"),
            );
            false
        };
        match kind {
            "resource" => {
                if !expect_labels(2, diags) {
                    continue;
                }
                let addr = ResourceAddress::new(labels[0], labels[1]).in_module(steps.clone());
                let count = block.body.get_attribute("count").map(|a| a.value.clone());
                let for_each = block
                    .body
                    .get_attribute("for_each")
                    .map(|a| a.value.clone());
                if let (Some(_), Some(fe)) = (&count, block.body.get_attribute("for_each")) {
                    diags.push(
                        Diagnostic::error("Invalid combination of \"count\" and \"for_each\"")
                            .label(span_of(file, &fe.key), "remove `count` or `for_each`")
                            .detail("The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created."),
                    );
                }
                config.resources.push(ResourceConfig {
                    addr,
                    file,
                    span: span.unwrap_or(Span::new(file, 0..0)),
                    body: block.body.clone(),
                    count,
                    for_each,
                    lifecycle: lifecycle(file, &block.body, diags),
                    provider_ref: provider_ref(&block.body),
                });
            }
            "variable" => {
                if !expect_labels(1, diags) {
                    continue;
                }
                let name = labels[0].to_string();
                if config.variables.contains_key(&name) {
                    diags.push(
                        Diagnostic::error(format!("Duplicate variable \"{name}\""))
                            .label(span, "declared again here"),
                    );
                    continue;
                }
                let attr_expr = |k: &str| block.body.get_attribute(k).map(|a| a.value.clone());
                check_names(
                    file,
                    &block.body,
                    &[
                        "type",
                        "default",
                        "description",
                        "sensitive",
                        "nullable",
                        "ephemeral",
                    ],
                    &["validation"],
                    "variable",
                    diags,
                );
                let validations = check_rules(file, &block.body, "validation", diags);
                config.variables.insert(
                    name.clone(),
                    VariableConfig {
                        name,
                        file,
                        span: span.unwrap_or(Span::new(file, 0..0)),
                        default: attr_expr("default"),
                        type_expr: attr_expr("type"),
                        description: literal_string(attr_expr("description").as_ref()),
                        sensitive: literal_bool(attr_expr("sensitive").as_ref()),
                        nullable: !matches!(attr_expr("nullable"), Some(Expression::Bool(b)) if !*b.value()),
                        validations,
                    },
                );
            }
            "locals" => {
                for attr in block.body.attributes() {
                    let name = attr.key.as_str().to_string();
                    let lspan = span_of(file, &attr.key).unwrap_or(Span::new(file, 0..0));
                    if let Some(existing) = config.locals.get(&name) {
                        diags.push(
                            Diagnostic::error(format!("Duplicate local value \"{name}\""))
                                .label(Some(lspan), "defined again here")
                                .label(Some(existing.span.clone()), "first defined here"),
                        );
                        continue;
                    }
                    config.locals.insert(
                        name.clone(),
                        LocalConfig {
                            name,
                            file,
                            span: lspan,
                            expr: attr.value.clone(),
                        },
                    );
                }
            }
            "output" => {
                if !expect_labels(1, diags) {
                    continue;
                }
                let name = labels[0].to_string();
                let Some(value) = block.body.get_attribute("value") else {
                    diags.push(
                        Diagnostic::error(format!("Output \"{name}\" has no `value`"))
                            .label(span, "add `value = ...`"),
                    );
                    continue;
                };
                let attr_expr = |k: &str| block.body.get_attribute(k).map(|a| a.value.clone());
                config.outputs.insert(
                    name.clone(),
                    OutputConfig {
                        name,
                        file,
                        span: span.unwrap_or(Span::new(file, 0..0)),
                        expr: value.value.clone(),
                        sensitive: literal_bool(attr_expr("sensitive").as_ref()),
                        description: literal_string(attr_expr("description").as_ref()),
                    },
                );
            }
            "provider" => {
                if !expect_labels(1, diags) || !module.is_empty() {
                    continue;
                }
                let alias = literal_string(block.body.get_attribute("alias").map(|a| &a.value));
                config.providers.push(ProviderBlock {
                    name: labels[0].to_string(),
                    alias,
                    file,
                    span: span.unwrap_or(Span::new(file, 0..0)),
                    body: block.body.clone(),
                });
            }
            "terraform" => {}
            "module" => {
                if !expect_labels(1, diags) {
                    continue;
                }
                let name = labels[0].to_string();
                let mut path = module.to_vec();
                path.push(name.clone());
                let key = module_key(&path);
                let span = span.unwrap_or(Span::new(file, 0..0));
                if config.modules.contains_key(&key) {
                    diags.push(
                        Diagnostic::error(format!("Duplicate module call \"{name}\""))
                            .label(Some(span), "declared again here"),
                    );
                    continue;
                }
                let Some(source) = block.body.get_attribute("source") else {
                    diags.push(
                        Diagnostic::error(format!("Module \"{name}\" has no `source`"))
                            .label(Some(span), "add `source = \"./modules/NAME\"`"),
                    );
                    continue;
                };
                let Some(src) = literal_string(Some(&source.value)) else {
                    diags.push(
                        Diagnostic::error("A module `source` must be a literal string")
                            .label(span_of(file, &source.value), "write source = \"./path\""),
                    );
                    continue;
                };
                if !(src.starts_with("./") || src.starts_with("../")) {
                    diags.push(
                        Diagnostic::error(format!("Unsupported module source \"{src}\""))
                            .label(span_of(file, &source.value), "netform loads modules from local paths")
                            .help("vendor the module into the project and use `source = \"./modules/NAME\"`")
                            .code("netform::module_source"),
                    );
                    continue;
                }
                if path.len() > 16 {
                    diags.push(
                        Diagnostic::error("Modules nest too deeply (a module calling itself?)")
                            .label(Some(span), "nested more than 16 levels"),
                    );
                    continue;
                }
                let parent_dir = config.module_dir(module).to_string();
                let mut inputs = BTreeMap::new();
                for attr in block.body.attributes() {
                    let k = attr.key.as_str();
                    if matches!(
                        k,
                        "source" | "version" | "count" | "for_each" | "depends_on" | "providers"
                    ) {
                        continue;
                    }
                    inputs.insert(
                        k.to_string(),
                        (
                            attr.value.clone(),
                            span_of(file, &attr.key).unwrap_or(span.clone()),
                        ),
                    );
                }
                let attr_expr = |k: &str| block.body.get_attribute(k).map(|a| a.value.clone());
                config.modules.insert(
                    key,
                    ModuleConfig {
                        dir: join_dir(&parent_dir, &src),
                        path,
                        call: ModuleCall {
                            name,
                            file,
                            span,
                            source: src,
                            inputs,
                            count: attr_expr("count"),
                            for_each: attr_expr("for_each"),
                            depends_on: attr_expr("depends_on"),
                            providers: attr_expr("providers")
                                .map(|e| provider_map(file, &e, diags))
                                .unwrap_or_default(),
                        },
                        loaded: false,
                        variables: BTreeMap::new(),
                        locals: BTreeMap::new(),
                        outputs: BTreeMap::new(),
                    },
                );
            }
            "check" => {
                if !expect_labels(1, diags) || !module.is_empty() {
                    continue;
                }
                check_names(file, &block.body, &[], &["assert"], "check", diags);
                let asserts = check_rules(file, &block.body, "assert", diags);
                config.checks.push(CheckBlock {
                    name: labels[0].to_string(),
                    span: span.unwrap_or(Span::new(file, 0..0)),
                    asserts,
                });
            }
            "moved" => {
                check_names(file, &block.body, &["from", "to"], &[], "moved", diags);
                let span = span.unwrap_or(Span::new(file, 0..0));
                let addr_of = |k: &str, diags: &mut Vec<Diagnostic>| -> Option<ResourceAddress> {
                    let Some(attr) = block.body.get_attribute(k) else {
                        diags.push(
                            Diagnostic::error(format!("A `moved` block needs `{k}`"))
                                .label(Some(span.clone()), format!("add `{k} = TYPE.NAME`")),
                        );
                        return None;
                    };
                    let text = attr.value.to_string();
                    let parsed = ResourceAddress::parse(text.trim()).map(|a| {
                        let mut full = steps.clone();
                        full.extend(a.module.clone());
                        a.in_module(full)
                    });
                    if parsed.is_none() {
                        diags.push(
                            Diagnostic::error("Invalid address in `moved`")
                                .label(span_of(file, &attr.value), "expected a resource address such as azurerm_subnet.old or azurerm_subnet.s[\"a\"]"),
                        );
                    }
                    parsed
                };
                let from = addr_of("from", diags);
                let to = addr_of("to", diags);
                if let (Some(from), Some(to)) = (from, to) {
                    if from.type_name != to.type_name {
                        diags.push(
                            Diagnostic::error("A `moved` block cannot change the resource type")
                                .label(Some(span), format!("{from} → {to}")),
                        );
                    } else {
                        config.moved.push(Moved { from, to, span });
                    }
                }
            }
            "data" => {
                if !expect_labels(2, diags) {
                    continue;
                }
                let addr = ResourceAddress::new(labels[0], labels[1]).data().in_module(
                    module
                        .iter()
                        .map(|name| crate::addr::ModuleStep {
                            name: name.clone(),
                            key: None,
                        })
                        .collect(),
                );
                if config.data.iter().any(|d| d.addr == addr) {
                    diags.push(
                        Diagnostic::error(format!("Duplicate data source \"{addr}\""))
                            .label(span, "declared again here"),
                    );
                    continue;
                }
                config.data.push(ResourceConfig {
                    addr,
                    file,
                    span: span.unwrap_or(Span::new(file, 0..0)),
                    body: block.body.clone(),
                    count: None,
                    for_each: None,
                    lifecycle: Lifecycle::default(),
                    provider_ref: provider_ref(&block.body),
                });
            }
            "import" => {
                check_names(file, &block.body, &["to", "id"], &[], "import", diags);
                let span = span.unwrap_or(Span::new(file, 0..0));
                let (Some(to), Some(id)) = (
                    block.body.get_attribute("to"),
                    block.body.get_attribute("id"),
                ) else {
                    diags.push(
                        Diagnostic::error("An `import` block needs `to` and `id`").label(
                            Some(span),
                            "add `to = TYPE.NAME` and `id = \"/subscriptions/…\"`",
                        ),
                    );
                    continue;
                };
                match ResourceAddress::parse(to.value.to_string().trim()) {
                    Some(addr) if steps.is_empty() => config.imports.push(ImportBlock {
                        to: addr,
                        to_span: span_of(file, &to.value).unwrap_or(span.clone()),
                        id: id.value.clone(),
                        file,
                        span,
                    }),
                    Some(_) => diags.push(
                        Diagnostic::error("`import` blocks belong in the root module")
                            .label(Some(span), "move this block to the root module and address the resource as module.NAME.TYPE.NAME"),
                    ),
                    None => diags.push(
                        Diagnostic::error("Invalid address in `import`")
                            .label(span_of(file, &to.value), "expected a resource address such as azurerm_resource_group.hub"),
                    ),
                }
            }
            "removed" => crate::removed::parse(config, &steps, file, block, span, diags),
            other => {
                let mut d = Diagnostic::error(format!("Unsupported block type \"{other}\""))
                    .label(span_of(file, &block.ident), "not a top-level block");
                if let Some(s) = did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
}

/// Report attributes and blocks of a language block that are not among `attrs` / `blocks`.
pub(crate) fn check_names(
    file: usize,
    body: &Body,
    attrs: &[&str],
    blocks: &[&str],
    what: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if !attrs.contains(&key) {
            let mut d = Diagnostic::error(format!("Unsupported argument \"{key}\""))
                .label(
                    span_of(file, &attr.key),
                    format!("not expected in a `{what}` block"),
                )
                .code("netform::unsupported_argument");
            if let Some(s) = did_you_mean(key, attrs.iter().chain(blocks).copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
    for block in body.blocks() {
        let key = block.ident.as_str();
        if !blocks.contains(&key) {
            let mut d = Diagnostic::error(format!("Unsupported block type \"{key}\""))
                .label(
                    span_of(file, &block.ident),
                    format!("not expected in a `{what}` block"),
                )
                .code("netform::unsupported_block");
            if let Some(s) = did_you_mean(key, attrs.iter().chain(blocks).copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
}

/// Every `kind { condition = ..., error_message = ... }` block in `body`.
pub(crate) fn check_rules(
    file: usize,
    body: &Body,
    kind: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<CheckRule> {
    let mut out = Vec::new();
    for block in body.blocks().filter(|b| b.ident.as_str() == kind) {
        let span = span_of(file, &block.ident).unwrap_or(Span::new(file, 0..0));
        check_names(
            file,
            &block.body,
            &["condition", "error_message"],
            &[],
            kind,
            diags,
        );
        let Some(condition) = block.body.get_attribute("condition") else {
            diags.push(
                Diagnostic::error(format!("A `{kind}` block needs a `condition`"))
                    .label(Some(span), "add `condition = ...`"),
            );
            continue;
        };
        out.push(CheckRule {
            file,
            span: span_of(file, &condition.value).unwrap_or(span),
            condition: condition.value.clone(),
            error_message: block
                .body
                .get_attribute("error_message")
                .map(|a| a.value.clone()),
        });
    }
    out
}

fn literal_string(expr: Option<&Expression>) -> Option<String> {
    match expr? {
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

fn literal_bool(expr: Option<&Expression>) -> bool {
    matches!(expr, Some(Expression::Bool(b)) if *b.value())
}

/// After the (stable) sort, a resource declared twice sits next to its first declaration:
/// report and drop the later one. Linear, where looking each new resource up was quadratic.
fn drop_duplicate_resources(resources: &mut Vec<ResourceConfig>, diags: &mut Vec<Diagnostic>) {
    let mut kept: Vec<ResourceConfig> = Vec::with_capacity(resources.len());
    for r in resources.drain(..) {
        if let Some(first) = kept.last().filter(|k| k.addr == r.addr) {
            diags.push(
                Diagnostic::error(format!("Duplicate resource \"{}\"", r.addr))
                    .label(Some(r.span.clone()), "declared again here")
                    .label(Some(first.span.clone()), "first declared here"),
            );
            continue;
        }
        kept.push(r);
    }
    *resources = kept;
}

/// `import { to = ADDR, id = "…" }`: adopt an existing object at ADDR during planning.
#[derive(Debug, Clone)]
pub struct ImportBlock {
    pub to: ResourceAddress,
    pub to_span: Span,
    /// Evaluated in the root module (variables and locals), must be a known string.
    pub id: Expression,
    pub file: usize,
    pub span: Span,
}

/// `azurerm.ALIAS` (or `azurerm`) as a string, for `provider = ...` and module `providers`.
pub(crate) fn provider_reference(expr: &Expression) -> Option<String> {
    use hcl_edit::expr::TraversalOperator;
    match expr {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) => match op.value() {
                TraversalOperator::GetAttr(a) => Some(format!("{}.{}", v.as_str(), a.as_str())),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// A resource's `provider = azurerm.ALIAS`, if it names an alias (checked by the graph).
fn provider_ref(body: &Body) -> Option<String> {
    let r = provider_reference(&body.get_attribute("provider")?.value)?;
    r.contains('.').then_some(r)
}

/// A module call's `providers = { azurerm = azurerm.ALIAS, azurerm.x = azurerm.y }`.
fn provider_map(
    file: usize,
    expr: &Expression,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, (String, Span)> {
    use hcl_edit::expr::ObjectKey;
    let mut out = BTreeMap::new();
    let Expression::Object(obj) = expr else {
        diags.push(
            Diagnostic::error("`providers` must be an object")
                .label(
                    span_of(file, expr),
                    "write providers = { azurerm = azurerm.ALIAS }",
                )
                .code("netform::provider"),
        );
        return out;
    };
    for (key, value) in obj.iter() {
        let k = match key {
            ObjectKey::Ident(i) => Some(i.as_str().to_string()),
            ObjectKey::Expression(e) => provider_reference(e),
        };
        match (k, provider_reference(value.expr())) {
            (Some(k), Some(v)) => {
                let span = span_of(file, value.expr()).unwrap_or(Span::new(file, 0..0));
                out.insert(k, (v, span));
            }
            _ => diags.push(
                Diagnostic::error("Invalid `providers` entry")
                    .label(
                        span_of(file, value.expr()),
                        "expected azurerm = azurerm.ALIAS",
                    )
                    .code("netform::provider"),
            ),
        }
    }
    out
}
