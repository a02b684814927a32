//! Reading a project directory into the engine's inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use netform_engine::Value;
use netform_engine::config::{self, Config, SourceFile};
use netform_engine::decode::{decode_resource, eval_error, variables};
use netform_engine::diag::{Diagnostic, DiagnosticsExt};
use netform_engine::eval::{Scope, eval};
use netform_engine::graph::{self, DependencyGraph};
use netform_engine::plan::provider_diagnostic;
use netform_engine::provider::Provider;

pub struct Project {
    pub config: Config,
    pub graph: DependencyGraph,
    pub vars: BTreeMap<String, Value>,
    /// The evaluated `provider "azurerm"` block (empty object if there is none).
    pub provider_block: Value,
    pub diagnostics: Vec<Diagnostic>,
}

/// Every `.tf` file of `dir`, sorted by name, as the engine's source files.
pub fn read_sources(dir: &Path) -> Result<Vec<SourceFile>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!(
            "no configuration files (*.tf) in {}",
            dir.display()
        ));
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            Ok(SourceFile { name, text })
        })
        .collect()
}

/// `file()`, `fileexists()` and `templatefile()` read here: paths relative to the project
/// directory (absolute paths as given).
pub struct ProjectFiles {
    pub dir: std::path::PathBuf,
}

impl netform_engine::functions::FileSource for ProjectFiles {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let p = Path::new(path);
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        };
        if !full.is_file() {
            return Ok(None);
        }
        std::fs::read(&full)
            .map_err(|e| format!("cannot read {path}: {e}"))
            .and_then(|bytes| {
                String::from_utf8(bytes).map(Some).map_err(|_| {
                    format!(
                        "contents of {path} are not valid UTF-8; use filebase64 for binary files"
                    )
                })
            })
    }
}

/// Load `.tf` sources into a configuration whose functions read files under `dir`.
fn load_config(dir: &Path, sources: Vec<SourceFile>) -> (Config, Vec<Diagnostic>) {
    let (mut config, diags) = config::load(sources);
    config.files = netform_engine::config::FileAccess(std::sync::Arc::new(ProjectFiles {
        dir: dir.to_path_buf(),
    }));
    (config, diags)
}

impl Project {
    /// Load for planning: variables must all have values.
    pub fn load(
        dir: &Path,
        var_overrides: &BTreeMap<String, String>,
        provider: &dyn Provider,
    ) -> Result<Project, String> {
        let sources = read_sources(dir)?;
        let (config, mut diagnostics) = load_config(dir, sources);
        let (graph, graph_diags) = graph::build(&config);
        diagnostics.extend(graph_diags);
        let (vars, var_diags) = variables(&config, var_overrides);
        diagnostics.extend(var_diags);
        let provider_block = provider_block(&config, &vars, &mut diagnostics);
        check_types(&config, provider, &mut diagnostics);
        Ok(Project {
            config,
            graph,
            vars,
            provider_block,
            diagnostics,
        })
    }

    /// Load for `validate` and `graph`: no state, no network; unset variables are unknown.
    pub fn load_for_validate(dir: &Path, provider: &dyn Provider) -> Result<Project, String> {
        let sources = read_sources(dir)?;
        let (config, mut diagnostics) = load_config(dir, sources);
        let (graph, graph_diags) = graph::build(&config);
        diagnostics.extend(graph_diags);
        let (mut vars, var_diags) = variables(&config, &BTreeMap::new());
        diagnostics.extend(
            var_diags
                .into_iter()
                .filter(|d| !d.summary.starts_with("No value for required variable")),
        );
        for name in config.variables.keys() {
            vars.entry(name.clone()).or_insert(Value::Unknown);
        }
        let provider_block = provider_block(&config, &vars, &mut diagnostics);
        check_types(&config, provider, &mut diagnostics);
        if !diagnostics.has_errors() {
            let empty = HashMap::new();
            let declared = |a: &netform_engine::addr::ResourceAddress| config.resource(a).is_some();
            for r in &config.resources {
                let Some(rt) = provider.resource_type(&r.addr.type_name) else {
                    continue;
                };
                let mut scope = Scope::new(r.file, &vars, &config.locals, &empty, &declared, ".")
                    .with_files(config.file_source());
                let decoded = decode_resource(
                    &r.addr.type_name,
                    &rt.schema,
                    &r.body,
                    &r.span,
                    &mut scope,
                    &mut diagnostics,
                );
                for d in provider.validate(&r.addr.type_name, &decoded.value) {
                    diagnostics.push(provider_diagnostic(
                        &r.addr,
                        Some(&decoded),
                        Some(r.span.clone()),
                        d,
                    ));
                }
            }
        }
        Ok(Project {
            config,
            graph,
            vars,
            provider_block,
            diagnostics,
        })
    }
}

fn check_types(config: &Config, provider: &dyn Provider, diags: &mut Vec<Diagnostic>) {
    for r in &config.resources {
        if provider.resource_type(&r.addr.type_name).is_none() {
            let names: Vec<&str> = provider.resource_types().iter().map(|t| t.name).collect();
            let mut d = Diagnostic::error(format!(
                "Unsupported resource type \"{}\"",
                r.addr.type_name
            ))
            .label(
                Some(r.span.clone()),
                "the azurerm provider in netform has no such resource type",
            )
            .code("netform::unsupported_type");
            if let Some(s) =
                netform_engine::diag::did_you_mean(&r.addr.type_name, names.iter().copied())
            {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
}

fn provider_block(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Value {
    let mut out = BTreeMap::new();
    let Some(block) = config.provider("azurerm") else {
        return Value::Object(out);
    };
    let empty = HashMap::new();
    let declared = |_: &netform_engine::addr::ResourceAddress| false;
    for attr in block.body.attributes() {
        let mut scope = Scope::new(block.file, vars, &config.locals, &empty, &declared, ".")
            .with_files(config.file_source());
        match eval(&attr.value, &mut scope) {
            Ok(v) => {
                out.insert(attr.key.as_str().to_string(), v);
            }
            Err(e) => diags.push(eval_error(e)),
        }
    }
    Value::Object(out)
}
