// A complete Notary Project plugin: a raw ECDSA P-256 signer. Its key and
// certificate are read from one PEM file named by the `pem` entry of
// `pluginConfig`. Install it as
// `PLUGIN_DIR/com.example.hello/notation-com.example.hello`.
use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::vocab::{Capability, KeySpec, SigningAlgorithm};
use openssl::{ec::EcKey, ecdsa::EcdsaSig, sha::sha256, x509::X509};

struct Hello;

impl notation_plugin_sdk::Plugin for Hello {
    fn get_plugin_metadata(&self, _: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        let caps = vec![Capability::SignatureGeneratorRaw];
        let (name, desc, url) = ("com.example.hello", "Example signer", "https://example.com");
        Ok(GetMetadataResponse::new(name, desc, "1.0.0", url, caps))
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> PluginResult<DescribeKeyResponse> {
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec: KeySpec::Ec256,
        })
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> PluginResult<GenerateSignatureResponse> {
        let path = required_config(&req.plugin_config, "pem")?;
        let pem = std::fs::read(path)
            .map_err(|e| PluginError::general(format!("cannot read {path}: {e}")))?;
        let ssl = |e: openssl::error::ErrorStack| PluginError::general(e.to_string());
        let key = EcKey::private_key_from_pem(&pem).map_err(ssl)?;
        let cert = X509::from_pem(&pem).map_err(ssl)?;
        let sig = EcdsaSig::sign(&sha256(&req.payload), &key).map_err(ssl)?;
        // Notary signatures carry ECDSA as r || s, each 32 bytes for P-256.
        let mut signature = sig.r().to_vec_padded(32).map_err(ssl)?;
        signature.extend(sig.s().to_vec_padded(32).map_err(ssl)?);
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature,
            signing_algorithm: SigningAlgorithm::EcdsaSha256,
            certificate_chain: vec![cert.to_der().map_err(ssl)?],
        })
    }
}

fn main() {
    notation_plugin_sdk::main(Hello)
}
