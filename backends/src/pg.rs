//! `backend "pg"`: state in PostgreSQL, in Terraform's pg backend schema.
//!
//! Arguments (Terraform's names): `conn_str` (or `PG_CONN_STR`), `schema_name` (default
//! `terraform_remote_state`, or `PG_SCHEMA_NAME`), `skip_schema_creation`,
//! `skip_table_creation`, `skip_index_creation`. The workspace is `default`.
//!
//! Tables: `states (id bigint default nextval('public.global_states_id_seq') primary key,
//! name text unique, data text)` as Terraform creates it, so the same database serves both
//! tools; `netform_locks (name, info)` for the lock info Terraform does not keep; and
//! `netform_journal (seq, name, op)`: apply's intents, one row each, instead of rewriting
//! the whole state before every request (which made large applies quadratic). `load` reads
//! them back into `pending`; a save replaces the state and clears them in one statement.
//! The lock is a session advisory lock keyed by the state row's id: a second session fails
//! fast, and a killed process's lock dies with its connection. `force-unlock ID` terminates
//! the session holding it.

use std::sync::{Arc, Mutex};

use netform_engine::backend_config::BackendConfig;
use netform_engine::state::{LockInfo, PendingOp, State, StateError, StateStore};
use tokio_postgres::{Client, NoTls};

use crate::bridge::Bridge;

pub const DEFAULT_SCHEMA: &str = "terraform_remote_state";
const WORKSPACE: &str = "default";

pub struct PgStore {
    client: Arc<Client>,
    schema: String,
    bridge: Bridge,
    /// (lock id, advisory key) while this process holds the lock.
    held: Mutex<Option<(String, i64)>>,
}

pub struct PgOptions {
    pub conn_str: String,
    pub schema: String,
    pub skip_schema_creation: bool,
    pub skip_table_creation: bool,
    pub skip_index_creation: bool,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn err(e: impl std::fmt::Display) -> StateError {
    StateError::Store(format!("pg backend: {e}"))
}

impl PgStore {
    pub fn from_config(c: &BackendConfig, env: crate::Env<'_>) -> Result<Self, String> {
        let conn_str = c
            .string("conn_str")
            .map(str::to_string)
            .or_else(|| env("PG_CONN_STR"))
            .ok_or("backend \"pg\": set conn_str or the PG_CONN_STR environment variable")?;
        let schema = c
            .string("schema_name")
            .map(str::to_string)
            .or_else(|| env("PG_SCHEMA_NAME"))
            .unwrap_or_else(|| DEFAULT_SCHEMA.into());
        Self::connect(PgOptions {
            conn_str,
            schema,
            skip_schema_creation: c.bool("skip_schema_creation").unwrap_or(false),
            skip_table_creation: c.bool("skip_table_creation").unwrap_or(false),
            skip_index_creation: c.bool("skip_index_creation").unwrap_or(false),
        })
    }

    pub fn connect(o: PgOptions) -> Result<Self, String> {
        let bridge = Bridge::new("pg")?;
        let schema = quote_ident(&o.schema);
        let conn_str = o.conn_str.clone();
        let setup_schema = schema.clone();
        let client = bridge
            .run(async move {
                let (client, connection) = tokio_postgres::connect(&conn_str, NoTls)
                    .await
                    // The connection string may hold a password: never echo it.
                    .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                let s = setup_schema;
                let mut sql = Vec::new();
                if !o.skip_schema_creation {
                    sql.push(format!("CREATE SCHEMA IF NOT EXISTS {s}"));
                }
                if !o.skip_table_creation {
                    sql.push("CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint".into());
                    sql.push(format!(
                        "CREATE TABLE IF NOT EXISTS {s}.states (id bigint NOT NULL DEFAULT nextval('public.global_states_id_seq') PRIMARY KEY, name text UNIQUE, data text)"
                    ));
                }
                if !o.skip_index_creation {
                    sql.push(format!("CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON {s}.states (name)"));
                }
                sql.push(format!(
                    "CREATE TABLE IF NOT EXISTS {s}.netform_locks (name text PRIMARY KEY, info text NOT NULL)"
                ));
                sql.push(format!(
                    "CREATE TABLE IF NOT EXISTS {s}.netform_journal (seq bigserial PRIMARY KEY, name text NOT NULL, op text NOT NULL)"
                ));
                for q in sql {
                    // Concurrent first runs race on CREATE … IF NOT EXISTS (PostgreSQL reports a
                    // catalog unique violation until the other session commits): retry a few
                    // times with a short backoff.
                    let mut attempt = 0u64;
                    loop {
                        match client.batch_execute(&q).await {
                            Ok(()) => break,
                            Err(e) if attempt >= 5 => {
                                return Err(format!("cannot prepare the pg backend schema: {e}"));
                            }
                            Err(_) => {
                                attempt += 1;
                                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                            }
                        }
                    }
                }
                Ok::<Client, String>(client)
            })??;
        Ok(PgStore {
            client: Arc::new(client),
            schema,
            bridge,
            held: Mutex::new(None),
        })
    }

    fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    ) -> Result<T, StateError> {
        self.bridge.run(fut).map_err(err)?.map_err(err)
    }

    fn parts(&self) -> (Arc<Client>, String) {
        (self.client.clone(), self.schema.clone())
    }

    /// The advisory-lock key of this workspace: its row id (the row is created if missing).
    fn lock_key(&self) -> Result<i64, StateError> {
        let (c, s) = self.parts();
        self.run(async move {
            c.execute(
                &format!("INSERT INTO {s}.states (name, data) VALUES ($1, NULL) ON CONFLICT (name) DO NOTHING"),
                &[&WORKSPACE],
            )
            .await?;
            let row = c
                .query_one(&format!("SELECT id FROM {s}.states WHERE name = $1"), &[&WORKSPACE])
                .await?;
            row.try_get::<_, i64>(0)
        })
    }

    fn stored_info(&self) -> Result<Option<LockInfo>, StateError> {
        let (c, s) = self.parts();
        let text = self.run(async move {
            let row = c
                .query_opt(
                    &format!("SELECT info FROM {s}.netform_locks WHERE name = $1"),
                    &[&WORKSPACE],
                )
                .await?;
            row.map(|r| r.try_get::<_, String>(0)).transpose()
        })?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Backend pids holding the advisory lock on `key` (bigint keys: classid = high 32
    /// bits, objid = low 32 bits, objsubid = 1).
    fn holders(&self, key: i64) -> Result<Vec<i32>, StateError> {
        let (c, _) = self.parts();
        let high = (key >> 32) as u32 as i64;
        let low = (key & 0xffff_ffff) as u32 as i64;
        self.run(async move {
            let rows = c
                .query(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
                    &[&high, &low],
                )
                .await?;
            rows.iter().map(|r| r.try_get::<_, i32>(0)).collect()
        })
    }
}

impl StateStore for PgStore {
    fn load(&self) -> Result<Option<State>, StateError> {
        let (c, s) = self.parts();
        let data = self.run(async move {
            let row = c
                .query_opt(
                    &format!("SELECT data FROM {s}.states WHERE name = $1"),
                    &[&WORKSPACE],
                )
                .await?;
            Ok(row.and_then(|r| r.try_get::<_, Option<String>>(0).ok().flatten()))
        })?;
        let mut state = match data {
            None => return Ok(None),
            Some(t) if t.trim().is_empty() => return Ok(None),
            Some(t) => State::from_json(&t).map_err(|e| match e {
                StateError::Corrupt(m) => StateError::Corrupt(format!("{}: {m}", self.describe())),
                other => other,
            })?,
        };
        let (c, s) = self.parts();
        let ops = self.run(async move {
            let rows = c
                .query(
                    &format!("SELECT op FROM {s}.netform_journal WHERE name = $1 ORDER BY seq"),
                    &[&WORKSPACE],
                )
                .await?;
            rows.iter()
                .map(|r| r.try_get::<_, String>(0))
                .collect::<Result<Vec<_>, _>>()
        })?;
        for (i, op) in ops.iter().enumerate() {
            let op = serde_json::from_str(op).map_err(|e| {
                StateError::Corrupt(format!("{}: journal entry {}: {e}", self.describe(), i + 1))
            })?;
            state.add_pending(op);
        }
        Ok(Some(state))
    }

    /// One statement: the row is replaced whole or not at all, and the journal it now holds
    /// is cleared with it.
    fn save(&self, state: &State) -> Result<(), StateError> {
        let (c, s) = self.parts();
        let text = state.to_json();
        self.run(async move {
            c.execute(
                &format!(
                    "WITH cleared AS (DELETE FROM {s}.netform_journal WHERE name = $1) \
                     INSERT INTO {s}.states (name, data) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data"
                ),
                &[&WORKSPACE, &text],
            )
            .await
            .map(|_| ())
        })
    }

    /// One row, committed before the request it describes is sent. Before the first save
    /// there is no state to hold the journal's place: the caller saves the whole state.
    fn append_pending(&self, op: &PendingOp) -> Result<bool, StateError> {
        let (c, s) = self.parts();
        let text = serde_json::to_string(op).map_err(err)?;
        let added = self.run(async move {
            c.execute(
                &format!(
                    "INSERT INTO {s}.netform_journal (name, op) SELECT $1, $2 \
                     WHERE EXISTS (SELECT 1 FROM {s}.states WHERE name = $1 AND data IS NOT NULL)"
                ),
                &[&WORKSPACE, &text],
            )
            .await
        })?;
        Ok(added == 1)
    }

    fn lock(&self, info: &LockInfo) -> Result<String, StateError> {
        let key = self.lock_key()?;
        let (c, s) = self.parts();
        let info_text = serde_json::to_string(info).map_err(err)?;
        let got = self.run(async move {
            let row = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?;
            let got: bool = row.try_get(0)?;
            if got {
                c.execute(
                    &format!(
                        "INSERT INTO {s}.netform_locks (name, info) VALUES ($1, $2) \
                         ON CONFLICT (name) DO UPDATE SET info = EXCLUDED.info"
                    ),
                    &[&WORKSPACE, &info_text],
                )
                .await?;
            }
            Ok(got)
        })?;
        if got {
            *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some((info.id.clone(), key));
            return Ok(info.id.clone());
        }
        let held = self.stored_info()?.unwrap_or_else(|| LockInfo {
            info: "held by another PostgreSQL session (no lock info recorded)".into(),
            path: self.describe(),
            ..LockInfo::default()
        });
        Err(StateError::Locked(Box::new(held)))
    }

    fn unlock(&self, id: &str) -> Result<(), StateError> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some((held_id, key)) = held.filter(|(h, _)| h == id) else {
            return Err(StateError::LockMismatch {
                given: id.to_string(),
                held: self.stored_info()?.map(Box::new),
            });
        };
        let (c, s) = self.parts();
        self.run(async move {
            c.execute(
                &format!("DELETE FROM {s}.netform_locks WHERE name = $1"),
                &[&WORKSPACE],
            )
            .await?;
            c.query_one("SELECT pg_advisory_unlock($1)", &[&key])
                .await?;
            Ok(())
        })?;
        let _ = held_id;
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        let key = self.lock_key()?;
        if self.holders(key)?.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.stored_info()?.unwrap_or_default()))
    }

    /// End the session that holds the lock (its advisory lock dies with it).
    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let info = self.lock_info()?;
        if info.as_ref().map(|i| i.id.as_str()) != Some(id) {
            return Err(StateError::LockMismatch {
                given: id.to_string(),
                held: info.map(Box::new),
            });
        }
        let key = self.lock_key()?;
        let pids = self.holders(key)?;
        let (c, s) = self.parts();
        self.run(async move {
            for pid in pids {
                c.query_one("SELECT pg_terminate_backend($1)", &[&pid])
                    .await?;
            }
            c.execute(
                &format!("DELETE FROM {s}.netform_locks WHERE name = $1"),
                &[&WORKSPACE],
            )
            .await
            .map(|_| ())
        })
    }

    fn describe(&self) -> String {
        // Never the connection string: it may hold a password.
        format!("pg: schema {} (workspace {WORKSPACE})", self.schema)
    }
}
