//! The apply walker's guarantees, with an in-memory provider (the walker is pure engine
//! logic; end-to-end tests cover it again through the real binary and the emulator).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use netform_engine::Value;
use netform_engine::apply::{self, ApplyEvent, ApplyOptions, Observer};
use netform_engine::config::{self, SourceFile};
use netform_engine::plan::{self, PlanOptions};
use netform_engine::provider::*;
use netform_engine::schema::{AttrSchema, AttrType, ResourceType, Schema, Timeouts};
use netform_engine::state::{State, StateError, StateStore};

struct FakeCloud {
    types: Vec<ResourceType>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    /// Lock key → how many ops holding it run now; must never exceed 1.
    per_lock: Mutex<BTreeMap<String, usize>>,
    lock_violations: AtomicUsize,
    log: Mutex<Vec<String>>,
    /// Operations in the order they started.
    started: Mutex<Vec<String>>,
}

impl FakeCloud {
    fn new() -> Self {
        let schema = Schema::new()
            .attr("name", AttrSchema::required(AttrType::String).force_new())
            .attr("parent", AttrSchema::optional(AttrType::String))
            .attr("fail", AttrSchema::optional(AttrType::Bool))
            .attr("id", AttrSchema::computed(AttrType::String));
        FakeCloud {
            // `fake_vm` is the slow type (see `expected_duration`); it sorts after
            // `fake_thing`, so address order alone would start it last.
            types: ["fake_thing", "fake_vm"]
                .into_iter()
                .map(|name| ResourceType {
                    name,
                    schema: schema.clone(),
                    timeouts: Timeouts::minutes(1, 1, 1, 1),
                })
                .collect(),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
            per_lock: Mutex::new(BTreeMap::new()),
            lock_violations: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
            started: Mutex::new(Vec::new()),
        }
    }

    async fn work(&self, what: String, lock: Option<String>) {
        self.started.lock().unwrap().push(what.clone());
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        if let Some(l) = &lock {
            let mut m = self.per_lock.lock().unwrap();
            let c = m.entry(l.clone()).or_default();
            *c += 1;
            if *c > 1 {
                self.lock_violations.fetch_add(1, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(l) = &lock {
            *self.per_lock.lock().unwrap().get_mut(l).unwrap() -= 1;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(what);
    }
}

#[async_trait]
impl Provider for FakeCloud {
    fn name(&self) -> &str {
        "fake"
    }
    fn resource_types(&self) -> &[ResourceType] {
        &self.types
    }
    fn validate(&self, _: &str, _: &Value) -> Vec<ProviderDiagnostic> {
        Vec::new()
    }
    fn plan_change(&self, r: PlanChangeRequest<'_>) -> PlanChangeResponse {
        let mut planned = r.proposed;
        if let (Value::Object(m), Some(name)) = (&mut planned, r.config.get("name").as_str()) {
            m.insert("id".into(), Value::String(format!("/things/{name}")));
        }
        PlanChangeResponse {
            planned,
            replace: r.replace,
            ..Default::default()
        }
    }
    fn object_id(&self, _: &str, v: &Value) -> Option<String> {
        v.get("id").as_str().map(str::to_string)
    }
    fn lock_keys(&self, _: &str, v: &Value) -> Vec<String> {
        v.get("parent")
            .as_str()
            .map(|p| vec![p.to_string()])
            .unwrap_or_default()
    }
    fn expected_duration(&self, type_name: &str, _: apply::OpKind) -> Option<Duration> {
        (type_name == "fake_vm").then(|| Duration::from_secs(3600))
    }
    async fn read(
        &self,
        _: &str,
        prior: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        Ok(Some(prior.clone()))
    }
    async fn create(
        &self,
        _: &str,
        planned: &Value,
        _: &OpContext,
    ) -> Result<serde_json::Value, ProviderError> {
        let name = planned.get("name").as_str().unwrap_or_default().to_string();
        self.work(
            format!("create {name}"),
            planned.get("parent").as_str().map(str::to_string),
        )
        .await;
        if planned.get("fail").as_bool() == Some(true) {
            return Err(ProviderError::new(ErrorKind::Invalid, "refused").with_code("BadRequest"));
        }
        Ok(planned.to_json())
    }
    async fn update(
        &self,
        _: &str,
        _: &serde_json::Value,
        planned: &Value,
        _: &OpContext,
    ) -> Result<serde_json::Value, ProviderError> {
        Ok(planned.to_json())
    }
    async fn delete(
        &self,
        _: &str,
        prior: &serde_json::Value,
        _: &OpContext,
    ) -> Result<(), ProviderError> {
        let name = prior["name"].as_str().unwrap_or_default().to_string();
        self.work(format!("delete {name}"), None).await;
        Ok(())
    }
}

struct MemStore(Mutex<Option<State>>, AtomicUsize);
impl StateStore for MemStore {
    fn load(&self) -> Result<Option<State>, StateError> {
        Ok(self.0.lock().unwrap().clone())
    }
    fn save(&self, s: &State) -> Result<(), StateError> {
        *self.0.lock().unwrap() = Some(s.clone());
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Events(Mutex<Vec<ApplyEvent>>);
impl Observer for Events {
    fn on_event(&self, e: ApplyEvent) {
        self.0.lock().unwrap().push(e);
    }
}

async fn run(
    hcl: &str,
    parallelism: usize,
    state: State,
) -> (Arc<FakeCloud>, apply::ApplyOutcome, Arc<MemStore>) {
    run_with(hcl, parallelism, state, None).await
}

async fn run_with(
    hcl: &str,
    parallelism: usize,
    state: State,
    interrupt: Option<apply::InterruptReceiver>,
) -> (Arc<FakeCloud>, apply::ApplyOutcome, Arc<MemStore>) {
    let (config, diags) = config::load(vec![SourceFile {
        name: "main.tf".into(),
        text: hcl.into(),
    }]);
    assert!(diags.is_empty(), "{diags:?}");
    let (graph, gd) = netform_engine::graph::build(&config);
    assert!(gd.is_empty(), "{gd:?}");
    let cloud = Arc::new(FakeCloud::new());
    let vars = BTreeMap::new();
    let (plan, pd) = plan::plan(
        &config,
        &graph,
        &vars,
        &state,
        cloud.as_ref(),
        &PlanOptions::default(),
    );
    let plan = plan.unwrap_or_else(|| panic!("{pd:?}"));
    let store = Arc::new(MemStore(Mutex::new(None), AtomicUsize::new(0)));
    let inputs = apply::ApplyInputs {
        config: Arc::new(config),
        vars: Arc::new(vars),
        state,
        provider: cloud.clone(),
        store: store.clone(),
        observer: Arc::new(Events(Mutex::new(Vec::new()))),
    };
    let options = ApplyOptions {
        parallelism,
        heartbeat: Duration::from_secs(60),
        interrupt,
        ..ApplyOptions::default()
    };
    let outcome = apply::apply(&plan, inputs, &options).await;
    (cloud, outcome, store)
}

fn many(n: usize, parent: Option<&str>) -> String {
    (0..n)
        .map(|i| {
            let p = parent
                .map(|p| format!("  parent = \"{p}\"\n"))
                .unwrap_or_default();
            format!("resource \"fake_thing\" \"t{i}\" {{\n  name = \"t{i}\"\n{p}}}\n")
        })
        .collect()
}

#[tokio::test]
async fn parallelism_is_capped() {
    let (cloud, outcome, store) = run(&many(12, None), 3, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(outcome.completed.len(), 12);
    assert!(cloud.max_running.load(Ordering::SeqCst) <= 3);
    assert!(
        cloud.max_running.load(Ordering::SeqCst) >= 2,
        "should run in parallel"
    );
    // Every journalled intent is written before its request (12 writes at least); results of
    // fast operations are coalesced into those writes and a final flush, never more than two
    // writes per operation.
    let writes = store.1.load(Ordering::SeqCst);
    assert!((12..=26).contains(&writes), "{writes} state writes");
    let saved = store.0.lock().unwrap().clone().unwrap();
    assert_eq!(
        saved.addresses().count(),
        12,
        "the final write holds every result"
    );
    assert!(saved.pending.is_empty(), "the journal is empty at the end");
}

#[tokio::test]
async fn operations_sharing_a_lock_key_never_overlap() {
    let (cloud, outcome, _) = run(&many(8, Some("gateway-1")), 10, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(cloud.lock_violations.load(Ordering::SeqCst), 0);
    assert_eq!(cloud.max_running.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failure_skips_dependents_while_independent_branches_finish() {
    let hcl = r#"
resource "fake_thing" "bad" {
  name = "bad"
  fail = true
}
resource "fake_thing" "child" {
  name = "child-of-${fake_thing.bad.name}"
}
resource "fake_thing" "grandchild" {
  name = fake_thing.child.id
}
resource "fake_thing" "independent" {
  name = "independent"
}
"#;
    let (_, outcome, store) = run(hcl, 10, State::new("l".into())).await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.errors.len(), 1);
    let skipped: Vec<String> = outcome.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped, vec!["fake_thing.child", "fake_thing.grandchild"]);
    let saved = store.0.lock().unwrap().clone().unwrap();
    let addrs: Vec<String> = saved.addresses().map(|a| a.to_string()).collect();
    assert_eq!(addrs, vec!["fake_thing.independent"]);
}

#[tokio::test]
async fn deletes_run_in_reverse_dependency_order() {
    // Apply a chain, then remove it from the configuration: children go first.
    let hcl = r#"
resource "fake_thing" "a" {
  name = "a"
}
resource "fake_thing" "b" {
  name = "b-${fake_thing.a.name}"
}
resource "fake_thing" "c" {
  name = "c-${fake_thing.b.id}"
}
"#;
    let (_, outcome, _) = run(hcl, 10, State::new("l".into())).await;
    assert!(outcome.succeeded());
    let state = outcome.state;
    let (cloud, outcome, _) = run("", 10, state).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    let log = cloud.log.lock().unwrap().clone();
    let pos = |n: &str| log.iter().position(|l| l == n).unwrap();
    assert!(pos("delete c-/things/b-a") < pos("delete b-a"), "{log:?}");
    assert!(pos("delete b-a") < pos("delete a"), "{log:?}");
}

#[tokio::test]
async fn the_journal_is_empty_after_a_complete_run() {
    let (_, outcome, store) = run(&many(5, None), 2, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert!(outcome.state.pending.is_empty());
    let saved = store.0.lock().unwrap().clone().unwrap();
    assert!(
        saved.pending.is_empty(),
        "the last write cleared the journal"
    );
}

#[tokio::test]
async fn stop_starts_nothing_new_and_lets_running_operations_finish() {
    let (tx, rx) = apply::interrupt_channel();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _ = tx.send(apply::Interrupt::Stop);
        tx
    });
    let (cloud, outcome, _) = run_with(&many(12, None), 3, State::new("l".into()), Some(rx)).await;
    let _tx = stopper.await.unwrap();
    assert_eq!(outcome.interrupted, apply::Interrupt::Stop);
    assert!(!outcome.succeeded());
    // Those running when the stop came (at most the 3 slots; normally exactly 3) finished
    // and are recorded; the rest never began.
    let done = outcome.completed.len();
    assert!(done <= 3, "{:?}", outcome.completed);
    assert_eq!(done + outcome.not_started.len(), 12);
    assert!(outcome.abandoned.is_empty());
    assert_eq!(cloud.log.lock().unwrap().len(), done);
    assert_eq!(outcome.state.addresses().count(), done);
    assert!(outcome.state.pending.is_empty());
}

#[tokio::test]
async fn abort_stops_waiting_and_leaves_running_operations_in_the_journal() {
    let (tx, rx) = apply::interrupt_channel();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _ = tx.send(apply::Interrupt::Stop);
        let _ = tx.send(apply::Interrupt::Abort);
        tx
    });
    let (_, outcome, store) = run_with(&many(12, None), 3, State::new("l".into()), Some(rx)).await;
    let _tx = stopper.await.unwrap();
    assert_eq!(outcome.interrupted, apply::Interrupt::Abort);
    assert!(outcome.abandoned.len() <= 3, "{:?}", outcome.abandoned);
    let journalled: Vec<String> = outcome
        .state
        .pending
        .iter()
        .map(|p| p.address.clone())
        .collect();
    let abandoned: Vec<String> = outcome.abandoned.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        journalled, abandoned,
        "each abandoned operation is journalled"
    );
    // The journal reached the store before the requests were sent.
    if !outcome.abandoned.is_empty() {
        let saved = store.0.lock().unwrap().clone().unwrap();
        assert!(!saved.pending.is_empty());
    }
}

#[tokio::test]
async fn the_longest_operation_starts_first_when_slots_are_scarce() {
    // Four quick things and one slow VM, all ready at once, one slot: the VM (an hour,
    // against the default for the others) starts first although it sorts last by address.
    let hcl = format!(
        "{}resource \"fake_vm\" \"big\" {{\n  name = \"big\"\n}}\n",
        many(4, None)
    );
    let (cloud, outcome, _) = run(&hcl, 1, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(
        *cloud.started.lock().unwrap(),
        [
            "create big",
            "create t0",
            "create t1",
            "create t2",
            "create t3"
        ]
    );
}

#[tokio::test]
async fn the_longest_remaining_chain_starts_first() {
    // `z_head` is quick but the slow VM waits for it: its chain is the longest, so it goes
    // first, then the VM; the independent quick ones follow in address order.
    let hcl = r#"
resource "fake_thing" "a" {
  name = "a"
}
resource "fake_thing" "b" {
  name = "b"
}
resource "fake_thing" "z_head" {
  name = "z_head"
}
resource "fake_vm" "tail" {
  name   = "tail"
  parent = fake_thing.z_head.name
}
"#;
    let (cloud, outcome, _) = run(hcl, 1, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(
        *cloud.started.lock().unwrap(),
        ["create z_head", "create tail", "create a", "create b"]
    );
}

#[tokio::test]
async fn a_locked_operation_waits_without_losing_its_turn() {
    // Two slow VMs share a lock key, quick things do not: with two slots the first VM and a
    // quick thing run; the second VM starts as soon as the lock is free, before the rest.
    let mut hcl = many(3, None);
    for v in ["vm1", "vm2"] {
        hcl.push_str(&format!(
            "resource \"fake_vm\" \"{v}\" {{\n  name   = \"{v}\"\n  parent = \"gw\"\n}}\n"
        ));
    }
    let (cloud, outcome, _) = run(&hcl, 2, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(cloud.lock_violations.load(Ordering::SeqCst), 0);
    let started = cloud.started.lock().unwrap().clone();
    assert_eq!(started[..2], ["create vm1", "create t0"]);
    let vm2 = started.iter().position(|s| s == "create vm2").unwrap();
    assert!(
        vm2 <= 3,
        "vm2 starts when vm1 releases the lock: {started:?}"
    );
    assert_eq!(started.len(), 5);
}

#[tokio::test]
async fn short_feeders_of_a_contended_lock_start_before_long_operations() {
    // Four slow gateways and two slots; each gateway's connection queues on one circuit's
    // lock, and the circuit must exist first. Critical path would start two gateways and
    // leave the circuit and all four connections for the end; the walker replays both rules
    // with the expected durations and feeds the circuit first.
    let mut hcl = String::from(
        "resource \"fake_thing\" \"circuit\" {\n  name   = \"circuit\"\n  parent = \"erc\"\n}\n",
    );
    for i in 0..4 {
        hcl.push_str(&format!(
            "resource \"fake_vm\" \"gw{i}\" {{\n  name = \"gw{i}\"\n}}\n\
             resource \"fake_thing\" \"conn{i}\" {{\n  name       = \"conn{i}\"\n  parent     = \"erc\"\n  depends_on = [fake_vm.gw{i}, fake_thing.circuit]\n}}\n"
        ));
    }
    let (cloud, outcome, _) = run(&hcl, 2, State::new("l".into())).await;
    assert!(outcome.succeeded());
    assert_eq!(cloud.lock_violations.load(Ordering::SeqCst), 0);
    let started = cloud.started.lock().unwrap().clone();
    assert_eq!(
        started[..2],
        ["create circuit", "create gw0"],
        "{started:?}"
    );
    assert_eq!(started.len(), 9);
}
