//! Verification plugins as seen by the verifier: a small trait so the
//! workflow does not depend on how plugins run. [`ExternalPluginLoader`]
//! implements it over the SDK's subprocess client.

use std::collections::BTreeMap;
use std::path::PathBuf;

use notation_plugin_sdk::protocol::{
    GetMetadataResponse, VerifySignatureRequest, VerifySignatureResponse,
};

/// An error from loading or calling a plugin (the client's own error,
/// kept as the source).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PluginCallError(pub Box<dyn std::error::Error + Send + Sync>);

/// A loaded verification plugin.
pub trait VerificationPlugin {
    /// The plugin's `get-plugin-metadata` response without a plugin
    /// configuration.
    fn metadata(&self) -> Result<GetMetadataResponse, PluginCallError>;
    /// The plugin's `get-plugin-metadata` response for `plugin_config`, the
    /// configuration the following `verify-signature` will carry: the
    /// answer that decides the verification capabilities and the minimum
    /// version check. The default ignores the configuration.
    fn metadata_for(
        &self,
        plugin_config: &BTreeMap<String, String>,
    ) -> Result<GetMetadataResponse, PluginCallError> {
        let _ = plugin_config;
        self.metadata()
    }
    /// Runs `verify-signature`.
    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginCallError>;
}

/// Finds plugins by name.
pub trait PluginLoader: Send + Sync {
    /// Loads the plugin called `name`.
    fn load(&self, name: &str) -> Result<Box<dyn VerificationPlugin>, PluginCallError>;
}

/// Loads installed plugins from a plugin directory with the SDK client.
#[derive(Debug, Clone)]
pub struct ExternalPluginLoader {
    /// The plugin directory (`{config}/plugins`).
    pub plugin_dir: PathBuf,
}

struct External(notation_plugin_sdk::client::ExternalPlugin);

impl VerificationPlugin for External {
    fn metadata(&self) -> Result<GetMetadataResponse, PluginCallError> {
        self.0
            .metadata(None)
            .map_err(|e| PluginCallError(Box::new(e)))
    }

    fn metadata_for(
        &self,
        plugin_config: &BTreeMap<String, String>,
    ) -> Result<GetMetadataResponse, PluginCallError> {
        self.0
            .metadata(Some(plugin_config))
            .map_err(|e| PluginCallError(Box::new(e)))
    }

    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginCallError> {
        self.0
            .verify_signature(req)
            .map_err(|e| PluginCallError(Box::new(e)))
    }
}

impl PluginLoader for ExternalPluginLoader {
    fn load(&self, name: &str) -> Result<Box<dyn VerificationPlugin>, PluginCallError> {
        let p = notation_plugin_sdk::client::ExternalPlugin::find(&self.plugin_dir, name)
            .map_err(|e| PluginCallError(Box::new(e)))?;
        Ok(Box::new(External(p)))
    }
}
