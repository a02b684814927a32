//! Account shared access signatures from a storage account key. azure_storage_blob 1.1
//! authenticates with Entra tokens or SAS only (no Shared Key), so an `access_key` is turned
//! into a short-lived account SAS here (the key itself never leaves this process).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The SAS version we sign with.
pub const SAS_VERSION: &str = "2021-12-02";

/// An account SAS for the blob service (objects and containers), valid from `start` to
/// `expiry` (Unix seconds), as a query string without the leading `?`.
pub fn account_sas(
    account: &str,
    key_b64: &str,
    start: u64,
    expiry: u64,
) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64.trim())
        .map_err(|_| "the storage access key is not valid base64".to_string())?;
    let permissions = "rwdlacup";
    let (services, types) = ("b", "sco");
    let st = crate::rfc3339(start);
    let se = crate::rfc3339(expiry);
    let protocol = "https,http";
    let to_sign = format!(
        "{account}\n{permissions}\n{services}\n{types}\n{st}\n{se}\n\n{protocol}\n{SAS_VERSION}\n\n"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| "the storage access key is empty".to_string())?;
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Ok(format!(
        "sv={SAS_VERSION}&ss={services}&srt={types}&sp={permissions}&st={}&se={}&spr={}&sig={}",
        enc(&st),
        enc(&se),
        enc(protocol),
        enc(&sig)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signs_deterministically() {
        let key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        let a = super::account_sas("devstoreaccount1", key, 0, 3600).unwrap();
        let b = super::account_sas("devstoreaccount1", key, 0, 3600).unwrap();
        assert_eq!(a, b);
        assert!(
            a.starts_with("sv=2021-12-02&ss=b&srt=sco&sp=rwdlacup&st=1970-01-01T00%3A00%3A00Z")
        );
        assert!(super::account_sas("a", "not base64!", 0, 1).is_err());
    }
}
