//! `notation list`: the signatures of an artifact, as a tree or JSON.

use std::io::Write;

use notation_host::artifact::{self, Discovery, OpenOptions};
use notation_host::registry::oci::ARTIFACT_TYPE_NOTARY_SIGNATURE;
use notation_host::verification::Warning;

use super::args::{ListArgs, OutputFormat, RegistryArgs};
use super::output::Node;
use super::Context;
use crate::error::CliError;

/// Opens the artifact of list/inspect (`what` names the command in the tag
/// warning), resolves it and lists its signature manifests (at most `max`,
/// with a warning when there are more). A digest reference is resolved
/// while the referrers are listed.
pub fn discover(
    ctx: &Context,
    reference: &str,
    oci_layout: bool,
    registry: &RegistryArgs,
    what: &'static str,
    max: u32,
) -> Result<Discovery, CliError> {
    let opened = artifact::open(
        &ctx.config,
        reference,
        &OpenOptions {
            oci_layout,
            insecure: registry.insecure_registry,
            force_referrers_tag: false,
            username: registry.username.clone(),
            password: registry.password.clone(),
        },
    )?;
    let discovery = artifact::discover(opened, usize::try_from(max).unwrap_or(usize::MAX))?;
    for w in Warning::of_discovery(what, &discovery) {
        eprintln!("Warning: {w}");
    }
    Ok(discovery)
}

/// Prints the signature tree (or JSON).
pub fn run(ctx: &Context, args: ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let Discovery {
        opened,
        subject,
        signatures,
        ..
    } = discover(
        ctx,
        &args.reference,
        args.oci_layout,
        &args.registry,
        "list",
        args.max_signatures,
    )?;
    let reference = opened.digest_reference(&subject.digest);
    match args.output {
        OutputFormat::Json => {
            let sigs: Vec<serde_json::Value> = signatures
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "digest": d.digest,
                        "mediaType": d.media_type,
                        "artifactType": d.artifact_type.as_deref().unwrap_or(ARTIFACT_TYPE_NOTARY_SIGNATURE),
                        "size": d.size,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "reference": reference,
                "mediaType": subject.media_type,
                "digest": subject.digest,
                "size": subject.size,
                "signatures": sigs,
            });
            writeln!(out, "{}", pretty(&doc))?;
        }
        OutputFormat::Text => {
            if signatures.is_empty() {
                writeln!(out, "{reference} has no associated signature")?;
                return Ok(());
            }
            let mut root = Node::new(reference);
            let node = root.add(ARTIFACT_TYPE_NOTARY_SIGNATURE);
            for d in &signatures {
                node.add(d.digest.clone());
            }
            root.write(out)?;
        }
    }
    Ok(())
}

/// JSON as upstream prints `-o json` output: indented by four spaces.
pub fn pretty<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    // Our documents are maps of strings and numbers: they always serialise.
    match v.serialize(&mut ser) {
        Ok(()) => String::from_utf8(bytes).unwrap_or_default(),
        Err(e) => format!("{{\"error\": {:?}}}", e.to_string()),
    }
}
