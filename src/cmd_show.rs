//! Plans built for review: making the plan (refresh, drift, `--target`, `--replace`,
//! `--refresh-only`), printing it (human, `--json`), saving it (`--out`), applying a saved
//! plan, and `show FILE [--json|--markdown]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use netform_engine::Value;
use netform_engine::diag::DiagnosticsExt;
use netform_engine::plan::{self, PlanOptions};
use netform_engine::planfile::{self, PlanMode, SavedPlan};
use netform_engine::provider::Provider;
use netform_engine::state::State;
use netform_engine::{drift, render, render_json, render_markdown, targeting};

use crate::Ctx;
use crate::project::{CliVar, Project, VarOptions};

/// Options every planning command shares.
#[derive(Args, Clone, Default)]
pub struct ReviewArgs {
    /// Only read what changed outside netform and record it in state; change nothing remote.
    #[arg(long)]
    pub refresh_only: bool,
    /// Plan only this resource (or module) and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Plan to replace this resource instance even if nothing forces it (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
}

#[derive(Args, Clone, Default)]
pub struct PlanReviewArgs {
    /// Save the plan to FILE; `netform apply FILE` applies exactly it. The file holds
    /// sensitive values: it is written readable by you only.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan in Terraform's JSON plan format (format_version 1.2) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: ReviewArgs,
}

#[derive(Args, Clone, Default)]
pub struct ApplyReviewArgs {
    /// A plan saved by `netform plan --out FILE`: apply exactly that plan, without asking.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub common: ReviewArgs,
}

#[derive(Args, Clone, Default)]
pub struct ShowArgs {
    /// A saved plan (`netform plan --out FILE`); without it, show the state.
    #[arg(value_name = "PLAN_FILE")]
    pub file: Option<PathBuf>,
    /// Terraform's JSON plan format (format_version 1.2), for policy and cost tools.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown for a pull-request comment.
    #[arg(long)]
    pub markdown: bool,
}

/// Refresh (recording drift), plan, then the `--target` / `--replace` / `--refresh-only`
/// passes. `None`: diagnostics were reported, stop with exit 1.
// `..Default::default()` on PlanOptions: it is growing options (count/for_each work).
#[allow(clippy::too_many_arguments, clippy::needless_update)]
pub async fn make_plan(
    ctx: &Ctx,
    project: &Project,
    state: State,
    provider: Arc<dyn Provider>,
    refresh: bool,
    parallelism: usize,
    destroy: bool,
    args: &ReviewArgs,
) -> Result<Option<SavedPlan>, String> {
    // `moved` blocks re-address objects in state before anything else looks at it.
    let mut moved = Vec::new();
    let mut state = plan::apply_moved(&project.config, state, &mut moved);
    ctx.report(&moved, &project.config.sources);
    // `import` blocks adopt existing objects before refresh, so the plan compares them.
    let (imported, import_diags) = netform_engine::imports::adopt(
        &project.config,
        &project.vars,
        &mut state,
        provider.as_ref(),
    )
    .await;
    ctx.report(&import_diags, &project.config.sources);
    if import_diags.has_errors() {
        return Ok(None);
    }
    for i in &imported {
        println!("{}: Preparing import... [id={}]", i.address, i.id);
    }
    // Data sources are read before planning (their values feed expressions).
    let data =
        plan::read_data_sources(&project.config, &project.vars, &state, provider.as_ref()).await;
    ctx.report(&data, &project.config.sources);
    if data.has_errors() {
        return Ok(None);
    }
    let before = state.clone();
    let refreshed = if refresh {
        let (refreshed, diags) = plan::refresh(&state, provider.clone(), parallelism).await;
        ctx.report(&diags, &project.config.sources);
        if diags.has_errors() {
            return Ok(None);
        }
        refreshed
    } else {
        state
    };
    let drift = if refresh {
        drift::detect(&before, &refreshed)
    } else {
        Vec::new()
    };
    let (plan, diags) = plan::plan(
        &project.config,
        &project.graph,
        &project.vars,
        &refreshed,
        provider.as_ref(),
        &PlanOptions {
            destroy,
            ..Default::default()
        },
    );
    ctx.report(&diags, &project.config.sources);
    let Some(mut plan) = plan else {
        return Ok(None);
    };
    if args.refresh_only {
        // Nothing remote changes: only the refreshed state is recorded.
        plan.changes.clear();
    } else {
        let unmatched = targeting::apply_targets(&mut plan, &args.targets)?;
        for t in unmatched {
            eprintln!("warning: --target {t} matches no resource in the plan");
        }
        targeting::apply_replace(&mut plan, &args.replace, provider.as_ref())?;
        netform_engine::cascade::cascade_replacements(
            &mut plan,
            &project.config,
            provider.as_ref(),
        );
    }
    let mode = PlanMode {
        refresh_only: args.refresh_only,
        targets: args.targets.clone(),
        replace: args.replace.clone(),
    };
    Ok(Some(SavedPlan::new(
        plan,
        refreshed,
        drift,
        &project.config,
        &project.vars,
        mode,
    )))
}

/// The body of `netform plan` after state is loaded: plan, print, save.
#[allow(clippy::too_many_arguments)]
pub async fn plan(
    ctx: &Ctx,
    project: &Project,
    state: State,
    provider: Arc<dyn Provider>,
    refresh: bool,
    parallelism: usize,
    destroy: bool,
    args: &PlanReviewArgs,
) -> Result<Option<SavedPlan>, String> {
    let Some(saved) = make_plan(
        ctx,
        project,
        state,
        provider.clone(),
        refresh,
        parallelism,
        destroy,
        &args.common,
    )
    .await?
    else {
        return Ok(None);
    };
    let saved = if args.json || args.out.is_some() {
        saved.with_configuration(&project.config, provider.name())
    } else {
        saved
    };
    if args.json {
        print!("{}", render_json::render(&saved, provider.as_ref()));
    } else {
        print!("{}", render::render(&saved, provider.as_ref(), ctx.style()));
    }
    if let Some(file) = &args.out {
        let path = resolve(ctx, file);
        write_private(&path, saved.to_file_json().as_bytes())?;
        if !args.json {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    netform apply {}",
                file.display(),
                file.display()
            );
        }
    }
    Ok(Some(saved))
}

/// The plan `apply` runs: from a saved plan file (checked against the current state and
/// configuration) or made now. Printed either way.
#[allow(clippy::too_many_arguments)]
pub async fn plan_for_apply(
    ctx: &Ctx,
    project: &Project,
    state: State,
    provider: Arc<dyn Provider>,
    refresh: bool,
    parallelism: usize,
    destroy: bool,
    args: &ApplyReviewArgs,
) -> Result<Option<SavedPlan>, String> {
    let saved = match &args.plan_file {
        Some(file) => {
            let c = &args.common;
            if c.refresh_only || !c.targets.is_empty() || !c.replace.is_empty() {
                return Err(
                    "a saved plan is applied as it is: give --refresh-only, --target and --replace to `netform plan --out` instead".into(),
                );
            }
            let saved = read_plan(&resolve(ctx, file))?;
            let hash = planfile::config_hash(&project.config.sources);
            planfile::check_applicable(&saved, &state, &hash).map_err(|e| e.to_string())?;
            saved
        }
        None => {
            let Some(saved) = make_plan(
                ctx,
                project,
                state,
                provider.clone(),
                refresh,
                parallelism,
                destroy,
                &args.common,
            )
            .await?
            else {
                return Ok(None);
            };
            saved
        }
    };
    print!("{}", render::render(&saved, provider.as_ref(), ctx.style()));
    Ok(Some(saved))
}

/// Variables for `apply FILE`: the values the saved plan used, after (so over) the command
/// line's, so variables without defaults need not be given again.
pub fn saved_plan_vars(
    ctx: &Ctx,
    args: &ApplyReviewArgs,
    mut vars: VarOptions,
) -> Result<VarOptions, String> {
    let Some(file) = &args.plan_file else {
        return Ok(vars);
    };
    let saved = read_plan(&resolve(ctx, file))?;
    for (name, v) in saved.variables {
        let text = match &v.value {
            Value::String(s) => s.clone(),
            Value::Null | Value::Unknown => continue,
            other => other.to_json().to_string(),
        };
        vars.items.push(CliVar::Assign(name, text));
    }
    Ok(vars)
}

/// `netform show [FILE] [--json|--markdown]`.
pub fn show(ctx: &Ctx, args: ShowArgs) -> Result<u8, String> {
    let Some(file) = &args.file else {
        if args.json || args.markdown {
            return Err("--json and --markdown need a saved plan: netform show --json FILE".into());
        }
        return crate::show(ctx);
    };
    let saved = read_plan(&resolve(ctx, file))?;
    let provider = crate::offline_provider()?;
    let text = if args.json {
        render_json::render(&saved, provider.as_ref())
    } else if args.markdown {
        render_markdown::render(&saved, provider.as_ref())
    } else {
        render::render(&saved, provider.as_ref(), ctx.style())
    };
    print!("{text}");
    Ok(0)
}

fn resolve(ctx: &Ctx, file: &Path) -> PathBuf {
    if file.is_absolute() {
        file.to_path_buf()
    } else {
        ctx.dir.join(file)
    }
}

fn read_plan(path: &Path) -> Result<SavedPlan, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the plan file {}: {e}", path.display()))?;
    SavedPlan::from_file_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Write `bytes` to `path` readable by the owner only (mode 0600): temp file, then rename.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_extension("netform-tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the plan file {}: {e}", path.display())
    })
}
