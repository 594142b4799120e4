//! `notation blob policy init --name N --trust-store TYPE:NAME
//! --trusted-identity ID [--global] [--force]`.

use std::io::Write;

use notation_host::trustpolicy::blob::{BlobPolicyDocument, BlobStatementDocument};
use notation_host::trustpolicy::{SignatureVerificationDocument, POLICY_VERSION};
use notation_host::truststore::{is_valid_store_name, StoreType};

use super::Error;
use crate::cli::args::BlobPolicyInitArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Writes a one-statement blob policy (level strict).
pub(super) fn run(
    ctx: &Context,
    args: BlobPolicyInitArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for value in &args.trust_stores {
        let ok = value
            .split_once(':')
            .is_some_and(|(t, n)| StoreType::parse(t).is_some() && is_valid_store_name(n));
        if !ok {
            return Err(CliError::TrustStoreRefSyntax {
                value: value.clone(),
            });
        }
    }
    let doc = BlobPolicyDocument {
        version: Some(POLICY_VERSION.to_string()),
        trust_policies: Some(vec![BlobStatementDocument {
            name: Some(args.name.clone()),
            signature_verification: Some(SignatureVerificationDocument {
                level: Some("strict".to_string()),
                ..Default::default()
            }),
            global_policy: args.global.then_some(true),
            trust_stores: Some(args.trust_stores.clone()),
            trusted_identities: Some(args.trusted_identities.clone()),
            registry_scopes: None,
        }]),
    };
    doc.validate()?;
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|source| CliError::Encode {
        what: "blob trust policy",
        source,
    })?;
    // As upstream (Go's json.MarshalIndent): no trailing newline.
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    super::write_policy(ctx, &bytes)?;
    writeln!(
        out,
        "Successfully initialized blob trust policy file to {}",
        ctx.config.blob_trust_policy_file().display()
    )?;
    Ok(())
}
