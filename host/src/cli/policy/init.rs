//! `notation policy init --name N --trust-store TYPE:NAME --trusted-identity ID [--force]`.

use std::io::Write;

use notation_host::trustpolicy::{
    SignatureVerificationDocument, StatementDocument, TrustPolicyDocument, POLICY_VERSION,
};
use notation_host::truststore::{is_valid_store_name, StoreType};

use crate::cli::args::PolicyInitArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Writes a one-statement policy (`registryScopes: ["*"]`, level strict).
pub fn run(ctx: &Context, args: PolicyInitArgs, out: &mut dyn Write) -> Result<(), CliError> {
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
    let doc = TrustPolicyDocument {
        version: Some(POLICY_VERSION.to_string()),
        trust_policies: Some(vec![StatementDocument {
            name: Some(args.name.clone()),
            registry_scopes: Some(vec!["*".to_string()]),
            signature_verification: Some(SignatureVerificationDocument {
                level: Some("strict".to_string()),
                ..Default::default()
            }),
            trust_stores: Some(args.trust_stores.clone()),
            trusted_identities: Some(args.trusted_identities.clone()),
        }]),
    };
    doc.validate()?;
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|source| CliError::Encode {
        what: "trust policy",
        source,
    })?;
    // As upstream (Go's json.MarshalIndent): no trailing newline.
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    super::write_policy(ctx, &bytes, out)?;
    writeln!(
        out,
        "Successfully initialized OCI trust policy file to {}",
        ctx.config.oci_trust_policy_file().display()
    )?;
    Ok(())
}
