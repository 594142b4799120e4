//! Artifact references: `registry/repository:tag`,
//! `registry/repository@sha256:<hex>` and OCI layout references
//! `DIR:tag` / `DIR@sha256:<hex>`.
//!
//! As upstream notation (which uses oras-go's `ParseReference`), a
//! registry host is required: `alpine:3` or `library/alpine` is not
//! rewritten to Docker Hub. `docker.io` is accepted as the registry name
//! and connected to at `registry-1.docker.io`. When a reference has both a
//! tag and a digest, the digest wins and the tag is dropped. A reference
//! must name a tag or a digest.

use std::fmt;
use std::path::PathBuf;

use super::error::RegistryError;
use super::oci::parse_digest;

/// What a reference points at inside its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A tag (mutable).
    Tag(String),
    /// A digest `algorithm:hex` (immutable).
    Digest(String),
}

impl Target {
    /// The tag or digest as a string, as used in URLs.
    pub fn as_str(&self) -> &str {
        match self {
            Target::Tag(t) => t,
            Target::Digest(d) => d,
        }
    }
    /// Whether this is a digest.
    pub fn is_digest(&self) -> bool {
        matches!(self, Target::Digest(_))
    }
}

/// A parsed registry reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host, with port when given (`localhost:5000`).
    pub registry: String,
    /// Repository path (`net-monitor`, `org/app`).
    pub repository: String,
    /// The tag or digest.
    pub target: Target,
}

impl Reference {
    /// Parse a docker-style reference. See the module docs for the rules.
    pub fn parse(input: &str) -> Result<Reference, RegistryError> {
        let bad = |reason: &str| RegistryError::InvalidReference {
            reference: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(bad("the reference is empty"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains whitespace or control characters"));
        }
        let (registry, path) = input
            .split_once('/')
            .ok_or_else(|| bad("it has no registry host (notation needs e.g. localhost:5000/repo:tag, docker.io/library/alpine:3)"))?;
        validate_registry(registry).map_err(|r| bad(&r))?;
        let (repository, target) = if let Some((repo, digest)) = path.split_once('@') {
            // A tag next to the digest is ignored: the digest is authoritative.
            let repo = repo.split_once(':').map_or(repo, |(r, _)| r);
            parse_digest(digest).map_err(|e| bad(&format!("the digest part is invalid ({e})")))?;
            (repo, Target::Digest(digest.to_string()))
        } else if let Some((repo, tag)) = path.rsplit_once(':') {
            if repo.contains(':') {
                return Err(bad("it has more than one ':' after the registry"));
            }
            validate_tag(tag).map_err(|r| bad(&r))?;
            (repo, Target::Tag(tag.to_string()))
        } else {
            return Err(bad(
                "it names no tag or digest (add :<tag> or @sha256:<digest>)",
            ));
        };
        validate_repository(repository).map_err(|r| bad(&r))?;
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            target,
        })
    }

    /// The host to connect to: `registry-1.docker.io` for `docker.io`,
    /// else the registry as written.
    pub fn host(&self) -> &str {
        registry_host(&self.registry)
    }

    /// The same repository with another target.
    pub fn with_target(&self, target: Target) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            target,
        }
    }

    /// `registry/repository` without the target.
    pub fn repository_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// The host to connect to for a registry name (`docker.io` maps to
/// `registry-1.docker.io`).
pub fn registry_host(registry: &str) -> &str {
    if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Tag(t) => write!(f, "{}/{}:{}", self.registry, self.repository, t),
            Target::Digest(d) => write!(f, "{}/{}@{}", self.registry, self.repository, d),
        }
    }
}

/// A reference into an OCI image layout directory: `DIR:tag` or
/// `DIR@sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutReference {
    /// The layout directory.
    pub path: PathBuf,
    /// The tag or digest.
    pub target: Target,
}

impl LayoutReference {
    /// Parse `DIR:tag` or `DIR@digest`. The tag is taken after the last
    /// `:` that follows the last `/`.
    pub fn parse(input: &str) -> Result<LayoutReference, RegistryError> {
        let bad = |reason: &str| RegistryError::InvalidReference {
            reference: input.to_string(),
            reason: reason.to_string(),
        };
        if let Some((dir, digest)) = input.rsplit_once('@') {
            parse_digest(digest).map_err(|e| bad(&format!("the digest part is invalid ({e})")))?;
            if dir.is_empty() {
                return Err(bad("the layout directory is empty"));
            }
            return Ok(LayoutReference {
                path: PathBuf::from(dir),
                target: Target::Digest(digest.to_string()),
            });
        }
        let last_segment_start = input.rfind('/').map_or(0, |i| i + 1);
        match input[last_segment_start..].rfind(':') {
            Some(i) => {
                let split = last_segment_start + i;
                let (dir, tag) = (&input[..split], &input[split + 1..]);
                if dir.is_empty() {
                    return Err(bad("the layout directory is empty"));
                }
                validate_tag(tag).map_err(|r| bad(&r))?;
                Ok(LayoutReference {
                    path: PathBuf::from(dir),
                    target: Target::Tag(tag.to_string()),
                })
            }
            None => Err(bad(
                "it names no tag or digest; use <directory>:<tag> or <directory>@sha256:<digest>",
            )),
        }
    }
}

fn validate_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("the registry host is empty".into());
    }
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        // [IPv6]:port
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("registry {registry:?} has an unclosed '['"))?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("registry {registry:?} is not a valid IPv6 address"));
        }
        match after {
            "" => return Ok(()),
            p => (
                "",
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("registry {registry:?} has junk after ']'"))?,
                ),
            ),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p > 65535)
        {
            return Err(format!("registry {registry:?} has an invalid port"));
        }
    }
    if !registry.starts_with('[') {
        let ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Err(format!("registry {registry:?} is not a valid host name"));
        }
    }
    Ok(())
}

/// Repository: lowercase path components `[a-z0-9]+` joined by
/// separators `.`, `_`, `__` or one or more `-`, components joined by `/`.
fn validate_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("the repository name is empty".into());
    }
    for comp in repo.split('/') {
        if !valid_path_component(comp) {
            return Err(format!(
                "repository {repo:?} is invalid: each '/'-separated part must be lowercase letters and digits, optionally joined by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn valid_path_component(comp: &str) -> bool {
    let b = comp.as_bytes();
    if b.is_empty() {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &comp[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn validate_tag(tag: &str) -> Result<(), String> {
    let b = tag.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if b.is_empty() {
        return Err("the tag is empty".into());
    }
    if b.len() > 128 || !word(b[0]) || !b.iter().all(|&c| word(c) || c == b'.' || c == b'-') {
        return Err(format!(
            "tag {tag:?} is invalid: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    #[test]
    fn parses_tag_and_digest_forms() {
        let r = Reference::parse("localhost:5000/net-monitor:v1").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "net-monitor");
        assert_eq!(r.target, Target::Tag("v1".into()));
        assert_eq!(r.to_string(), "localhost:5000/net-monitor:v1");

        let r = Reference::parse(&format!("localhost:5000/org/app@{D}")).unwrap();
        assert_eq!(r.repository, "org/app");
        assert_eq!(r.target, Target::Digest(D.into()));

        let r = Reference::parse(&format!("registry.example.com/a/b:v2@{D}")).unwrap();
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.target, Target::Digest(D.into()));
        assert_eq!(r.host(), "registry.example.com");

        let r = Reference::parse("docker.io/library/alpine:3.19").unwrap();
        assert_eq!(r.host(), "registry-1.docker.io");
        assert_eq!(r.registry, "docker.io");

        let r = Reference::parse("[::1]:5000/x:y").unwrap();
        assert_eq!(r.registry, "[::1]:5000");
        assert!(Reference::parse("127.0.0.1:5000/a_b__c-d--e.f:tag_1.2-3").is_ok());
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "alpine:3",
            "alpine",
            "localhost:5000/repo",
            "localhost:5000/Repo:v1",
            "localhost:5000/repo:",
            "localhost:5000/repo:-bad",
            "localhost:5000/repo@sha256:abc",
            "localhost:5000/repo@md5:0123",
            "localhost:99999/repo:v1",
            "local_host:5000/repo:v1",
            "localhost:5000//repo:v1",
            "localhost:5000/repo/:v1",
            "localhost:5000/re..po:v1",
            "localhost:5000/repo:v1:v2",
            "localhost:5000/re po:v1",
        ] {
            let err = Reference::parse(bad).expect_err(bad);
            let msg = err.to_string();
            assert!(msg.contains("invalid reference"), "{bad}: {msg}");
        }
        let msg = Reference::parse("alpine:3").unwrap_err().to_string();
        assert!(msg.contains("no registry host"), "{msg}");
        let msg = Reference::parse("localhost:5000/repo")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no tag or digest"), "{msg}");
    }

    #[test]
    fn layout_references() {
        let r = LayoutReference::parse("./dir/e2e:v1").unwrap();
        assert_eq!(r.path, PathBuf::from("./dir/e2e"));
        assert_eq!(r.target, Target::Tag("v1".into()));
        let r = LayoutReference::parse(&format!("/tmp/x:y/e2e@{D}")).unwrap();
        assert_eq!(r.path, PathBuf::from("/tmp/x:y/e2e"));
        assert!(r.target.is_digest());
        assert!(LayoutReference::parse("/tmp/x:y/e2e").is_err());
        assert!(LayoutReference::parse("e2e@sha256:00").is_err());
        assert!(LayoutReference::parse(":v1").is_err());
    }
}
