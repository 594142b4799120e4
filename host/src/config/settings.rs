//! `config.json`: registry and signing settings.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{read_json_file, write_json_file, ConfigError};

/// The content of `config.json`, with upstream's field names. Fields this
/// version does not know are kept and written back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Registries reached over plain HTTP.
    #[serde(
        rename = "insecureRegistries",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub insecure_registries: Vec<String>,
    /// Default signature envelope format (`jws` or `cose`).
    #[serde(
        rename = "signatureFormat",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub signature_format: Option<String>,
    /// Name of the docker credential helper used for every registry.
    #[serde(
        rename = "credsStore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub creds_store: Option<String>,
    /// Credential helper per registry host.
    #[serde(
        rename = "credHelpers",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub cred_helpers: BTreeMap<String, String>,
    /// Fields this version does not know, preserved on save.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Settings {
    /// Loads `path`; the defaults when the file does not exist.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Ok(read_json_file(path)?.unwrap_or_default())
    }

    /// Saves to `path` atomically (mode 0600: it may name credential helpers).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        write_json_file(path, self, crate::fsutil::MODE_PRIVATE)
    }

    /// Reports whether `registry` (`host[:port]`) is listed as insecure.
    pub fn is_insecure_registry(&self, registry: &str) -> bool {
        self.insecure_registries.iter().any(|r| r == registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_shape_round_trips_with_unknown_fields() {
        let json = r#"{
  "insecureRegistries": ["localhost:5000"],
  "credsStore": "desktop",
  "credHelpers": {"registry.wabbit-networks.io": "wabbithelper"},
  "signatureFormat": "cose",
  "futureField": {"a": 1}
}"#;
        let s: Settings = serde_json::from_str(json).unwrap();
        assert!(s.is_insecure_registry("localhost:5000"));
        assert_eq!(s.creds_store.as_deref(), Some("desktop"));
        assert_eq!(s.signature_format.as_deref(), Some("cose"));
        assert_eq!(
            s.cred_helpers["registry.wabbit-networks.io"],
            "wabbithelper"
        );
        let back: serde_json::Value = serde_json::to_value(&s).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn missing_file_is_default_and_corrupt_file_is_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        assert_eq!(Settings::load(&p).unwrap(), Settings::default());
        std::fs::write(&p, "{not json").unwrap();
        assert!(matches!(Settings::load(&p), Err(ConfigError::Parse { .. })));
    }
}
