//! Remote state backends against real servers: `azurerm` on Azurite (Azure Blob Storage
//! emulator) and `pg` on PostgreSQL. First the store contract (save/load, locks, who holds
//! them, force-unlock), then the real binary with a `backend` block.

mod common;
mod servers;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, Emulator, Project};
use netform_backends::azurerm::{AzureBlobStore, BlobLocation};
use netform_backends::pg::{PgOptions, PgStore};
use netform_engine::state::{LockInfo, State, StateError, StateStore};

const NETWORK: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}

resource "azurerm_virtual_network" "vnet" {
  name                = "vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.0.0.0/16"]
}
"#;

fn info(id: &str, who: &str) -> LockInfo {
    LockInfo {
        id: id.into(),
        operation: "apply".into(),
        who: who.into(),
        version: "test".into(),
        created: "2026-11-23T10:00:00Z".into(),
        path: "test".into(),
        ..LockInfo::default()
    }
}

fn sample_state() -> State {
    let mut s = State::new("lineage-1".into());
    s.set(
        &netform_engine::addr::ResourceAddress::new("azurerm_resource_group", "rg"),
        "registry.terraform.io/hashicorp/azurerm",
        serde_json::json!({"id": "/subscriptions/x/resourceGroups/rg", "name": "rg"}),
        vec![],
        vec![],
    );
    s.serial = 7;
    s
}

/// The contract every store keeps, run against two handles on the same remote state.
fn store_contract(a: &dyn StateStore, b: &dyn StateStore) {
    assert!(a.load().expect("load").is_none(), "starts empty");
    let s = sample_state();
    a.save(&s).expect("save");
    assert_eq!(b.load().expect("load").expect("state"), s);

    let id_a = a
        .lock(&info(
            "6f1c7a52-0000-4000-8000-000000000001",
            "alice@laptop",
        ))
        .expect("lock");
    // A second run fails fast and sees who holds it.
    match b.lock(&info("6f1c7a52-0000-4000-8000-000000000002", "bob@ci")) {
        Err(StateError::Locked(held)) => {
            assert_eq!(held.who, "alice@laptop");
            assert_eq!(held.id, id_a);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(
        b.lock_info().expect("info").map(|i| i.who),
        Some("alice@laptop".into())
    );
    // The holder keeps writing under its lock.
    let mut s2 = s.clone();
    s2.serial += 1;
    a.save(&s2).expect("save under lock");
    assert_eq!(b.load().expect("load").expect("state").serial, 8);
    // A wrong id does not unlock.
    assert!(matches!(
        b.force_unlock("not-the-id"),
        Err(StateError::LockMismatch { .. })
    ));
    a.unlock(&id_a).expect("unlock");
    assert!(b.lock_info().expect("info").is_none());
    let id_b = b
        .lock(&info("6f1c7a52-0000-4000-8000-000000000003", "bob@ci"))
        .expect("lock after release");
    // force-unlock from elsewhere (the holder is gone for good).
    a.force_unlock(&id_b).expect("force-unlock");
    a.lock(&info(
        "6f1c7a52-0000-4000-8000-000000000004",
        "alice@laptop",
    ))
    .expect("lock after force-unlock");
}

/// Stores with a journal: an appended intent is seen by every handle's `load` until a save
/// writes the state, and a save clears the journal (the state it writes is what counts).
/// `supported`: whether this store journals (the others ask for a whole save).
fn journal_contract(a: &dyn StateStore, b: &dyn StateStore, supported: bool) {
    let op: netform_engine::state::PendingOp = serde_json::from_value(serde_json::json!({
        "address": "azurerm_virtual_network.vnet",
        "operation": "create",
        "id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet",
        "provider": "registry.terraform.io/hashicorp/azurerm",
        "attributes": {"name": "vnet"},
    }))
    .expect("op");
    assert_eq!(a.append_pending(&op).expect("append"), supported);
    if !supported {
        return;
    }
    let loaded = b.load().expect("load").expect("state");
    assert_eq!(
        loaded.pending,
        vec![op.clone()],
        "the intent is seen by another handle"
    );
    // A save of a state without the intent clears the journal with it.
    let mut s = loaded.clone();
    s.pending.clear();
    a.save(&s).expect("save");
    assert!(b.load().expect("load").expect("state").pending.is_empty());
}

fn blob_location(endpoint: &str, container: &str) -> BlobLocation {
    BlobLocation::with_access_key(
        endpoint,
        servers::AZURITE_ACCOUNT,
        container,
        "prod.tfstate",
        servers::AZURITE_KEY,
    )
}

fn create_container(loc: &BlobLocation) {
    let client = loc.container_client().expect("container client");
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(client.create(None))
        .expect("create container");
}

#[test]
fn azurerm_store_keeps_the_contract_on_azurite() {
    let Some(azurite) = servers::azurite() else {
        return;
    };
    let container = servers::unique("c");
    let loc = blob_location(&azurite.endpoint, &container);
    create_container(&loc);
    let a = AzureBlobStore::new(loc.clone()).expect("store");
    let b = AzureBlobStore::new(loc.clone()).expect("store");
    store_contract(&a, &b);
    journal_contract(&a, &AzureBlobStore::new(loc).expect("store"), true);
    // Without the lease nobody else can write.
    let mut s = sample_state();
    s.serial = 99;
    assert!(b.save(&s).is_err(), "a write without the lease is refused");
}

#[test]
fn pg_store_keeps_the_contract_and_a_dead_session_frees_the_lock() {
    let Some(pg) = servers::postgres() else {
        return;
    };
    let schema = servers::unique("s");
    let open = || {
        PgStore::connect(PgOptions {
            conn_str: pg.conn_str.clone(),
            schema: schema.clone(),
            skip_schema_creation: false,
            skip_table_creation: false,
            skip_index_creation: false,
        })
        .expect("connect")
    };
    let a = open();
    let b = open();
    store_contract(&a, &b);
    journal_contract(&a, &open(), true);
    // force-unlock ended `b`'s session. `a` holds the lock now; when its session ends (the
    // process dies), the lock goes with it.
    drop(b);
    drop(a);
    let c = open();
    let mut freed = false;
    for _ in 0..50 {
        match c.lock(&info("6f1c7a52-0000-4000-8000-000000000005", "bob@ci")) {
            Ok(_) => {
                freed = true;
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    assert!(freed, "the lock of a closed session is released");
}

// ---------------------------------------------------------------------------------------
// Through the binary

fn with_backend(block: &str) -> Project {
    Project::from_files(&[("main.tf", &format!("terraform {{\n{block}\n}}\n{NETWORK}"))])
}

#[test]
fn pg_backend_end_to_end_with_locking() {
    let Some(pg) = servers::postgres() else {
        return;
    };
    let schema = servers::unique("e");
    let p = with_backend(&format!(
        "  backend \"pg\" {{\n    schema_name = \"{schema}\"\n  }}"
    ));
    let env = [("PG_CONN_STR", pg.conn_str.as_str())];
    let emu = Emulator::start();
    let run = p
        .run_env(Some(&emu), &["apply", "--auto-approve"], &env)
        .ok();
    assert!(run.stdout.contains("2 added"), "{}", run.stdout);
    assert!(!p.state_path().exists(), "no local state file");
    assert!(
        !run.stdout.contains("postgres://") && !run.stderr.contains("postgres://"),
        "the connection string is never printed"
    );
    let list = p.run_env(Some(&emu), &["state", "list"], &env).ok();
    assert_eq!(
        list.stdout.lines().collect::<Vec<_>>(),
        vec!["azurerm_resource_group.rg", "azurerm_virtual_network.vnet"]
    );
    let pulled: serde_json::Value =
        serde_json::from_str(&p.run_env(Some(&emu), &["state", "pull"], &env).ok().stdout)
            .expect("state pull is JSON");
    assert_eq!(pulled["version"], 4);

    // Another run holds the lock: apply fails fast with its info.
    let holder = PgStore::connect(PgOptions {
        conn_str: pg.conn_str.clone(),
        schema: schema.clone(),
        skip_schema_creation: true,
        skip_table_creation: true,
        skip_index_creation: true,
    })
    .expect("connect");
    let id = holder
        .lock(&info(
            "6f1c7a52-0000-4000-8000-0000000000aa",
            "carol@build-42",
        ))
        .expect("lock");
    let run = p.run_env(Some(&emu), &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("carol@build-42"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("netform force-unlock {id}")),
        "{}",
        run.stderr
    );
    p.run_env(Some(&emu), &["force-unlock", &id, "--force"], &env)
        .ok();
    let run = p.run_env(Some(&emu), &["plan", "--detailed-exitcode"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn azurerm_backend_end_to_end_and_the_lease_is_released_on_interrupt() {
    let Some(azurite) = servers::azurite() else {
        return;
    };
    let container = servers::unique("e");
    let loc = blob_location(&azurite.endpoint, &container);
    create_container(&loc);
    let p = Project::from_example("expressroute");
    p.write(
        "backend.tf",
        &format!(
            "terraform {{\n  backend \"azurerm\" {{\n    storage_account_name = \"{}\"\n    container_name       = \"{container}\"\n    key                  = \"prod.tfstate\"\n    endpoint             = \"{}\"\n  }}\n}}\n",
            servers::AZURITE_ACCOUNT,
            azurite.endpoint
        ),
    );
    let emu = Emulator::start_with(&["--time-scale", "600", "--auto-provision", "0"]);
    let child = Command::new(BIN)
        .arg("--chdir")
        .arg(p.path())
        .args(["apply", "--auto-approve"])
        .env("NO_COLOR", "1")
        .env("NETFORM_ARM_ENDPOINT", &emu.url)
        .env("ARM_ACCESS_KEY", servers::AZURITE_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let observer = AzureBlobStore::new(loc.clone()).expect("store");
    // Wait until the run holds the lease, then interrupt it.
    let mut locked = false;
    for _ in 0..200 {
        if observer.lock_info().expect("info").is_some() {
            locked = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(locked, "the apply leases the state blob");
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        observer.lock_info().expect("info").is_none(),
        "the lease is released on interrupt"
    );
    let saved = observer.load().expect("load").expect("state in the blob");
    assert!(saved.pending.is_empty());
    assert!(!p.state_path().exists(), "no local state file");
    // The next run finishes.
    let env = [("ARM_ACCESS_KEY", servers::AZURITE_KEY)];
    let run = p
        .run_env(Some(&emu), &["apply", "--auto-approve"], &env)
        .ok();
    assert!(run.stdout.contains("Apply complete!"), "{}", run.stdout);
    let state = observer.load().expect("load").expect("state");
    assert_eq!(state.addresses().count(), 8);
    assert!(observer.lock_info().expect("info").is_none());
}
