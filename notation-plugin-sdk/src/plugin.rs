//! The trait a plugin author implements: one method per contract command.

use crate::protocol::{
    Command, DescribeKeyRequest, DescribeKeyResponse, GenerateEnvelopeRequest,
    GenerateEnvelopeResponse, GenerateSignatureRequest, GenerateSignatureResponse,
    GetMetadataRequest, GetMetadataResponse, PluginError, VerifySignatureRequest,
    VerifySignatureResponse,
};

/// A Notary Project plugin.
///
/// Only [`Plugin::get_plugin_metadata`] is required. Every other method
/// answers "unsupported" by default, so a plugin implements exactly the
/// commands its declared capabilities need:
///
/// | capability                              | commands                                |
/// |-----------------------------------------|-----------------------------------------|
/// | `SIGNATURE_GENERATOR.RAW`               | `describe_key`, `generate_signature`    |
/// | `SIGNATURE_GENERATOR.ENVELOPE`          | `generate_envelope`                     |
/// | `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB` | `describe_key`, `generate_envelope`     |
/// | `SIGNATURE_VERIFIER.*`                  | `verify_signature`                      |
///
/// Requests reach these methods already validated: required fields are
/// present and non-empty and the contract version is compatible. The
/// runner ([`crate::runner`]) also refuses commands the declared
/// capabilities do not allow, so a method is only called when it should be.
///
/// The host side implements this trait too
/// (`client::ExternalPlugin`, with the `client` feature), so code that signs or verifies
/// does not care whether the key is built in or behind an external plugin.
pub trait Plugin {
    /// `get-plugin-metadata`: static facts about the plugin. Should not
    /// make remote calls; the host calls it before every operation.
    fn get_plugin_metadata(
        &self,
        req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError>;

    /// `describe-key`: the key spec of `req.key_id`.
    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        let _ = req;
        Err(PluginError::unsupported(Command::DescribeKey))
    }

    /// `generate-signature`: a raw signature over `req.payload`, hashed
    /// with `req.hash_algorithm`.
    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        let _ = req;
        Err(PluginError::unsupported(Command::GenerateSignature))
    }

    /// `generate-envelope`: a complete signature envelope over `req.payload`.
    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        let _ = req;
        Err(PluginError::unsupported(Command::GenerateEnvelope))
    }

    /// `verify-signature`: the verification steps in
    /// `req.trust_policy.signature_verification`.
    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        let _ = req;
        Err(PluginError::unsupported(Command::VerifySignature))
    }
}

impl<P: Plugin + ?Sized> Plugin for &P {
    fn get_plugin_metadata(
        &self,
        req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        (**self).get_plugin_metadata(req)
    }
    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        (**self).describe_key(req)
    }
    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        (**self).generate_signature(req)
    }
    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        (**self).generate_envelope(req)
    }
    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        (**self).verify_signature(req)
    }
}

impl<P: Plugin + ?Sized> Plugin for Box<P> {
    fn get_plugin_metadata(
        &self,
        req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        (**self).get_plugin_metadata(req)
    }
    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        (**self).describe_key(req)
    }
    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        (**self).generate_signature(req)
    }
    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        (**self).generate_envelope(req)
    }
    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        (**self).verify_signature(req)
    }
}
