//! `backend "azurerm"`: state in one blob of Azure Blob Storage.
//!
//! Arguments (Terraform's names): `storage_account_name`, `container_name`, `key` (the blob
//! name), `access_key` (or `ARM_ACCESS_KEY`), `sas_token` (or `ARM_SAS_TOKEN`), and netform's
//! `endpoint` (the blob service URL, default `https://ACCOUNT.blob.core.windows.net`; point it
//! at Azurite for local work). `resource_group_name`/`subscription_id` are accepted and
//! unused. With an `access_key`, a short-lived account SAS is signed locally per request.
//!
//! Locking follows Terraform: an infinite lease on the blob (created empty if missing) is the
//! lock; the lease id is the lock id; the lock info JSON (base64) is the blob metadata key
//! `terraformlockid`. Every write carries the lease id, so only the holder can write.
//!
//! Apply's intents go to an append blob beside the state, `KEY.journal`, one JSON line per
//! block, instead of a rewrite of the whole state before every request (which made large
//! applies quadratic). `load` reads them back into `pending`; a save deletes the journal
//! blob once the state blob holds them. Only the lock holder appends: the lease guards both.

use std::collections::HashMap;
use std::sync::Mutex;

use azure_core::http::{RequestContent, StatusCode};
use azure_storage_blob::BlobClient;
use azure_storage_blob::models::{
    BlobClientAcquireLeaseOptions, BlobClientAcquireLeaseResultHeaders,
    BlobClientBreakLeaseOptions, BlobClientGetPropertiesResultHeaders,
    BlobClientSetMetadataOptions, BlobClientUploadOptions, LeaseStatus,
};
use base64::Engine as _;
use netform_engine::backend_config::BackendConfig;
use netform_engine::state::{LockInfo, PendingOp, State, StateError, StateStore};

use crate::bridge::Bridge;

/// Metadata key of the lock info, as Terraform's azurerm backend names it.
pub const LOCK_META_KEY: &str = "terraformlockid";

#[derive(Clone)]
enum Auth {
    Sas(String),
    Key(String),
}

/// Where the blob is and how to reach it.
#[derive(Clone)]
pub struct BlobLocation {
    /// `https://ACCOUNT.blob.core.windows.net` or `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: String,
    pub account: String,
    pub container: String,
    pub key: String,
    auth: Auth,
}

impl BlobLocation {
    pub fn with_access_key(
        endpoint: &str,
        account: &str,
        container: &str,
        key: &str,
        access_key: &str,
    ) -> Self {
        BlobLocation {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            account: account.into(),
            container: container.into(),
            key: key.into(),
            auth: Auth::Key(access_key.into()),
        }
    }

    fn query(&self) -> Result<String, String> {
        match &self.auth {
            Auth::Sas(s) => Ok(s.trim_start_matches('?').to_string()),
            Auth::Key(k) => {
                let now = crate::now_secs();
                crate::sas::account_sas(&self.account, k, now.saturating_sub(300), now + 3600)
            }
        }
    }

    fn url(&self, path: &str) -> Result<url::Url, String> {
        let enc = |s: &str| {
            s.split('/')
                .map(|seg| {
                    url::form_urlencoded::byte_serialize(seg.as_bytes())
                        .collect::<String>()
                        .replace('+', "%20")
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        let text = format!("{}/{}?{}", self.endpoint, enc(path), self.query()?);
        url::Url::parse(&text)
            .map_err(|e| format!("invalid storage URL for {}: {e}", self.describe()))
    }

    fn blob(&self) -> Result<BlobClient, String> {
        self.blob_named(&self.key)
    }

    /// The append blob of apply's intents, beside the state blob.
    fn journal(&self) -> Result<BlobClient, String> {
        self.blob_named(&format!("{}.journal", self.key))
    }

    fn blob_named(&self, name: &str) -> Result<BlobClient, String> {
        BlobClient::new(
            self.url(&format!("{}/{}", self.container, name))?,
            None,
            None,
        )
        .map_err(|e| e.to_string())
    }

    /// A client for the container (tests create it; netform does not, like Terraform).
    pub fn container_client(&self) -> Result<azure_storage_blob::BlobContainerClient, String> {
        azure_storage_blob::BlobContainerClient::new(self.url(&self.container)?, None, None)
            .map_err(|e| e.to_string())
    }

    pub fn describe(&self) -> String {
        format!(
            "azurerm: {}/{}/{} ({})",
            self.account, self.container, self.key, self.endpoint
        )
    }
}

pub struct AzureBlobStore {
    loc: BlobLocation,
    bridge: Bridge,
    /// The lease this process holds.
    lease: Mutex<Option<String>>,
    /// A state was loaded or saved through this handle: intents may go to the journal
    /// (before that there is no state to hold its place, and the caller saves the whole).
    has_state: std::sync::atomic::AtomicBool,
}

fn store_err(loc: &BlobLocation, what: &str, e: impl std::fmt::Display) -> StateError {
    StateError::Store(format!("{what} {}: {e}", loc.describe()))
}

impl AzureBlobStore {
    pub fn new(loc: BlobLocation) -> Result<Self, String> {
        Ok(AzureBlobStore {
            loc,
            bridge: Bridge::new("azurerm")?,
            lease: Mutex::new(None),
            has_state: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn from_config(c: &BackendConfig, env: crate::Env<'_>) -> Result<Self, String> {
        let req = |name: &str| {
            c.string(name)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("backend \"azurerm\": the \"{name}\" argument is required"))
        };
        let account = req("storage_account_name")?;
        let container = req("container_name")?;
        let key = req("key")?;
        let endpoint = c
            .string("endpoint")
            .map(str::to_string)
            .or_else(|| env("ARM_STORAGE_ENDPOINT"))
            .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
        let auth = if let Some(sas) = c
            .string("sas_token")
            .map(str::to_string)
            .or_else(|| env("ARM_SAS_TOKEN"))
        {
            Auth::Sas(sas)
        } else if let Some(k) = c
            .string("access_key")
            .map(str::to_string)
            .or_else(|| env("ARM_ACCESS_KEY"))
        {
            Auth::Key(k)
        } else {
            return Err(
                "backend \"azurerm\": no credentials: set ARM_ACCESS_KEY (the storage account key) or ARM_SAS_TOKEN \
                 (or the access_key / sas_token arguments). Entra ID (use_azuread_auth) is not supported yet."
                    .into(),
            );
        };
        Self::new(BlobLocation {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            account,
            container,
            key,
            auth,
        })
    }

    /// A blob's content, `None` when it does not exist.
    fn download(&self, blob: BlobClient, what: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.bridge
            .run(async move {
                match blob.download(None).await {
                    Ok(r) => r
                        .body
                        .collect()
                        .await
                        .map(|b| Some(b.to_vec()))
                        .map_err(|e| e.to_string()),
                    Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(None),
                    Err(e) => Err(e.to_string()),
                }
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, what, e))
    }

    /// Intents appended since the last save (none when the journal blob does not exist).
    fn read_journal(&self) -> Result<Vec<PendingOp>, StateError> {
        let journal = self.loc.journal().map_err(StateError::Store)?;
        let bytes = self
            .download(journal, "cannot read the journal of")?
            .unwrap_or_default();
        netform_engine::state::parse_journal(&String::from_utf8_lossy(&bytes))
            .map_err(|e| StateError::Corrupt(format!("{} journal {e}", self.loc.describe())))
    }

    fn held(&self) -> Option<String> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Lease status and the lock info in metadata (`None` if the blob does not exist).
    fn properties(&self) -> Result<Option<(bool, Option<LockInfo>)>, StateError> {
        let blob = self.loc.blob().map_err(StateError::Store)?;
        let res = self
            .bridge
            .run(async move {
                match blob.get_properties(None).await {
                    Ok(r) => {
                        let locked = matches!(r.lease_status(), Ok(Some(LeaseStatus::Locked)));
                        let meta = r.metadata().unwrap_or_default();
                        Ok(Some((locked, meta)))
                    }
                    Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(None),
                    Err(e) => Err(e.to_string()),
                }
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, "cannot read the properties of", e))?;
        Ok(res.map(|(locked, meta)| (locked, decode_info(&meta))))
    }
}

fn encode_info(info: &LockInfo) -> HashMap<String, String> {
    let json = serde_json::to_string(info).unwrap_or_default();
    HashMap::from([(
        LOCK_META_KEY.to_string(),
        base64::engine::general_purpose::STANDARD.encode(json),
    )])
}

fn decode_info(meta: &HashMap<String, String>) -> Option<LockInfo> {
    let v = meta
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(LOCK_META_KEY))
        .map(|(_, v)| v)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl StateStore for AzureBlobStore {
    fn load(&self) -> Result<Option<State>, StateError> {
        let blob = self.loc.blob().map_err(StateError::Store)?;
        match self.download(blob, "cannot read")? {
            None => Ok(None),
            Some(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Some(b) => {
                let text = String::from_utf8(b).map_err(|_| {
                    StateError::Corrupt(format!("{} is not UTF-8", self.loc.describe()))
                })?;
                let mut state = State::from_json(&text).map_err(|e| match e {
                    StateError::Corrupt(m) => {
                        StateError::Corrupt(format!("{}: {m}", self.loc.describe()))
                    }
                    other => other,
                })?;
                for op in self.read_journal()? {
                    state.add_pending(op);
                }
                self.has_state
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(Some(state))
            }
        }
    }

    fn save(&self, state: &State) -> Result<(), StateError> {
        let blob = self.loc.blob().map_err(StateError::Store)?;
        let body = state.to_json().into_bytes();
        let lease = self.held();
        // An upload replaces the metadata: keep the lock info on it while we hold the lock.
        let metadata = match &lease {
            Some(_) => self
                .properties()?
                .and_then(|(_, i)| i)
                .map(|i| encode_info(&i)),
            None => None,
        };
        self.bridge
            .run(async move {
                let options = BlobClientUploadOptions {
                    lease_id: lease,
                    metadata,
                    blob_content_type: Some("application/json".into()),
                    ..Default::default()
                };
                blob.upload(RequestContent::from(body), Some(options))
                    .await
                    .map(|_| ())
                    .map_err(|e| match e.http_status() {
                        Some(StatusCode::PreconditionFailed) => {
                            format!("the blob is leased by another run (lock lost?): {e}")
                        }
                        _ => e.to_string(),
                    })
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, "cannot write", e))?;
        self.has_state
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // The state just written holds every intent still pending.
        let journal = self.loc.journal().map_err(StateError::Store)?;
        self.bridge
            .run(async move {
                match journal.delete(None).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, "cannot clear the journal of", e))
    }

    /// One append block per intent; the append blob is created on first use.
    fn append_pending(&self, op: &PendingOp) -> Result<bool, StateError> {
        if !self.has_state.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(false);
        }
        let journal = self.loc.journal().map_err(StateError::Store)?;
        let line = netform_engine::state::journal_line(op).into_bytes();
        self.bridge
            .run(async move {
                let append = journal.append_blob_client();
                let len = line.len() as u64;
                match append
                    .append_block(RequestContent::from(line.clone()), len, None)
                    .await
                {
                    Ok(_) => return Ok(()),
                    Err(e) if e.http_status() == Some(StatusCode::NotFound) => {}
                    Err(e) => return Err(e.to_string()),
                }
                append.create(None).await.map_err(|e| e.to_string())?;
                append
                    .append_block(RequestContent::from(line), len, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, "cannot append to the journal of", e))?;
        Ok(true)
    }

    fn lock(&self, info: &LockInfo) -> Result<String, StateError> {
        let blob = self.loc.blob().map_err(StateError::Store)?;
        let proposed = info.id.clone();
        let meta = encode_info(info);
        let result = self
            .bridge
            .run(async move {
                // The blob must exist to be leased: create it empty (never overwrite).
                let create = BlobClientUploadOptions::default().if_not_exists();
                match blob
                    .upload(RequestContent::from(Vec::new()), Some(create))
                    .await
                {
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.http_status(),
                            Some(StatusCode::Conflict) | Some(StatusCode::PreconditionFailed)
                        ) => {}
                    Err(e) => return Err(Some(e.to_string())),
                }
                let lease = match blob
                    .acquire_lease(
                        -1,
                        Some(BlobClientAcquireLeaseOptions {
                            proposed_lease_id: Some(proposed),
                            ..Default::default()
                        }),
                    )
                    .await
                {
                    Ok(r) => r.lease_id().ok().flatten().unwrap_or_default(),
                    Err(e) if e.http_status() == Some(StatusCode::Conflict) => return Err(None),
                    Err(e) => return Err(Some(e.to_string())),
                };
                let opts = BlobClientSetMetadataOptions {
                    lease_id: Some(lease.clone()),
                    ..Default::default()
                };
                if let Err(e) = blob.set_metadata(&meta, Some(opts)).await {
                    let _ = blob.release_lease(lease.clone(), None).await;
                    return Err(Some(e.to_string()));
                }
                Ok(lease)
            })
            .map_err(StateError::Store)?;
        match result {
            Ok(lease) => {
                *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease.clone());
                Ok(lease)
            }
            Err(None) => {
                let held = self
                    .properties()?
                    .and_then(|(_, i)| i)
                    .unwrap_or_else(|| LockInfo {
                        info: "the state blob is leased (no lock info in its metadata)".into(),
                        path: self.loc.describe(),
                        ..LockInfo::default()
                    });
                Err(StateError::Locked(Box::new(held)))
            }
            Err(Some(e)) => Err(store_err(&self.loc, "cannot lock", e)),
        }
    }

    fn unlock(&self, id: &str) -> Result<(), StateError> {
        let blob = self.loc.blob().map_err(StateError::Store)?;
        let lease = id.to_string();
        let result = self
            .bridge
            .run(async move {
                let opts = BlobClientSetMetadataOptions {
                    lease_id: Some(lease.clone()),
                    ..Default::default()
                };
                if let Err(e) = blob.set_metadata(&HashMap::new(), Some(opts)).await {
                    return Err((e.http_status(), e.to_string()));
                }
                blob.release_lease(lease, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.http_status(), e.to_string()))
            })
            .map_err(StateError::Store)?;
        match result {
            Ok(()) => {
                let mut held = self.lease.lock().unwrap_or_else(|p| p.into_inner());
                if held.as_deref() == Some(id) {
                    *held = None;
                }
                Ok(())
            }
            Err((Some(StatusCode::Conflict | StatusCode::PreconditionFailed), _)) => {
                Err(StateError::LockMismatch {
                    given: id.to_string(),
                    held: self.properties()?.and_then(|(_, i)| i).map(Box::new),
                })
            }
            Err((_, e)) => Err(store_err(&self.loc, "cannot unlock", e)),
        }
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(match self.properties()? {
            Some((true, info)) => Some(info.unwrap_or_default()),
            _ => None,
        })
    }

    /// Break the lease (Terraform's azurerm force-unlock fails after a Ctrl-C with
    /// `LeaseIdMissing`; breaking needs no lease id). The id must match the lock info.
    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        match self.properties()? {
            Some((true, info)) => {
                let info_id = info.as_ref().map(|i| i.id.clone()).unwrap_or_default();
                if info_id != id {
                    return Err(StateError::LockMismatch {
                        given: id.to_string(),
                        held: info.map(Box::new),
                    });
                }
            }
            _ => {
                return Err(StateError::LockMismatch {
                    given: id.to_string(),
                    held: None,
                });
            }
        }
        let blob = self.loc.blob().map_err(StateError::Store)?;
        self.bridge
            .run(async move {
                blob.break_lease(Some(BlobClientBreakLeaseOptions {
                    break_period: Some(0),
                    ..Default::default()
                }))
                .await
                .map_err(|e| e.to_string())?;
                blob.set_metadata(&HashMap::new(), None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .map_err(StateError::Store)?
            .map_err(|e| store_err(&self.loc, "cannot break the lease on", e))
    }

    fn describe(&self) -> String {
        self.loc.describe()
    }
}
