//! netform: the command-line interface. Reads files and the environment, draws output,
//! and drives the engine; everything that decides lives in `netform-engine`.

mod cloud;
mod cmd_fmt;
mod cmd_import;
mod cmd_show;
mod cmd_state;
mod cmd_validate;
mod progress;
mod project;
mod report;
mod session;
mod state_file;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use netform_engine::apply::{self, ApplyOptions};
use netform_engine::diag::{Diagnostic, DiagnosticsExt};
use netform_engine::provider::Provider;
use netform_engine::render::{self, Style};
use netform_engine::state::State;

use crate::project::Project;

/// mimalloc instead of glibc's malloc: allocation and freeing were 30 % of the instructions
/// of a plan and of a refresh (callgrind), and values, states and HTTP bodies are many small
/// allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "netform",
    version,
    about = "Azure hybrid networking as code: ExpressRoute with VPN failover"
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(long, global = true, value_name = "DIR")]
    chdir: Option<PathBuf>,
    /// Start the ARM emulator in-process (data under DIR/.netform/) and point the provider at it.
    #[arg(long, global = true)]
    emulator: bool,
    /// The Azure Resource Manager endpoint (a loopback URL means a standalone emulator).
    #[arg(long, global = true, env = "NETFORM_ARM_ENDPOINT", value_name = "URL")]
    arm_endpoint: Option<String>,
    /// Never colour output (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    no_color: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the configuration: syntax, references, attributes and plan-time Azure rules.
    Validate {
        /// Print the result as JSON (Terraform's `validate -json` format).
        #[arg(long)]
        json: bool,
    },
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the infrastructure match the configuration.
    Apply(ApplyArgs),
    /// Destroy everything this configuration manages.
    Destroy(ApplyArgs),
    /// Show the current state, or a saved plan (`show FILE [--json|--markdown]`).
    Show(cmd_show::ShowArgs),
    /// Show output values from the state.
    Output {
        /// A single output to print.
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the dependency graph as DOT.
    Graph,
    /// Record an existing Azure object (by its resource id) in state at ADDRESS.
    Import {
        address: String,
        id: String,
        #[command(flatten)]
        vars: VarArgs,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rewrite configuration files in the canonical layout (--check, --diff, --recursive).
    Fmt(cmd_fmt::FmtArgs),
    /// Inspect and edit the state: list, show, mv, rm, pull, push.
    #[command(subcommand)]
    State(StateSubcommand),
    /// Release a state lock left by a run that is gone (the ID is shown in the lock error).
    ForceUnlock {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        force: bool,
    },
    /// The local ARM-compatible emulator.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

#[derive(Args, Clone)]
struct VarArgs {
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Read variable values from FILE (`.tfvars` or `.tfvars.json`; repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
}

#[derive(Args)]
struct PlanArgs {
    #[command(flatten)]
    vars: VarArgs,
    /// Plan to destroy everything.
    #[arg(long)]
    destroy: bool,
    /// Read live state before planning (default true).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    refresh: bool,
    /// Operations at once.
    #[arg(long, default_value_t = 10)]
    parallelism: usize,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    #[command(flatten)]
    review: cmd_show::PlanReviewArgs,
    #[command(flatten)]
    lock: LockArgs,
}

#[derive(Subcommand)]
enum StateSubcommand {
    /// List the resource instances in the state (optionally only those under ADDRESS).
    List { addresses: Vec<String> },
    /// Show one resource instance's attributes (secrets redacted).
    Show { address: String },
    /// Record an object under a new address (after renaming it in the configuration).
    Mv {
        source: String,
        destination: String,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Forget instances: netform stops managing them; they stay in Azure.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the stored state as JSON.
    Pull,
    /// Replace the stored state with FILE (`-` = standard input), e.g. errored.tfstate.
    Push {
        file: PathBuf,
        /// Push even if the lineage differs or the stored state is newer.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Args, Clone)]
struct LockArgs {
    /// Take the state lock (default true).
    #[arg(long = "lock", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    enabled: bool,
    /// Wait this long for a lock another run holds (e.g. 30s, 5m) instead of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    lock_timeout: Option<Duration>,
}

#[derive(Args)]
struct ApplyArgs {
    #[command(flatten)]
    vars: VarArgs,
    /// Skip the interactive confirmation.
    #[arg(long)]
    auto_approve: bool,
    /// Operations at once.
    #[arg(long, default_value_t = 10)]
    parallelism: usize,
    /// Read live state before planning (default true).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    refresh: bool,
    /// Let changes that need a provisioned circuit wait this long for the connectivity
    /// provider (e.g. 30m, 2h), polling with progress, instead of deferring them.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    wait_for_provider: Option<Duration>,
    #[command(flatten)]
    review: cmd_show::ApplyReviewArgs,
    #[command(flatten)]
    lock: LockArgs,
}

/// `90s`, `30m`, `2h`, `1h30m` or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    netform_engine::timeouts::parse_duration_lenient(text)
        .ok_or_else(|| format!("invalid duration \"{text}\" (use s, m or h, e.g. 90s, 30m, 1h30m)"))
}

#[derive(Subcommand)]
enum EmulatorCommand {
    /// Run the emulator as a standalone server.
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Keep resources in this file across restarts.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Divide real operation durations by this (0 = instant).
        #[arg(long, default_value_t = 600.0)]
        time_scale: f64,
        /// Seconds after which the simulated connectivity provider provisions a new circuit.
        #[arg(long, value_name = "SECONDS")]
        auto_provision: Option<f64>,
        /// Refuse circuit peerings until the circuit is provisioned (rule R13).
        #[arg(long)]
        strict_peering: bool,
        /// Inject faults (429, 500/503, dropped connections, slow answers) from this seed.
        #[arg(long, value_name = "N")]
        fault_seed: Option<u64>,
        /// Probability that an ARM request gets a fault (0..1; default 0.1 with --fault-seed).
        #[arg(long, value_name = "F")]
        fault_rate: Option<f64>,
        /// ARM requests need a token from the emulator's own OAuth2 or managed-identity
        /// endpoints: 401 without one or with one it did not issue, 403 for a subscription the
        /// token does not cover (see --client).
        #[arg(long)]
        require_auth: bool,
        /// A client of the token endpoint, CLIENT_ID:SECRET:SUB1,SUB2 (repeatable): only these get
        /// tokens, with this secret (empty: any), covering these subscriptions (empty or *: all).
        #[arg(long, value_name = "ID:SECRET:SUBS")]
        client: Vec<String>,
        /// Serve HTTPS with a certificate generated at start; its CA goes to --tls-cert-out (or
        /// a temp file), named on a second line `ca certificate PATH`.
        #[arg(long)]
        tls: bool,
        /// Where to write the CA certificate (PEM) with --tls.
        #[arg(long, value_name = "PATH", requires = "tls")]
        tls_cert_out: Option<PathBuf>,
    },
    /// Act as the connectivity provider: provision the circuit with this service key.
    Provision {
        service_key: String,
        /// Deprovision instead.
        #[arg(long)]
        deprovision: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli));
    // Do not wait for a confirmation prompt still blocked on stdin after an interrupt.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

struct Ctx {
    dir: PathBuf,
    color: bool,
    embedded: bool,
    endpoint: Option<String>,
}

impl Ctx {
    fn style(&self) -> Style {
        Style { color: self.color }
    }
    fn report(&self, diags: &[Diagnostic], sources: &[netform_engine::config::SourceFile]) {
        if !diags.is_empty() {
            eprint!("{}", report::render(diags, sources, self.color));
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    let dir = cli.chdir.clone().unwrap_or_else(|| PathBuf::from("."));
    let color =
        !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let ctx = Ctx {
        dir,
        color,
        embedded: cli.emulator,
        endpoint: cli.arm_endpoint.clone(),
    };
    let result = match cli.command {
        Command::Validate { json: true } => match offline_provider() {
            Ok(p) => cmd_validate::run(&ctx.dir, p.as_ref()),
            Err(e) => Err(e),
        },
        Command::Validate { json: false } => validate(&ctx).await,
        Command::Plan(args) => plan_cmd(&ctx, args).await,
        Command::Apply(args) => apply_cmd(&ctx, args, false).await,
        Command::Destroy(args) => apply_cmd(&ctx, args, true).await,
        Command::Show(args) => cmd_show::show(&ctx, args),
        Command::Output { name, json } => output(&ctx, name, json),
        Command::Graph => graph(&ctx),
        Command::Import {
            address,
            id,
            vars,
            lock,
        } => cmd_import::run(&ctx, &address, &id, &vars, &lock).await,
        Command::Fmt(args) => cmd_fmt::run(&ctx.dir, args),
        Command::ForceUnlock { id, force } => force_unlock(&ctx, &id, force),
        Command::State(cmd) => state_cmd(&ctx, cmd).await,
        Command::Emulator(cmd) => emulator_cmd(&ctx, cmd).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn parse_vars(args: &VarArgs) -> Result<project::VarOptions, String> {
    project::VarOptions::from_cli(&args.vars, &args.var_files)
}

/// Load the project, reporting diagnostics; `None` means stop with exit 1.
fn load(
    ctx: &Ctx,
    vars: &project::VarOptions,
    provider: &dyn Provider,
) -> Result<Option<Project>, String> {
    let project = Project::load(&ctx.dir, vars, provider)?;
    ctx.report(&project.diagnostics, &project.config.sources);
    if project.diagnostics.has_errors() {
        return Ok(None);
    }
    Ok(Some(project))
}

fn load_state(ctx: &Ctx) -> Result<State, String> {
    let store = cmd_state::open_store(&ctx.dir)?;
    cmd_state::load(store.as_ref())
}

async fn state_cmd(ctx: &Ctx, cmd: StateSubcommand) -> Result<u8, String> {
    use cmd_state::StateCommand as C;
    let no_lock = LockArgs {
        enabled: true,
        lock_timeout: None,
    };
    let (command, lock) = match cmd {
        StateSubcommand::List { addresses } => (C::List { filters: addresses }, no_lock),
        StateSubcommand::Show { address } => (C::Show { address }, no_lock),
        StateSubcommand::Pull => (C::Pull, no_lock),
        StateSubcommand::Mv {
            source,
            destination,
            dry_run,
            lock,
        } => (
            C::Mv {
                source,
                destination,
                dry_run,
            },
            lock,
        ),
        StateSubcommand::Rm {
            addresses,
            dry_run,
            lock,
        } => (C::Rm { addresses, dry_run }, lock),
        StateSubcommand::Push { file, force, lock } => (C::Push { file, force }, lock),
    };
    let provider = offline_provider()?;
    cmd_state::state_cmd(&ctx.dir, command, &lock, provider.as_ref()).await
}

fn force_unlock(ctx: &Ctx, id: &str, force: bool) -> Result<u8, String> {
    cmd_state::force_unlock(&ctx.dir, id, force, confirm_text)
}

/// Ask a yes/no question on the terminal; only "yes" agrees.
fn confirm_text(question: &str) -> Result<bool, String> {
    print!("\n{question}\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("no answer on standard input; pass --force to skip the confirmation".into());
    }
    Ok(line.trim() == "yes")
}

/// A provider for commands that need schemas but no network.
fn offline_provider() -> Result<Arc<netform_azure::AzureProvider>, String> {
    let settings = netform_azure::AzureSettings::for_emulator("http://127.0.0.1:9");
    netform_azure::AzureProvider::new(settings)
        .map(Arc::new)
        .map_err(|e| e.message)
}

async fn validate(ctx: &Ctx) -> Result<u8, String> {
    let provider = offline_provider()?;
    let project = Project::load_for_validate(&ctx.dir, provider.as_ref())?;
    ctx.report(&project.diagnostics, &project.config.sources);
    let backend = cmd_state::backend_diagnostics(&project.config.sources);
    ctx.report(&backend, &project.config.sources);
    if project.diagnostics.has_errors() || backend.has_errors() {
        return Ok(1);
    }
    println!("Success! The configuration is valid.");
    Ok(0)
}

async fn plan_cmd(ctx: &Ctx, args: PlanArgs) -> Result<u8, String> {
    let vars = parse_vars(&args.vars)?;
    let offline = offline_provider()?;
    let Some(project) = load(ctx, &vars, offline.as_ref())? else {
        return Ok(1);
    };
    let store = cmd_state::open_store(&ctx.dir)?;
    let _lock = cmd_state::lock(store.clone(), "plan", &args.lock).await?;
    let mut state = cmd_state::load(store.as_ref())?;
    let cloud = connect_if_needed(ctx, &project, &state).await?;
    let provider: Arc<dyn Provider> = cloud.provider.clone();
    // Plan never writes state: interrupted operations are reconciled in memory only.
    if !cmd_state::reconcile(&mut state, provider.as_ref(), store.as_ref(), false).await? {
        return Ok(1);
    }
    let saved = cmd_show::plan(
        ctx,
        &project,
        state,
        provider.clone(),
        args.refresh,
        args.parallelism,
        args.destroy,
        &args.review,
    )
    .await;
    shutdown(cloud).await;
    let Some(saved) = saved? else { return Ok(1) };
    Ok(if args.detailed_exitcode && saved.has_changes() {
        2
    } else {
        0
    })
}

/// Connect to Azure (or the emulator) only when the configuration or the state holds an
/// azurerm object: a project of `terraform_data` alone needs no credentials.
async fn connect_if_needed(
    ctx: &Ctx,
    project: &Project,
    state: &State,
) -> Result<cloud::Cloud, String> {
    let azure = ctx.embedded
        || ctx.endpoint.is_some()
        || project
            .config
            .resources
            .iter()
            .any(|r| r.addr.type_name.starts_with("azurerm_"))
        || state
            .resources
            .iter()
            .any(|r| r.type_name.starts_with("azurerm_"));
    if azure {
        cloud::connect(
            &ctx.dir,
            &project.provider_block,
            &project.provider_aliases,
            ctx.embedded,
            ctx.endpoint.as_deref(),
        )
        .await
    } else {
        Ok(cloud::Cloud::single(offline_provider()?, None))
    }
}

async fn shutdown(cloud: cloud::Cloud) {
    if let Some(emu) = cloud.emulator {
        emu.shutdown().await;
    }
}

async fn apply_cmd(ctx: &Ctx, args: ApplyArgs, destroy: bool) -> Result<u8, String> {
    let vars = cmd_show::saved_plan_vars(ctx, &args.review, parse_vars(&args.vars)?)?;
    let offline = offline_provider()?;
    let Some(project) = load(ctx, &vars, offline.as_ref())? else {
        return Ok(1);
    };
    let store = cmd_state::open_store(&ctx.dir)?;
    let interrupt = session::listen_for_interrupts();
    let operation = if destroy { "destroy" } else { "apply" };
    let _lock = cmd_state::lock(store.clone(), operation, &args.lock).await?;
    let mut state = cmd_state::load(store.as_ref())?;
    let cloud = connect_if_needed(ctx, &project, &state).await?;
    let provider: Arc<dyn Provider> = cloud.provider.clone();
    if !cmd_state::reconcile(&mut state, provider.as_ref(), store.as_ref(), true).await? {
        return Ok(1);
    }
    if session::is_interrupted(&interrupt) {
        return Ok(session::EXIT_INTERRUPTED);
    }
    // Plans (or reads the saved plan), checks it and prints it.
    let Some(saved) = cmd_show::plan_for_apply(
        ctx,
        &project,
        state,
        provider.clone(),
        args.refresh,
        args.parallelism,
        destroy,
        &args.review,
    )
    .await?
    else {
        return Ok(1);
    };
    let (plan, refreshed) = (saved.plan, saved.prior_state);
    if session::is_interrupted(&interrupt) {
        return Ok(session::EXIT_INTERRUPTED);
    }
    if !plan.has_changes() {
        // Still record refreshed attributes and outputs.
        let mut final_state = refreshed;
        let out_diags = apply::record_outputs(&project.config, &project.vars, &mut final_state);
        ctx.report(&out_diags, &project.config.sources);
        if !destroy && !final_state.resources.is_empty() {
            final_state.serial += 1;
            store.save(&final_state).map_err(|e| e.to_string())?;
        }
        println!("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.");
        print_outputs(&final_state);
        shutdown(cloud).await;
        return Ok(0);
    }
    if !args.auto_approve
        && args.review.plan_file.is_none()
        && !session::confirm_or_interrupt(destroy, confirm, &interrupt).await?
    {
        println!("\nApply cancelled.");
        shutdown(cloud).await;
        return Ok(1);
    }
    println!();
    let heartbeat = if ctx.embedded {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    };
    let observer = Arc::new(progress::TerminalObserver::new(heartbeat));
    // The embedded emulator's simulated connectivity provider acts within seconds: wait for it.
    let wait_for_provider = args
        .wait_for_provider
        .or(ctx.embedded.then(|| cloud::EMBEDDED_AUTO_PROVISION * 15));
    let config = Arc::new(project.config.clone());
    let inputs = apply::ApplyInputs {
        config,
        vars: Arc::new(project.vars.clone()),
        state: refreshed,
        provider: provider.clone(),
        store: store.clone(),
        observer,
    };
    let outcome = apply::apply(
        &plan,
        inputs,
        &ApplyOptions {
            parallelism: args.parallelism,
            heartbeat,
            wait_for_provider,
            gate_poll: if ctx.embedded || ctx.endpoint.as_deref().is_some_and(cloud::is_local) {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(30)
            },
            interrupt: Some(interrupt.clone()),
        },
    )
    .await;
    let succeeded = outcome.succeeded();
    let deferred = outcome.deferred.clone();
    let mut final_state = outcome.state;
    let out_diags = apply::record_outputs(&project.config, &project.vars, &mut final_state);
    final_state.serial += 1;
    if let Err(e) = store.save(&final_state) {
        cmd_state::save_errored(&ctx.dir, &final_state, &e);
        return Ok(1);
    }
    ctx.report(&outcome.errors, &project.config.sources);
    if !destroy {
        // `check` blocks again, now that every value is known (warnings only).
        let checks = netform_engine::plan::check_assertions(
            &project.config,
            &project.vars,
            &netform_engine::plan::state_values(&final_state),
        );
        ctx.report(&checks, &project.config.sources);
    }
    cmd_state::report_retries(cloud.retry_count());
    if outcome.interrupted != apply::Interrupt::None {
        cmd_state::report_interrupted(
            outcome.completed.len(),
            &outcome.not_started,
            &outcome.abandoned,
        );
        shutdown(cloud).await;
        return Ok(session::EXIT_INTERRUPTED);
    }
    ctx.report(&out_diags, &project.config.sources);
    let (mut added, mut changed, mut destroyed) = (0, 0, 0);
    for (_, op) in &outcome.completed {
        match op {
            apply::OpKind::Create => added += 1,
            apply::OpKind::Update => changed += 1,
            apply::OpKind::Delete => destroyed += 1,
        }
    }
    // Objects `removed` blocks forget leave state without any operation.
    let forgotten = match plan.forget_count() {
        0 => String::new(),
        n => format!(", {n} forgotten"),
    };
    if succeeded {
        if destroy {
            println!("\nDestroy complete! Resources: {destroyed} destroyed{forgotten}.");
        } else {
            println!(
                "\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed{forgotten}."
            );
            if !deferred.is_empty() {
                println!(
                    "\n{} change(s) wait for the connectivity provider:",
                    deferred.len()
                );
                for (addr, why) in &deferred {
                    println!("  {addr}: {}", why.reason);
                }
                if let Some((_, why)) = deferred.first() {
                    println!("\nNext step: {}", why.next_step);
                }
            }
            print_outputs(&final_state);
        }
        shutdown(cloud).await;
        Ok(0)
    } else {
        eprintln!(
            "\nApply failed: {} error(s), {} resource(s) skipped. Completed: {added} added, {changed} changed, {destroyed} destroyed.",
            outcome.errors.len(),
            outcome.skipped.len()
        );
        for s in &outcome.skipped {
            eprintln!("  skipped: {s}");
        }
        shutdown(cloud).await;
        Ok(1)
    }
}

fn confirm(destroy: bool) -> Result<bool, String> {
    let what = if destroy {
        "destroy all resources"
    } else {
        "perform these actions"
    };
    print!(
        "\nDo you want to {what}?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err(
            "no answer on standard input; pass --auto-approve to apply without confirmation".into(),
        );
    }
    Ok(line.trim() == "yes")
}

fn print_outputs(state: &State) {
    if state.outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    for (name, o) in &state.outputs {
        if o.sensitive {
            println!("{name} = <sensitive>");
        } else {
            println!(
                "{name} = {}",
                render::fmt_value(&netform_engine::Value::from_json(&o.value))
            );
        }
    }
}

fn show(ctx: &Ctx) -> Result<u8, String> {
    let state = load_state(ctx)?;
    if state.resources.is_empty() {
        println!("The state is empty. No resources are represented.");
        return Ok(0);
    }
    let provider = offline_provider()?;
    for addr in state.addresses() {
        if let Some(inst) = state.get(&addr) {
            println!(
                "{}",
                cmd_state::render_instance(&addr, inst, provider.as_ref())
            );
        }
    }
    print_outputs(&state);
    Ok(0)
}

fn output(ctx: &Ctx, name: Option<String>, json: bool) -> Result<u8, String> {
    let state = load_state(ctx)?;
    match name {
        Some(n) => {
            let o = state
                .outputs
                .get(&n)
                .ok_or_else(|| format!("output \"{n}\" not found in the state"))?;
            if json {
                println!("{}", o.value);
            } else {
                match &o.value {
                    serde_json::Value::String(s) => println!("{s}"),
                    v => println!(
                        "{}",
                        render::fmt_value(&netform_engine::Value::from_json(v))
                    ),
                }
            }
        }
        None if json => {
            let obj: serde_json::Map<String, serde_json::Value> = state
                .outputs
                .iter()
                .map(|(k, o)| (k.clone(), serde_json::json!({"sensitive": o.sensitive, "type": o.ty, "value": o.value})))
                .collect();
            println!("{}", serde_json::to_string_pretty(&obj).unwrap_or_default());
        }
        None => print_outputs_plain(&state),
    }
    Ok(0)
}

fn print_outputs_plain(state: &State) {
    for (name, o) in &state.outputs {
        if o.sensitive {
            println!("{name} = <sensitive>");
        } else {
            println!(
                "{name} = {}",
                render::fmt_value(&netform_engine::Value::from_json(&o.value))
            );
        }
    }
}

fn graph(ctx: &Ctx) -> Result<u8, String> {
    let provider = offline_provider()?;
    let project = Project::load_for_validate(&ctx.dir, provider.as_ref())?;
    let fatal: Vec<Diagnostic> = project
        .diagnostics
        .iter()
        .filter(|d| {
            d.is_error()
                && (d.code.as_deref() == Some("netform::cycle")
                    || d.code.as_deref() == Some("netform::syntax")
                    || d.code.as_deref() == Some("netform::undeclared"))
        })
        .cloned()
        .collect();
    if !fatal.is_empty() {
        ctx.report(&fatal, &project.config.sources);
        return Ok(1);
    }
    print!("{}", project.graph.to_dot());
    Ok(0)
}

async fn emulator_cmd(ctx: &Ctx, cmd: EmulatorCommand) -> Result<u8, String> {
    match cmd {
        EmulatorCommand::Serve {
            port,
            data,
            time_scale,
            auto_provision,
            strict_peering,
            fault_seed,
            fault_rate,
            require_auth,
            client,
            tls,
            tls_cert_out,
        } => {
            let faults = match (fault_seed, fault_rate) {
                (None, None) => None,
                (seed, rate) => {
                    let rate = rate.unwrap_or(0.1);
                    if !(0.0..=1.0).contains(&rate) {
                        return Err(format!("--fault-rate must be between 0 and 1, got {rate}"));
                    }
                    Some(netform_emulator::FaultConfig::new(seed.unwrap_or(0), rate))
                }
            };
            let config = netform_emulator::EmulatorConfig {
                data_file: data,
                time_scale,
                auto_provision_after: auto_provision.map(Duration::from_secs_f64),
                strict_peering,
                faults,
                require_auth,
                clients: client
                    .iter()
                    .map(|c| netform_emulator::ClientGrant::parse(c))
                    .collect::<Result<_, _>>()?,
                tls,
                ..netform_emulator::EmulatorConfig::default()
            };
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let emu = netform_emulator::start(config, addr)
                .await
                .map_err(|e| e.to_string())?;
            let mut lines = format!("listening on {}\n", emu.base_url());
            if let Some(path) = emu
                .write_ca_certificate(tls_cert_out.as_deref())
                .map_err(|e| e.to_string())?
            {
                lines.push_str(&format!("ca certificate {}\n", path.display()));
            }
            // One write: a reader that stops after the first line never breaks the second.
            let _ = std::io::stdout().write_all(lines.as_bytes());
            let _ = std::io::stdout().flush();
            wait_for_shutdown_signal().await;
            emu.shutdown().await;
            Ok(0)
        }
        EmulatorCommand::Provision {
            service_key,
            deprovision,
        } => {
            let state = if deprovision {
                netform_emulator::ProviderState::NotProvisioned
            } else {
                netform_emulator::ProviderState::Provisioned
            };
            if let Some(endpoint) = &ctx.endpoint {
                let action = if deprovision {
                    "deprovision"
                } else {
                    "provision"
                };
                let url = format!(
                    "{}/_emulator/circuits/{service_key}/{action}",
                    endpoint.trim_end_matches('/')
                );
                let status = reqwest::Client::new()
                    .post(&url)
                    .send()
                    .await
                    .map_err(|e| format!("cannot reach the emulator at {endpoint}: {e}"))?
                    .status()
                    .as_u16();
                if status == 404 {
                    return Err(format!("no circuit has service key {service_key}"));
                }
                if !(200..300).contains(&status) {
                    return Err(format!("the emulator answered {status}"));
                }
            } else {
                let file = ctx.dir.join(".netform").join("emulator.json");
                let found =
                    netform_emulator::set_provider_state_in_file(&file, &service_key, state)
                        .map_err(|e| e.to_string())?;
                if !found {
                    return Err(format!(
                        "no circuit has service key {service_key} in {}",
                        file.display()
                    ));
                }
            }
            println!(
                "Circuit with service key {service_key} is now {}.",
                if deprovision {
                    "NotProvisioned"
                } else {
                    "Provisioned"
                }
            );
            Ok(0)
        }
    }
}

async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
