//! Signature discovery and storage in a registry: the Referrers API with
//! pagination, falling back to the referrers tag schema (an OCI index
//! tagged `<alg>-<hex>` listing the referrers of `<alg>:<hex>`).

use std::collections::{BTreeMap, HashSet};

use notation_plugin_sdk::descriptor::Descriptor;

use super::client::{read_capped, RegistryClient};
use super::error::RegistryError;
use super::oci::{
    self, Index, ARTIFACT_TYPE_NOTARY_SIGNATURE, MAX_MANIFEST_SIZE, MEDIA_TYPE_OCI_INDEX,
};
use super::reference::Target;
use super::{PushWarning, PushedSignature};

/// Most referrers pages we follow.
const MAX_PAGES: usize = 100;

/// The referrers tag-schema tag for a digest: `<alg>-<hex>`, with the
/// algorithm truncated to 32 and the hex to 64 characters.
pub fn referrers_tag(digest: &str) -> Result<String, RegistryError> {
    oci::parse_digest(digest)?;
    let (alg, hex) = digest.split_once(':').unwrap_or((digest, ""));
    let alg: String = alg.chars().take(32).collect();
    let hex: String = hex.chars().take(64).collect();
    Ok(format!("{alg}-{hex}"))
}

/// The `rel="next"` target of a `Link` header, if any.
pub fn next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let part = part.trim();
        let Some(rest) = part.strip_prefix('<') else {
            continue;
        };
        let Some((target, params)) = rest.split_once('>') else {
            continue;
        };
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split(' ')
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next && !target.is_empty() {
            return Some(target.to_string());
        }
    }
    None
}

/// The URL of a next-page link, which must stay on the registry: a
/// relative link is resolved against the registry, an absolute one must
/// have the registry's scheme, host and port
/// ([`RegistryError::ForeignLink`] otherwise; nothing is sent there).
fn next_page_url(client: &RegistryClient, link: &str) -> Result<String, RegistryError> {
    let has_scheme = link
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/') && !s.contains('?'));
    let url = if has_scheme {
        link.to_string()
    } else if link.starts_with("//") {
        // Scheme-relative: names a host, which must be the registry.
        let scheme = client.base().split_once("://").map_or("https", |(s, _)| s);
        format!("{scheme}:{link}")
    } else if link.starts_with('/') {
        format!("{}{}", client.base(), link)
    } else {
        format!("{}/{}", client.base(), link)
    };
    if !client.is_registry_origin(&url) {
        return Err(RegistryError::ForeignLink {
            host: client.registry().to_string(),
            link: link.to_string(),
        });
    }
    Ok(url)
}

/// Signatures collected up to a limit, de-duplicated by digest.
struct Collector {
    out: Vec<Descriptor>,
    seen: HashSet<String>,
    limit: usize,
}

impl Collector {
    fn new(limit: usize) -> Self {
        Collector {
            out: Vec::new(),
            seen: HashSet::new(),
            limit,
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= self.limit
    }

    /// Keep the Notary Project signatures among `manifests`, in order,
    /// until the limit is reached.
    fn keep(&mut self, manifests: Vec<Descriptor>) {
        for d in manifests {
            if self.full() {
                return;
            }
            if d.artifact_type.as_deref() == Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
                && self.seen.insert(d.digest.clone())
            {
                self.out.push(d);
            }
        }
    }
}

/// Referrers through the API, at most `limit`: no further page is read
/// once that many are found. `Ok(None)` when the registry lacks the API.
fn list_via_api(
    client: &RegistryClient,
    subject: &Descriptor,
    limit: usize,
) -> Result<Option<Vec<Descriptor>>, RegistryError> {
    let mut url = client.url(&format!(
        "referrers/{}?artifactType={}",
        subject.digest,
        ARTIFACT_TYPE_NOTARY_SIGNATURE.replace('/', "%2F")
    ));
    let mut found = Collector::new(limit);
    for page in 0..MAX_PAGES {
        let reply = client.send(
            "GET",
            &url,
            &[("Accept", MEDIA_TYPE_OCI_INDEX)],
            None,
            false,
        )?;
        match reply.status {
            200 => {}
            404 if page == 0 => return Ok(None),
            _ => return Err(client.status_error("GET", reply)),
        }
        let content_type = reply.header("content-type").unwrap_or_default();
        if page == 0 && content_type.split(';').next().unwrap_or("").trim() != MEDIA_TYPE_OCI_INDEX
        {
            // Not a referrers response (e.g. a catch-all route): no API.
            return Ok(None);
        }
        let link = reply.header("link");
        let reply_url = reply.url.clone();
        let mut reader = reply.response.into_body().into_reader();
        let bytes = read_capped(
            &mut reader,
            MAX_MANIFEST_SIZE,
            "referrers response",
            &reply_url,
        )?;
        let index: Index = oci::parse_json(&bytes, "referrers response", &reply_url)?;
        found.keep(index.manifests);
        if found.full() {
            return Ok(Some(found.out));
        }
        match link.as_deref().and_then(next_link) {
            Some(next) => url = next_page_url(client, &next)?,
            None => return Ok(Some(found.out)),
        }
    }
    Ok(Some(found.out))
}

/// The tag-schema index for `subject`: its descriptor and content, or
/// `None` when the tag does not exist.
fn fetch_tag_index(
    client: &RegistryClient,
    subject: &Descriptor,
) -> Result<Option<(Descriptor, Index)>, RegistryError> {
    let tag = referrers_tag(&subject.digest)?;
    match client.get_manifest(&Target::Tag(tag)) {
        Ok((desc, bytes)) => {
            if desc.media_type != MEDIA_TYPE_OCI_INDEX {
                return Err(RegistryError::UnsupportedMediaType {
                    media_type: desc.media_type,
                    what: "referrers tag-schema index",
                    source_name: client.url(&format!("manifests/{}", desc.digest)),
                });
            }
            let index: Index = oci::parse_json(&bytes, "referrers tag-schema index", &desc.digest)?;
            Ok(Some((desc, index)))
        }
        Err(RegistryError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn list_signatures(
    client: &RegistryClient,
    subject: &Descriptor,
    limit: usize,
) -> Result<Vec<Descriptor>, RegistryError> {
    oci::parse_digest(&subject.digest)?;
    if limit == 0 {
        return Ok(Vec::new());
    }
    if client.referrers_api_state() != Some(false) {
        if let Some(list) = list_via_api(client, subject, limit)? {
            client.set_referrers_api_state(true);
            return Ok(list);
        }
        client.set_referrers_api_state(false);
    }
    let mut found = Collector::new(limit);
    if let Some((_, index)) = fetch_tag_index(client, subject)? {
        found.keep(index.manifests);
    }
    Ok(found.out)
}

pub(crate) fn push_signature(
    client: &RegistryClient,
    subject: &Descriptor,
    envelope: &[u8],
    envelope_media_type: &str,
    annotations: BTreeMap<String, String>,
) -> Result<PushedSignature, RegistryError> {
    oci::parse_digest(&subject.digest)?;
    let envelope_desc = Descriptor::new(
        envelope_media_type,
        oci::sha256_digest(envelope),
        oci::len64(envelope),
    );
    client.push_blob(envelope, &envelope_desc.digest)?;
    client.push_blob(oci::EMPTY_JSON, oci::EMPTY_JSON_DIGEST)?;
    // Forcing the tag schema is for registries that only speak image-spec
    // 1.0, so the manifest takes the form they accept (as upstream does).
    let form = if client.force_referrers_tag() {
        oci::SignatureManifestForm::Legacy
    } else {
        oci::SignatureManifestForm::ArtifactType
    };
    let (bytes, manifest_desc) =
        oci::signature_manifest(subject, &envelope_desc, annotations, form);
    let oci_subject =
        client.put_manifest(&manifest_desc.digest, oci::MEDIA_TYPE_OCI_MANIFEST, &bytes)?;
    let mut warnings = Vec::new();
    if oci_subject.is_some() && !client.force_referrers_tag() {
        client.set_referrers_api_state(true);
        return Ok(PushedSignature {
            manifest: manifest_desc,
            warnings,
        });
    }
    // Tag schema: read-modify-write the index, then drop the superseded one.
    let old = fetch_tag_index(client, subject)?;
    let mut index = old.as_ref().map_or_else(Index::empty, |(_, i)| i.clone());
    if index.media_type.is_none() {
        index.media_type = Some(MEDIA_TYPE_OCI_INDEX.to_string());
    }
    if !index
        .manifests
        .iter()
        .any(|d| d.digest == manifest_desc.digest)
    {
        index.manifests.push(manifest_desc.clone());
    }
    let index_bytes = serde_json::to_vec(&index).map_err(|e| RegistryError::Malformed {
        what: "referrers tag-schema index",
        source_name: subject.digest.clone(),
        detail: e.to_string(),
    })?;
    let new_digest = oci::sha256_digest(&index_bytes);
    let tag = referrers_tag(&subject.digest)?;
    client.put_manifest(&tag, MEDIA_TYPE_OCI_INDEX, &index_bytes)?;
    if let Some((old_desc, _)) = old {
        if old_desc.digest != new_digest {
            if let Err(e) = client.delete_manifest(&old_desc.digest) {
                warnings.push(PushWarning::StaleReferrersIndexNotDeleted {
                    digest: old_desc.digest,
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(PushedSignature {
        manifest: manifest_desc,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_parsing() {
        assert_eq!(
            next_link(r#"</v2/a/referrers/sha256:x?n=2&last=b>; rel="next""#),
            Some("/v2/a/referrers/sha256:x?n=2&last=b".into())
        );
        assert_eq!(
            next_link(r#"<https://r/prev>; rel="prev", <https://r/next>;rel=next"#),
            Some("https://r/next".into())
        );
        assert_eq!(next_link(r#"<https://r/prev>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(""), None);
    }

    fn client(registry: &str, insecure: bool) -> RegistryClient {
        let options = super::super::ClientOptions {
            insecure,
            ..Default::default()
        };
        RegistryClient::new(
            registry,
            "repo",
            options,
            Box::new(super::super::credentials::Anonymous),
        )
        .unwrap()
    }

    #[test]
    fn next_page_links_stay_on_the_registry() {
        let c = client("localhost:5000", false);
        let ok = |l: &str| next_page_url(&c, l).unwrap();
        assert_eq!(
            ok("/v2/repo/referrers/sha256:x?last=a"),
            "http://localhost:5000/v2/repo/referrers/sha256:x?last=a"
        );
        assert_eq!(
            ok("http://LOCALHOST:5000/v2/repo/referrers/sha256:x?n=1"),
            "http://LOCALHOST:5000/v2/repo/referrers/sha256:x?n=1"
        );
        for foreign in [
            "http://127.0.0.1:5000/v2/repo/referrers/sha256:x",
            "http://localhost:5001/v2/repo/referrers/sha256:x",
            "https://localhost:5000/v2/repo/referrers/sha256:x",
            "http://localhost:5000@evil.example/v2/",
            "//evil.example/v2/repo/referrers/sha256:x",
            "ftp://localhost:5000/v2/",
        ] {
            let err = next_page_url(&c, foreign).unwrap_err();
            assert!(
                matches!(err, RegistryError::ForeignLink { .. }),
                "{foreign}: {err}"
            );
            assert!(err.to_string().contains("paginate on itself"), "{err}");
        }
        // Default ports count as the same origin.
        let tls = client("registry.example.com", false);
        assert!(next_page_url(&tls, "https://registry.example.com:443/v2/x").is_ok());
        assert!(next_page_url(&tls, "http://registry.example.com/v2/x").is_err());
    }

    #[test]
    fn collector_dedupes_and_stops_at_the_limit() {
        let sig = |n: u8| {
            let mut d = Descriptor::new(
                oci::MEDIA_TYPE_OCI_MANIFEST,
                format!("sha256:{}", format!("{n:02x}").repeat(32)),
                10,
            );
            d.artifact_type = Some(ARTIFACT_TYPE_NOTARY_SIGNATURE.into());
            d
        };
        let mut other = sig(9);
        other.artifact_type = Some("application/spdx+json".into());
        let mut c = Collector::new(3);
        c.keep(vec![sig(1), sig(1), other, sig(2)]);
        assert!(!c.full());
        c.keep(vec![sig(2), sig(3), sig(4)]);
        assert!(c.full());
        let digests: Vec<_> = c.out.iter().map(|d| d.digest.clone()).collect();
        assert_eq!(digests, [sig(1).digest, sig(2).digest, sig(3).digest]);
    }

    #[test]
    fn tag_schema_tag() {
        let d = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
        assert_eq!(
            referrers_tag(d).unwrap(),
            "sha256-b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
        );
        assert!(referrers_tag("sha256:zz").is_err());
    }
}
