//! Registry authentication: parsing `WWW-Authenticate` challenges and
//! obtaining bearer tokens (Docker token GET with Basic credentials, or
//! OAuth2 `refresh_token` POST for identity tokens).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::credentials::Credentials;
use super::error::RegistryError;

/// Largest token-service response we read.
const TOKEN_RESPONSE_CAP: u64 = 1024 * 1024;
/// OAuth2 client id sent with refresh-token grants.
const CLIENT_ID: &str = "notation";

/// A parsed authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`.
    Bearer {
        /// Token endpoint URL.
        realm: String,
        /// Service name, passed back to the token endpoint.
        service: Option<String>,
        /// Scope the registry asked for.
        scope: Option<String>,
    },
}

/// Parse a `WWW-Authenticate` header value. Returns `None` for schemes
/// other than Basic and Bearer or a Bearer challenge without `realm`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&header[..i], header[i..].trim_start()),
        None => (header, ""),
    };
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm").filter(|r| !r.is_empty())?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// Whether a Bearer challenge says the token lacked the requested access
/// (`error="insufficient_scope"`, RFC 6750), as opposed to bad
/// credentials.
pub(crate) fn is_insufficient_scope(header: &str) -> bool {
    let header = header.trim();
    let Some(i) = header.find(|c: char| c.is_ascii_whitespace()) else {
        return false;
    };
    header[..i].eq_ignore_ascii_case("bearer")
        && parse_params(&header[i..])
            .get("error")
            .is_some_and(|e| e == "insufficient_scope")
}

/// Parse `k=v, k="quoted, \"value\""` auth-params; keys lowercased.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut chars = s[i..].char_indices();
            let mut end = s.len() - i;
            let mut escaped = false;
            for (off, c) in chars.by_ref() {
                if escaped {
                    value.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = off + 1;
                    break;
                } else {
                    value.push(c);
                }
            }
            i += end;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = s[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            out.insert(key, value);
        }
    }
    out
}

/// The repository scope for an operation: `repository:REPO:pull` or
/// `repository:REPO:pull,push`.
pub fn repository_scope(repository: &str, push: bool) -> String {
    if push {
        format!("repository:{repository}:pull,push")
    } else {
        format!("repository:{repository}:pull")
    }
}

/// Check a Bearer challenge's `realm` before anything is sent to it: it
/// must be an absolute `https://` URL, or `http://` when the registry
/// itself is reached over plain HTTP (`registry_plain_http`). A plain-HTTP
/// realm for an HTTPS registry would carry the Basic credentials or the
/// refresh token in cleartext, so it is refused.
pub fn check_realm(
    realm: &str,
    host: &str,
    registry_plain_http: bool,
) -> Result<(), RegistryError> {
    let scheme = realm
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if registry_plain_http => Ok(()),
        "http" => Err(RegistryError::InsecureTokenRealm {
            host: host.to_string(),
            realm: realm.to_string(),
        }),
        _ => Err(RegistryError::TokenService {
            host: host.to_string(),
            realm: realm.to_string(),
            detail: "the realm is not an http(s) URL".into(),
        }),
    }
}

/// Obtain a bearer token from `realm`. With an identity token the OAuth2
/// `refresh_token` grant is POSTed; otherwise a GET is made with Basic
/// credentials when there are any (anonymous otherwise). The realm is
/// checked with [`check_realm`] first (`registry_plain_http`: whether the
/// registry itself is reached over plain HTTP).
pub(crate) fn fetch_token(
    agent: &ureq::Agent,
    host: &str,
    registry_plain_http: bool,
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    creds: Option<&Credentials>,
) -> Result<Zeroizing<String>, RegistryError> {
    check_realm(realm, host, registry_plain_http)?;
    let fail = |detail: String| RegistryError::TokenService {
        host: host.to_string(),
        realm: realm.to_string(),
        detail,
    };
    let result = match creds {
        Some(c) if c.is_identity_token() => {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", c.secret()),
                ("client_id", CLIENT_ID),
            ];
            if let Some(s) = service {
                form.push(("service", s));
            }
            let joined = scopes.join(" ");
            if !joined.is_empty() {
                form.push(("scope", &joined));
            }
            agent.post(realm).send_form(form)
        }
        _ => {
            let mut req = agent.get(realm);
            if let Some(s) = service {
                req = req.query("service", s);
            }
            for s in scopes {
                req = req.query("scope", s);
            }
            if let Some(h) = creds.and_then(Credentials::basic_header) {
                req = req.header("Authorization", h.as_str());
            }
            req.call()
        }
    };
    let resp = result.map_err(|e| fail(format!("request failed: {e}")))?;
    let status = resp.status().as_u16();
    if status == 401 || status == 403 {
        return Err(RegistryError::unauthorized(
            host.to_string(),
            realm.to_string(),
            status,
            creds.is_some(),
        ));
    }
    if status != 200 {
        return Err(fail(format!("HTTP {status}")));
    }
    let body = resp
        .into_body()
        .with_config()
        .limit(TOKEN_RESPONSE_CAP)
        .read_to_vec()
        .map_err(|e| fail(format!("cannot read the response: {e}")))?;
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        token: Option<String>,
        access_token: Option<String>,
    }
    let t: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("the response is not token JSON: {e}")))?;
    let token = t
        .access_token
        .filter(|s| !s.is_empty())
        .or(t.token.filter(|s| !s.is_empty()))
        .ok_or_else(|| fail("the response has neither token nor access_token".into()))?;
    Ok(Zeroizing::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
    }

    #[test]
    fn parses_basic_and_odd_spacing() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("basic"), Some(Challenge::Basic));
        let c =
            parse_challenge(r#"BEARER  realm = "http://x/t" , service=svc, scope="a\"b""#).unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "http://x/t".into(),
                service: Some("svc".into()),
                scope: Some("a\"b".into()),
            }
        );
    }

    #[test]
    fn rejects_unsupported() {
        assert_eq!(parse_challenge(r#"Negotiate abc"#), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge(""), None);
    }

    #[test]
    fn insufficient_scope() {
        assert!(is_insufficient_scope(
            r#"Bearer realm="http://x/t",service="s",scope="repository:a:pull,push",error="insufficient_scope""#
        ));
        assert!(!is_insufficient_scope(
            r#"Bearer realm="http://x/t",error="invalid_token""#
        ));
        assert!(!is_insufficient_scope(
            r#"Basic error="insufficient_scope""#
        ));
        assert!(!is_insufficient_scope(""));
    }

    #[test]
    fn realm_scheme_must_match_the_registry_transport() {
        // HTTPS registry: only an https realm.
        assert!(check_realm("https://auth.example.com/token", "r.example.com", false).is_ok());
        assert!(check_realm("HTTPS://auth.example.com/token", "r.example.com", false).is_ok());
        let err = check_realm("http://auth.example.com/token", "r.example.com", false).unwrap_err();
        assert!(
            matches!(err, RegistryError::InsecureTokenRealm { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("cleartext"), "{err}");
        let err = check_realm("HTTP://auth.example.com/token", "r.example.com", false).unwrap_err();
        assert!(matches!(err, RegistryError::InsecureTokenRealm { .. }));
        // Plain-HTTP registry: either.
        assert!(check_realm("http://localhost:5001/token", "localhost:5000", true).is_ok());
        assert!(check_realm("https://auth.example.com/token", "localhost:5000", true).is_ok());
        // Not a URL at all.
        for bad in ["/token", "ftp://x/t", "auth.example.com/token"] {
            let err = check_realm(bad, "r", true).unwrap_err();
            assert!(matches!(err, RegistryError::TokenService { .. }), "{bad}");
        }
    }

    #[test]
    fn scopes() {
        assert_eq!(repository_scope("a/b", false), "repository:a/b:pull");
        assert_eq!(repository_scope("a/b", true), "repository:a/b:pull,push");
    }
}
