//! Reading a project directory into the engine's inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use netform_engine::Value;
use netform_engine::config::{self, Config, SourceFile};
use netform_engine::decode::{
    VarInput, VarOrigin, VarValue, decode_resource, eval_error, missing_variables, parse_tfvars,
    parse_tfvars_json, variables, variables_from,
};
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
    /// The evaluated `provider "azurerm" { alias = ... }` blocks, by alias.
    pub provider_aliases: BTreeMap<String, Value>,
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

/// One `--var NAME=VALUE` or `--var-file FILE`, in command-line order.
#[derive(Debug, Clone, PartialEq)]
pub enum CliVar {
    Assign(String, String),
    File(std::path::PathBuf),
}

/// Variable values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct VarOptions {
    pub items: Vec<CliVar>,
}

impl VarOptions {
    /// From clap's lists; the relative order of `--var` and `--var-file` (later wins) is
    /// recovered from the process arguments.
    pub fn from_cli(vars: &[String], files: &[std::path::PathBuf]) -> Result<Self, String> {
        let mut assigns = Vec::new();
        for v in vars {
            let (k, val) = v
                .split_once('=')
                .ok_or_else(|| format!("--var expects NAME=VALUE, got \"{v}\""))?;
            assigns.push(CliVar::Assign(k.trim().to_string(), val.to_string()));
        }
        let file_items: Vec<CliVar> = files.iter().cloned().map(CliVar::File).collect();
        let args: Vec<String> = std::env::args().collect();
        let mut kinds = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if a == "--" {
                break;
            }
            if a == "--var" || a.starts_with("--var=") {
                kinds.push(false);
                i += usize::from(a == "--var");
            } else if a == "--var-file" || a.starts_with("--var-file=") {
                kinds.push(true);
                i += usize::from(a == "--var-file");
            }
            i += 1;
        }
        let (mut fi, mut vi) = (file_items.into_iter(), assigns.into_iter());
        let mut items = Vec::new();
        for is_file in kinds {
            let next = if is_file { fi.next() } else { vi.next() };
            items.extend(next);
        }
        // Anything the scan missed keeps clap's order: files, then assignments.
        items.extend(fi);
        items.extend(vi);
        Ok(VarOptions { items })
    }
}

/// Variable values from the environment and variables files, lowest precedence first, as
/// Terraform orders them: `TF_VAR_*` (then `NETFORM_VAR_*`), `terraform.tfvars`,
/// `terraform.tfvars.json`, `*.auto.tfvars[.json]` by name, then `--var`/`--var-file` in
/// command-line order. Variables files join `config.sources` so diagnostics point into them.
fn gather_inputs(
    dir: &Path,
    config: &mut Config,
    cli: &VarOptions,
    diags: &mut Vec<Diagnostic>,
) -> Result<Vec<VarInput>, String> {
    let mut inputs = Vec::new();
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    env.sort();
    for prefix in ["TF_VAR_", "NETFORM_VAR_"] {
        for (k, v) in &env {
            if let Some(name) = k.strip_prefix(prefix).filter(|n| !n.is_empty()) {
                inputs.push(VarInput {
                    name: name.to_string(),
                    value: VarValue::Raw(v.clone()),
                    origin: VarOrigin::Env,
                });
            }
        }
    }
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = dir.join(name);
        if p.is_file() {
            files.push(p);
        }
    }
    let mut auto: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                })
        })
        .collect();
    auto.sort();
    files.extend(auto);
    let read_file = |path: &Path,
                     shown: String,
                     config: &mut Config,
                     diags: &mut Vec<Diagnostic>|
     -> Result<Vec<VarInput>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read variables file {}: {e}", path.display()))?;
        let index = config.sources.len();
        let (found, d) = if shown.ends_with(".json") {
            parse_tfvars_json(index, &text)
        } else {
            parse_tfvars(index, &text)
        };
        config.sources.push(SourceFile { name: shown, text });
        diags.extend(d);
        Ok(found)
    };
    for p in files {
        let shown = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        inputs.extend(read_file(&p, shown, config, diags)?);
    }
    for item in &cli.items {
        match item {
            CliVar::Assign(k, v) => inputs.push(VarInput {
                name: k.clone(),
                value: VarValue::Raw(v.clone()),
                origin: VarOrigin::CommandLine,
            }),
            CliVar::File(p) => {
                let full = if p.is_absolute() {
                    p.clone()
                } else {
                    dir.join(p)
                };
                let full = if full.is_file() { full } else { p.clone() };
                if !full.is_file() {
                    return Err(format!("the variables file {} does not exist", p.display()));
                }
                inputs.extend(read_file(&full, p.display().to_string(), config, diags)?);
            }
        }
    }
    Ok(inputs)
}

/// Ask for required variables that have no value, when a person is at the terminal.
fn prompt_missing(config: &Config, inputs: &mut Vec<VarInput>) -> Result<(), String> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let missing: Vec<(String, Option<String>)> = missing_variables(config, inputs)
        .into_iter()
        .map(|v| (v.name.clone(), v.description.clone()))
        .collect();
    for (name, description) in missing {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "var.{name}");
        if let Some(d) = description {
            let _ = writeln!(out, "  {d}");
        }
        let _ = write!(out, "\n  Enter a value: ");
        let _ = out.flush();
        let mut line = String::new();
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        println!();
        inputs.push(VarInput {
            name,
            value: VarValue::Raw(line.trim_end_matches(['\n', '\r']).to_string()),
            origin: VarOrigin::CommandLine,
        });
    }
    Ok(())
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

/// Load `.tf` sources into a configuration whose functions read files under `dir`, with
/// every local module it calls (read here; the engine never reads files).
fn load_config(dir: &Path, sources: Vec<SourceFile>) -> (Config, Vec<Diagnostic>) {
    let (mut config, mut diags) = config::load(sources);
    loop {
        let pending = config.pending_modules();
        if pending.is_empty() {
            break;
        }
        for (key, mdir) in pending {
            let files = match read_module_sources(dir, &mdir) {
                Ok(f) => f,
                Err(e) => {
                    let span = config.modules.get(&key).map(|m| m.call.span.clone());
                    diags.push(
                        Diagnostic::error(format!("Cannot load {key}"))
                            .label(span, e)
                            .code("netform::module"),
                    );
                    Vec::new()
                }
            };
            diags.extend(config::add_module(&mut config, &key, files));
        }
    }
    config.files = netform_engine::config::FileAccess(std::sync::Arc::new(ProjectFiles {
        dir: dir.to_path_buf(),
    }));
    (config, diags)
}

/// The `.tf` files of a module directory (relative to the project), named by their path.
fn read_module_sources(root: &Path, mdir: &str) -> Result<Vec<SourceFile>, String> {
    let dir = root.join(mdir);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read module directory {mdir}: {e}"))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let file = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            Ok(SourceFile {
                name: format!("{mdir}/{file}"),
                text,
            })
        })
        .collect()
}

impl Project {
    /// Load for planning: variables must all have values.
    pub fn load(
        dir: &Path,
        cli_vars: &VarOptions,
        provider: &dyn Provider,
    ) -> Result<Project, String> {
        let sources = read_sources(dir)?;
        let (mut config, mut diagnostics) = load_config(dir, sources);
        let (graph, graph_diags) = graph::build(&config);
        diagnostics.extend(graph_diags);
        let mut inputs = gather_inputs(dir, &mut config, cli_vars, &mut diagnostics)?;
        prompt_missing(&config, &mut inputs)?;
        let (vars, var_diags) = variables_from(&config, &inputs);
        diagnostics.extend(var_diags);
        let provider_block = provider_block(&config, &vars, &mut diagnostics);
        let provider_aliases = provider_aliases(&config, &vars, &mut diagnostics);
        check_types(&config, provider, &mut diagnostics);
        Ok(Project {
            config,
            graph,
            vars,
            provider_block,
            provider_aliases,
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
                .filter(|d| d.code.as_deref() != Some("netform::required_variable")),
        );
        for name in config.variables.keys() {
            vars.entry(name.clone()).or_insert(Value::Unknown);
        }
        let provider_block = provider_block(&config, &vars, &mut diagnostics);
        let provider_aliases = provider_aliases(&config, &vars, &mut diagnostics);
        check_types(&config, provider, &mut diagnostics);
        if !diagnostics.has_errors() {
            let empty = HashMap::new();
            let declared = |a: &netform_engine::addr::ResourceAddress| config.resource(a).is_some();
            for r in &config.resources {
                let Some(rt) = provider.resource_type(&r.addr.type_name) else {
                    continue;
                };
                // Instances are not known here: count.index and each.* are unknown.
                let unknown_obj = |keys: &[&str]| {
                    Value::Object(
                        keys.iter()
                            .map(|k| (k.to_string(), Value::Unknown))
                            .collect(),
                    )
                };
                // In a module, its variables are unknown here.
                let names: Vec<String> = r.addr.module.iter().map(|m| m.name.clone()).collect();
                let (mvars, mlocals, _) = config.module_items(&names);
                let module_vars: BTreeMap<String, Value> = if names.is_empty() {
                    vars.clone()
                } else {
                    mvars.keys().map(|k| (k.clone(), Value::Unknown)).collect()
                };
                let mut scope = Scope::new(
                    r.file,
                    &module_vars,
                    mlocals,
                    &empty,
                    &declared,
                    config.module_dir(&names),
                )
                .with_files(config.file_source())
                .with_instance(
                    r.count.as_ref().map(|_| unknown_obj(&["index"])),
                    r.for_each.as_ref().map(|_| unknown_obj(&["key", "value"])),
                );
                scope.module = r.addr.module.clone();
                scope.extra.insert("module".into(), Value::Unknown);
                scope.extra.insert("data".into(), Value::Unknown);
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
            provider_aliases,
            diagnostics,
        })
    }
}

fn check_types(config: &Config, provider: &dyn Provider, diags: &mut Vec<Diagnostic>) {
    for r in &config.resources {
        if provider.resource_type(&r.addr.type_name).is_none()
            && !netform_engine::builtin::is_builtin(&r.addr.type_name)
        {
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
    match config.provider("azurerm") {
        Some(block) => evaluate_provider_block(config, block, vars, diags),
        None => Value::Object(BTreeMap::new()),
    }
}

/// Each `provider "azurerm" { alias = "NAME" ... }`, evaluated.
fn provider_aliases(
    config: &Config,
    vars: &BTreeMap<String, Value>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Value> {
    config
        .providers
        .iter()
        .filter(|p| p.name == "azurerm")
        .filter_map(|p| {
            let alias = p.alias.clone()?;
            Some((alias, evaluate_provider_block(config, p, vars, diags)))
        })
        .collect()
}

fn evaluate_provider_block(
    config: &Config,
    block: &netform_engine::config::ProviderBlock,
    vars: &BTreeMap<String, Value>,
    diags: &mut Vec<Diagnostic>,
) -> Value {
    let mut out = BTreeMap::new();
    let empty = HashMap::new();
    let declared = |_: &netform_engine::addr::ResourceAddress| false;
    for attr in block.body.attributes() {
        if attr.key.as_str() == "alias" {
            continue;
        }
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
