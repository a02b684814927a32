//! Identity (issue item 6) over real HTTP: tokens from the emulator's OAuth2 and
//! managed-identity endpoints carry what they cover; ARM answers 401 without a token or with a
//! token it did not issue, 403 `AuthorizationFailed` for a subscription outside the token's
//! coverage; configured client secrets are enforced at the token endpoint; TLS on loopback with a
//! generated CA.

use netform_emulator::{ClientGrant, EmulatorConfig, start};
use serde_json::Value;

const SUB_A: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const SUB_B: &str = "bbbbbbbb-0000-0000-0000-000000000002";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

fn rg(sub: &str) -> String {
    format!("/subscriptions/{sub}/resourcegroups/rg1?api-version=2021-04-01")
}

async fn token(c: &reqwest::Client, base: &str, client: &str, secret: &str) -> (u16, Value) {
    let body = format!(
        "client_id={client}&client_secret={}&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
        secret.replace('+', "%2B")
    );
    let r = c
        .post(format!("{base}/{TENANT}/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("token json"))
}

async fn get(c: &reqwest::Client, url: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut req = c.get(url);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v.pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn restricted() -> EmulatorConfig {
    EmulatorConfig {
        require_auth: true,
        clients: vec![ClientGrant::parse(&format!("{CLIENT}:s3cret+/=:{SUB_A}")).expect("spec")],
        ..EmulatorConfig::default()
    }
}

#[test]
fn client_specs_parse() {
    assert_eq!(
        ClientGrant::parse("id:sec:s1, s2").expect("parse"),
        ClientGrant {
            client_id: "id".into(),
            secret: Some("sec".into()),
            subscriptions: Some(vec!["s1".into(), "s2".into()]),
        }
    );
    let any = ClientGrant::parse("id").expect("parse");
    assert_eq!((any.secret, any.subscriptions), (None, None));
    let star = ClientGrant::parse("id::*").expect("parse");
    assert_eq!((star.secret, star.subscriptions), (None, None));
    assert!(ClientGrant::parse(":x:y").is_err());
}

#[tokio::test]
async fn tokens_it_did_not_issue_are_refused_with_401() {
    let emu = start(
        EmulatorConfig {
            require_auth: true,
            ..EmulatorConfig::default()
        },
        loopback(),
    )
    .await
    .expect("start");
    let c = reqwest::Client::new();
    let url = format!("{}{}", emu.base_url(), rg(SUB_A));
    let (s, v) = get(&c, &url, None).await;
    assert_eq!((s, code(&v)), (401, "AuthenticationFailed"));
    let (s, v) = get(&c, &url, Some("forged-token")).await;
    assert_eq!((s, code(&v)), (401, "InvalidAuthenticationToken"), "{v}");
    // Without configured clients, any client gets a token covering every subscription.
    let (s, tok) = token(&c, emu.base_url(), "any-client", "any-secret").await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().expect("access_token");
    assert_eq!(access.split('.').count(), 3, "JWT-shaped: {access}");
    for sub in [SUB_A, SUB_B] {
        let (s, v) = get(&c, &format!("{}{}", emu.base_url(), rg(sub)), Some(access)).await;
        assert_eq!((s, code(&v)), (404, "ResourceGroupNotFound"), "{v}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_subscription_outside_the_tokens_coverage_gets_403_authorization_failed() {
    let emu = start(restricted(), loopback()).await.expect("start");
    let c = reqwest::Client::new();
    let (s, tok) = token(&c, emu.base_url(), CLIENT, "s3cret+/=").await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();

    // Covered: the request is served.
    let put = c
        .put(format!("{}{}", emu.base_url(), rg(SUB_A)))
        .bearer_auth(&access)
        .json(&serde_json::json!({"location": "westeurope"}))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status().as_u16(), 201);

    // Not covered: 403 with Azure's message, naming the action and the scope.
    let r = c
        .put(format!("{}{}", emu.base_url(), rg(SUB_B)))
        .bearer_auth(&access)
        .json(&serde_json::json!({"location": "westeurope"}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 403);
    let v: Value = r.json().await.expect("json");
    assert_eq!(code(&v), "AuthorizationFailed");
    assert_eq!(
        v["error"]["message"],
        format!(
            "The client '{CLIENT}' with object id '{CLIENT}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '/subscriptions/{SUB_B}/resourcegroups/rg1' or the scope is invalid. If access was recently granted, please refresh your credentials."
        )
    );
    let vnet = format!(
        "{}/subscriptions/{SUB_B}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v1?api-version=2024-05-01",
        emu.base_url()
    );
    let (s, v) = get(&c, &vnet, Some(&access)).await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'Microsoft.Network/virtualNetworks/read'"),
        "{v}"
    );
    // Nothing was created in the subscription the client may not touch.
    let ids: Value = c
        .get(format!("{}/_emulator/resources", emu.base_url()))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    assert_eq!(
        ids["value"],
        serde_json::json!([format!("/subscriptions/{SUB_A}/resourceGroups/rg1")])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn configured_credentials_are_enforced_at_the_token_endpoint() {
    let emu = start(restricted(), loopback()).await.expect("start");
    let c = reqwest::Client::new();
    let (s, v) = token(&c, emu.base_url(), CLIENT, "wrong").await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["error"], "invalid_client");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AADSTS7000215: Invalid client secret provided."),
        "{v}"
    );
    assert_eq!(v["error_codes"], serde_json::json!([7000215]));
    let (s, v) = token(&c, emu.base_url(), "someone-else", "s3cret+/=").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "unauthorized_client");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AADSTS700016:"),
        "{v}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn managed_identity_tokens_carry_the_clients_coverage() {
    let emu = start(restricted(), loopback()).await.expect("start");
    let c = reqwest::Client::new();
    let mi = |client: Option<&str>| {
        let mut url = format!(
            "{}/msi/token?api-version=2019-08-01&resource=https://management.azure.com",
            emu.base_url()
        );
        if let Some(id) = client {
            url.push_str(&format!("&client_id={id}"));
        }
        url
    };
    let (s, v) = get(&c, &mi(Some(CLIENT)), None).await;
    assert_eq!(s, 200);
    let user_assigned = v["access_token"].as_str().expect("token").to_string();
    let (s, v) = get(&c, &mi(None), None).await;
    assert_eq!(s, 200);
    let system = v["access_token"].as_str().expect("token").to_string();
    let b = format!("{}{}", emu.base_url(), rg(SUB_B));
    assert_eq!(get(&c, &b, Some(&user_assigned)).await.0, 403);
    assert_eq!(get(&c, &b, Some(&system)).await.0, 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn openid_configuration_points_at_the_emulators_token_endpoint() {
    let emu = start(EmulatorConfig::default(), loopback())
        .await
        .expect("start");
    let c = reqwest::Client::new();
    let (s, v) = get(
        &c,
        &format!(
            "{}/{TENANT}/v2.0/.well-known/openid-configuration",
            emu.base_url()
        ),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", emu.base_url())
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn tls_serves_https_with_a_generated_ca_clients_can_trust() {
    let emu = start(
        EmulatorConfig {
            tls: true,
            require_auth: true,
            ..EmulatorConfig::default()
        },
        loopback(),
    )
    .await
    .expect("start");
    assert!(
        emu.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        emu.base_url()
    );
    let pem = emu.ca_certificate_pem().expect("CA pem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    // A client that does not trust the CA cannot connect.
    let untrusting = reqwest::Client::new();
    let err = untrusting
        .get(format!("{}/_emulator/health", emu.base_url()))
        .send()
        .await
        .expect_err("an untrusted certificate must be refused");
    assert!(err.is_connect(), "{err:?}");

    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).expect("cert");
    let c = reqwest::Client::builder()
        .tls_certs_merge([cert])
        .build()
        .expect("client");
    let (s, _) = get(&c, &format!("{}/_emulator/health", emu.base_url()), None).await;
    assert_eq!(s, 200);
    // By host name too (the certificate names localhost).
    let by_name = emu.base_url().replace("127.0.0.1", "localhost");
    assert_eq!(
        get(&c, &format!("{by_name}/_emulator/health"), None)
            .await
            .0,
        200
    );
    // The whole protocol works over https: token, then an ARM request.
    let (s, tok) = token(&c, emu.base_url(), CLIENT, "x").await;
    assert_eq!(s, 200);
    let access = tok["access_token"].as_str().expect("token");
    let (s, v) = get(
        &c,
        &format!("{}{}", emu.base_url(), rg(SUB_A)),
        Some(access),
    )
    .await;
    assert_eq!((s, code(&v)), (404, "ResourceGroupNotFound"));
    emu.shutdown().await;
}

#[tokio::test]
async fn subscriptions_tenants_and_locations_for_clients_that_log_in() {
    let emu = start(restricted(), loopback()).await.expect("start");
    let c = reqwest::Client::new();
    let (_, tok) = token(&c, emu.base_url(), CLIENT, "s3cret+/=").await;
    let access = tok["access_token"].as_str().expect("token").to_string();
    let base = emu.base_url();
    // Listing subscriptions needs a token but no coverage; it lists what the token covers.
    assert_eq!(
        get(
            &c,
            &format!("{base}/subscriptions?api-version=2022-12-01"),
            None
        )
        .await
        .0,
        401
    );
    let (s, v) = get(
        &c,
        &format!("{base}/subscriptions?api-version=2022-12-01"),
        Some(&access),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["subscriptionId"], SUB_A);
    assert_eq!(v["value"][0]["tenantId"], TENANT);
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1));
    let (s, v) = get(
        &c,
        &format!("{base}/tenants?api-version=2022-12-01"),
        Some(&access),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["tenantId"], TENANT);
    let (s, v) = get(
        &c,
        &format!("{base}/subscriptions/{SUB_A}/locations?api-version=2022-12-01"),
        Some(&access),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        v["value"]
            .as_array()
            .expect("value")
            .iter()
            .any(|l| l["name"] == "westeurope" && l["displayName"] == "West Europe"),
        "{v}"
    );
    let other = format!("{base}/subscriptions/{SUB_B}/locations?api-version=2022-12-01");
    assert_eq!(get(&c, &other, Some(&access)).await.0, 403);
    emu.shutdown().await;
}

#[tokio::test]
async fn the_standalone_binary_names_its_ca_on_a_second_line() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netform-emulator"))
        .args(["--port", "0", "--tls", "--require-auth"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("line").expect("utf-8");
    let second = lines.next().expect("line").expect("utf-8");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let path = second
        .strip_prefix("ca certificate ")
        .unwrap_or_else(|| panic!("{second}"));
    let pem = std::fs::read(path).expect("CA file");
    let cert = reqwest::Certificate::from_pem(&pem).expect("pem");
    let c = reqwest::Client::builder()
        .tls_certs_merge([cert])
        .build()
        .expect("client");
    let (s, _) = get(&c, &format!("{url}/_emulator/health"), None).await;
    assert_eq!(s, 200);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(path);
}
