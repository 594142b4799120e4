//! Signature discovery and storage in a registry: the Referrers API with
//! pagination, falling back to the referrers tag schema (an OCI index
//! tagged `<alg>-<hex>` listing the referrers of `<alg>:<hex>`).
//!
//! # Several signers, one tag-schema index
//!
//! A registry without the Referrers API keeps a tag whose last writer
//! wins, so signers that update the index at the same time can drop each
//! other's entries. `push_signature` keeps its read-modify-write window
//! short (the index is read right before it is written) and then confirms:
//! after a short settle time (several times its own read-to-write time,
//! so that a writer which read the index before our write has written by
//! then) it reads the tag back; if our signature is missing it merges it
//! into what is there now (the union, ours added) and writes again, with
//! jittered back-off, at most [`MAX_LINK_ROUNDS`] times. Only when the
//! signature is confirmed does `sign` succeed; otherwise it fails with
//! [`RegistryError::SignatureNotLinked`]. The index a successful write
//! replaced is deleted while the tag is read back (both after the settle
//! time, so the delete costs no round trip of its own); other superseded
//! indexes are deleted at the end, but never the one the tag resolves to
//! at that moment.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use notation_plugin_sdk::descriptor::Descriptor;

use super::client::RegistryClient;
use super::error::RegistryError;
use super::oci::{
    self, Index, ARTIFACT_TYPE_NOTARY_SIGNATURE, MAX_MANIFEST_SIZE, MEDIA_TYPE_OCI_INDEX,
};
use super::reference::Target;
use super::transport::{self, read_capped, Request};
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

/// Most read-merge-write rounds for the tag-schema index.
pub const MAX_LINK_ROUNDS: u32 = 10;
/// Shortest settle time before the confirming read.
const MIN_SETTLE: Duration = Duration::from_millis(10);
/// Longest settle time.
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// The first referrers page URL for `subject`.
fn api_url(client: &RegistryClient, subject: &Descriptor) -> String {
    client.url(&format!(
        "referrers/{}?artifactType={}",
        subject.digest,
        ARTIFACT_TYPE_NOTARY_SIGNATURE.replace('/', "%2F")
    ))
}

/// Referrers through the API, at most `limit`: no further page is read
/// once that many are found. `Ok(None)` when the registry lacks the API.
fn list_via_api(
    client: &RegistryClient,
    subject: &Descriptor,
    limit: usize,
) -> Result<Option<Vec<Descriptor>>, RegistryError> {
    let mut url = api_url(client, subject);
    let mut found = Collector::new(limit);
    for page in 0..MAX_PAGES {
        let page_url = url.clone();
        let fetched = client.transport().retry(
            &format!("GET {page_url}"),
            transport::is_body_fault,
            || read_page(client, &page_url, page == 0),
        )?;
        let Some((index, link)) = fetched else {
            return Ok(None);
        };
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

/// One referrers page: the index and the `Link` header, or `None` when
/// the first page shows there is no API.
fn read_page(
    client: &RegistryClient,
    url: &str,
    first: bool,
) -> Result<Option<(Index, Option<String>)>, RegistryError> {
    let reply = client.send(&Request::get(url, &[("Accept", MEDIA_TYPE_OCI_INDEX)]))?;
    match reply.status {
        200 => {}
        404 if first => return Ok(None),
        _ => return Err(client.status_error("GET", reply)),
    }
    let content_type = reply.header("content-type").unwrap_or_default();
    if first && content_type.split(';').next().unwrap_or("").trim() != MEDIA_TYPE_OCI_INDEX {
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
    Ok(Some((index, link)))
}

/// Ask the Referrers API once for `subject` (the probe `sign` runs while
/// it resolves the artifact) and remember the answer.
pub(crate) fn probe_api(client: &RegistryClient, subject_digest: &str) {
    let subject = Descriptor::new(oci::MEDIA_TYPE_OCI_MANIFEST, subject_digest, 0);
    if let Ok(found) = list_via_api(client, &subject, 1) {
        client.set_referrers_api_state(found.is_some());
    }
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

/// Signatures of `subject`, at most `limit`. When the registry is known
/// to have the Referrers API only the API is asked; otherwise the API and
/// the tag-schema index are read at the same time and the API's answer
/// wins when there is one.
pub(crate) fn list_signatures(
    client: &RegistryClient,
    subject: &Descriptor,
    limit: usize,
) -> Result<Vec<Descriptor>, RegistryError> {
    oci::parse_digest(&subject.digest)?;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let from_tag = |index: Option<(Descriptor, Index)>| {
        let mut found = Collector::new(limit);
        if let Some((_, index)) = index {
            found.keep(index.manifests);
        }
        found.out
    };
    if client.referrers_api_state() == Some(true) {
        if let Some(list) = list_via_api(client, subject, limit)? {
            return Ok(list);
        }
        // The memo was wrong.
        client.set_referrers_api_state(false);
        return Ok(from_tag(fetch_tag_index(client, subject)?));
    }
    let (api, tag) = std::thread::scope(|s| {
        let tag = s.spawn(|| fetch_tag_index(client, subject));
        let api = list_via_api(client, subject, limit);
        (api, joined(tag))
    });
    match api? {
        Some(list) => {
            client.set_referrers_api_state(true);
            Ok(list)
        }
        None => {
            client.set_referrers_api_state(false);
            Ok(from_tag(tag?))
        }
    }
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
    // The two blobs go up together; the envelope's error is reported
    // first when both fail.
    let (env, cfg) = std::thread::scope(|s| {
        // The empty config is almost always there already: one HEAD.
        let cfg = s.spawn(|| client.ensure_blob(oci::EMPTY_JSON, oci::EMPTY_JSON_DIGEST));
        let env = client.push_blob(envelope, &envelope_desc.digest);
        (env, joined(cfg))
    });
    env?;
    cfg?;
    // Forcing the tag schema is for registries that only speak image-spec
    // 1.0, so the manifest takes the form they accept (as upstream does).
    let form = if client.force_referrers_tag() {
        oci::SignatureManifestForm::Legacy
    } else {
        oci::SignatureManifestForm::ArtifactType
    };
    let (bytes, manifest_desc) =
        oci::signature_manifest(subject, &envelope_desc, annotations, form);
    let put = || client.put_manifest(&manifest_desc.digest, oci::MEDIA_TYPE_OCI_MANIFEST, &bytes);
    // When the tag schema is expected, the index is read while the
    // manifest goes up (it is written only after the manifest exists).
    let (oci_subject, prefetched) =
        if client.force_referrers_tag() || client.referrers_api_state() == Some(false) {
            std::thread::scope(|s| {
                let read = s.spawn(|| Prefetched::new(timed_read(client, subject)));
                let put = put();
                (put, Some(joined(read)))
            })
        } else {
            (put(), None)
        };
    let oci_subject = oci_subject?;
    // What a verification on this machine fetches next: kept now.
    if let Some(cache) = client.content_cache() {
        cache.put(&envelope_desc, envelope);
        cache.put(&manifest_desc, &bytes);
    }
    if client.force_referrers_tag() {
        return link_in_tag_index(client, subject, manifest_desc, prefetched);
    }
    if oci_subject.is_some() {
        client.set_referrers_api_state(true);
        return Ok(PushedSignature {
            manifest: manifest_desc,
            warnings: Vec::new(),
        });
    }
    client.set_referrers_api_state(false);
    link_in_tag_index(client, subject, manifest_desc, prefetched)
}

/// The result of a scoped worker; a panic there (a bug) goes on in the
/// caller rather than turning into an error message.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A read of the tag-schema index, with when it started.
type TagRead = (Instant, Result<Option<(Descriptor, Index)>, RegistryError>);

fn timed_read(client: &RegistryClient, subject: &Descriptor) -> TagRead {
    (Instant::now(), fetch_tag_index(client, subject))
}

/// A read made ahead while the manifest went up, wrapped so that it can
/// only be used while fresh.
struct Prefetched {
    read: TagRead,
    /// How long the read itself took.
    took: Duration,
}

impl Prefetched {
    fn new(read: TagRead) -> Self {
        let took = read.0.elapsed();
        Prefetched { read, took }
    }

    /// The read, if no more time passed since it finished than it took
    /// itself (plus a little): an older read would widen this signer's
    /// read-to-write window (say, when the manifest upload waited for a
    /// `Retry-After`) beyond what other signers' settle times cover.
    fn fresh(self) -> Option<TagRead> {
        let since_done = self.read.0.elapsed().saturating_sub(self.took);
        (since_done <= self.took + Duration::from_millis(2)).then_some(self.read)
    }
}

/// A random extra wait of up to half of `d`.
fn jitter(d: Duration) -> Duration {
    Duration::from_millis(fastrand::u64(
        0..=u64::try_from(d.as_millis() / 2).unwrap_or(0),
    ))
}

/// The index `current` with `ours` added (when missing), as bytes.
fn merged(
    current: Option<&Index>,
    ours: &Descriptor,
    subject: &Descriptor,
) -> Result<Vec<u8>, RegistryError> {
    let mut index = current.cloned().unwrap_or_else(Index::empty);
    if index.media_type.is_none() {
        index.media_type = Some(MEDIA_TYPE_OCI_INDEX.to_string());
    }
    if !index.manifests.iter().any(|d| d.digest == ours.digest) {
        index.manifests.push(ours.clone());
    }
    serde_json::to_vec(&index).map_err(|e| RegistryError::Malformed {
        what: "referrers tag-schema index",
        source_name: subject.digest.clone(),
        detail: e.to_string(),
    })
}

fn lists(index: Option<&(Descriptor, Index)>, digest: &str) -> bool {
    index.is_some_and(|(_, i)| i.manifests.iter().any(|d| d.digest == digest))
}

/// Link `ours` into the tag-schema index of `subject` and confirm it (see
/// the module docs).
fn link_in_tag_index(
    client: &RegistryClient,
    subject: &Descriptor,
    ours: Descriptor,
    prefetched: Option<Prefetched>,
) -> Result<PushedSignature, RegistryError> {
    let tag = referrers_tag(&subject.digest)?;
    let prefetched = prefetched.and_then(Prefetched::fresh);
    let digest = ours.digest.clone();
    let mut rounds = 0;
    try_link(client, subject, ours, &tag, prefetched, &mut rounds).map_err(|e| match e {
        e @ RegistryError::SignatureNotLinked { .. } => e,
        other => RegistryError::SignatureNotLinked {
            manifest: digest,
            tag,
            rounds,
            detail: other.to_string(),
        },
    })
}

/// Whether a failure while updating the index is worth another round:
/// transient failures, and the HTTP 500 docker-registry answers for a tag
/// whose index another signer deleted a moment ago.
fn index_in_flux(e: &RegistryError) -> bool {
    transport::is_transient(e) || matches!(e, RegistryError::Status { status: 500, .. })
}

fn try_link(
    client: &RegistryClient,
    subject: &Descriptor,
    ours: Descriptor,
    tag: &str,
    prefetched: Option<TagRead>,
    rounds: &mut u32,
) -> Result<PushedSignature, RegistryError> {
    let policy = client.options().retry.clone();
    // Index digests this signer replaced or wrote: candidates for deletion.
    let mut superseded: Vec<String> = Vec::new();
    // Problems deleting replaced indexes, reported as warnings.
    let mut warnings: Vec<PushWarning> = Vec::new();
    let mut last_problem = String::from("no attempt finished");
    let mut current: Option<TagRead> = prefetched;
    let mut settle = MIN_SETTLE;
    // Another writer was seen at work: confirm twice before trusting it.
    let mut contention = false;
    let mut double_checked = false;
    for round in 1..=MAX_LINK_ROUNDS {
        *rounds = round;
        let (read_started, read) = current
            .take()
            .unwrap_or_else(|| timed_read(client, subject));
        let now = match read {
            Ok(now) => now,
            Err(e) if index_in_flux(&e) => {
                last_problem = e.to_string();
                contention = true;
                std::thread::sleep(policy.delay(round, None));
                continue;
            }
            Err(e) => return Err(e),
        };
        if lists(now.as_ref(), &ours.digest) {
            if contention && !double_checked {
                // A writer that read the index before ours landed may
                // still be writing: look once more after a longer wait.
                double_checked = true;
                std::thread::sleep(settle * 2 + jitter(settle));
                current = Some(timed_read(client, subject));
                continue;
            }
            return finish(
                client,
                ours,
                now.map(|(d, _)| d.digest),
                superseded,
                warnings,
            );
        }
        let bytes = merged(now.as_ref().map(|(_, i)| i), &ours, subject)?;
        if let Some((d, _)) = &now {
            superseded.push(d.digest.clone());
        }
        let written_digest = oci::sha256_digest(&bytes);
        superseded.push(written_digest.clone());
        let written = client.put_manifest(tag, MEDIA_TYPE_OCI_INDEX, &bytes);
        // This writer's read-to-write window; others' are much the same.
        let window = read_started.elapsed();
        let write_problem = match written {
            Ok(_) => None,
            // The write may or may not have landed: the read below tells.
            Err(e) if index_in_flux(&e) => Some(e.to_string()),
            Err(e) => return Err(e),
        };
        // Let writers that read the index before our write finish theirs.
        settle = (window * 2 + MIN_SETTLE).min(MAX_SETTLE);
        // Jitter only once writers are known to collide, to spread them.
        let spread = if contention {
            jitter(settle)
        } else {
            Duration::ZERO
        };
        std::thread::sleep(settle + spread);
        // The index this write replaced goes while the tag is read back:
        // by now writers that read it have had their settle's worth of
        // time to finish, as when it was deleted after the read.
        let replaced = now
            .as_ref()
            .filter(|_| write_problem.is_none())
            .map(|(d, _)| d.digest.clone());
        let confirm = std::thread::scope(|s| {
            let deleting = replaced
                .as_deref()
                .map(|d| s.spawn(move || client.delete_manifest(d)));
            let confirm = timed_read(client, subject);
            if let (Some(digest), Some(deleting)) = (&replaced, deleting) {
                superseded.retain(|d| d != digest);
                if let Err(e) = joined(deleting) {
                    warnings.push(PushWarning::StaleReferrersIndexNotDeleted {
                        digest: digest.clone(),
                        detail: e.to_string(),
                    });
                }
            }
            confirm
        });
        match &confirm.1 {
            Ok(after) if lists(after.as_ref(), &ours.digest) => {
                if after.as_ref().map(|(d, _)| d.digest.as_str()) != Some(&written_digest) {
                    contention = true;
                }
            }
            Ok(_) => {
                contention = true;
                last_problem = write_problem
                    .unwrap_or_else(|| "another signer replaced the index at the same time".into());
                // Back off before merging again, so colliding writers spread out.
                std::thread::sleep(policy.delay(round, None));
                // Read afresh right before the next write.
                current = None;
                continue;
            }
            Err(e) => last_problem = e.to_string(),
        }
        current = Some(confirm);
    }
    Err(RegistryError::SignatureNotLinked {
        manifest: ours.digest,
        tag: tag.to_string(),
        rounds: MAX_LINK_ROUNDS,
        detail: last_problem,
    })
}

/// Success: delete the indexes this signer superseded, except the one the
/// tag resolves to now (`current`), and report what could not be deleted
/// (with `warnings`, from deletions made earlier).
fn finish(
    client: &RegistryClient,
    ours: Descriptor,
    current: Option<String>,
    mut superseded: Vec<String>,
    mut warnings: Vec<PushWarning>,
) -> Result<PushedSignature, RegistryError> {
    superseded.sort();
    superseded.dedup();
    superseded.retain(|d| Some(d) != current.as_ref());
    for digest in superseded {
        if let Err(e) = client.delete_manifest(&digest) {
            warnings.push(PushWarning::StaleReferrersIndexNotDeleted {
                digest,
                detail: e.to_string(),
            });
        }
    }
    Ok(PushedSignature {
        manifest: ours,
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
