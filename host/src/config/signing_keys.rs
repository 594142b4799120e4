//! `signingkeys.json`: the signing key list and the default key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{is_valid_name, read_json_file, write_json_file, ConfigError};

/// One entry of the signing key list: either a local key/certificate pair
/// (`keyPath` + `certPath`) or a key held by a plugin (`id` + `pluginName`,
/// optional `pluginConfig`). Field names are upstream's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeySuite {
    /// The key's name in the list.
    pub name: String,
    /// Path of the PEM private key (local keys).
    #[serde(rename = "keyPath", default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<PathBuf>,
    /// Path of the PEM certificate chain, leaf first (local keys).
    #[serde(rename = "certPath", default, skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<PathBuf>,
    /// Key identifier passed to the plugin (plugin keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name of the signing plugin (plugin keys).
    #[serde(
        rename = "pluginName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub plugin_name: Option<String>,
    /// `pluginConfig` passed to the plugin with every request.
    #[serde(
        rename = "pluginConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub plugin_config: Option<BTreeMap<String, String>>,
    /// Fields this version does not know, preserved on save.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What a key entry refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRef<'a> {
    /// A local PEM key and certificate chain.
    Local {
        /// Private key file.
        key_path: &'a Path,
        /// Certificate chain file.
        cert_path: &'a Path,
    },
    /// A key held by a plugin.
    Plugin {
        /// Plugin name.
        plugin: &'a str,
        /// Key id.
        id: &'a str,
        /// Plugin configuration stored with the key.
        config: Option<&'a BTreeMap<String, String>>,
    },
}

impl KeySuite {
    /// A local key/certificate pair.
    pub fn local(name: &str, key_path: PathBuf, cert_path: PathBuf) -> Self {
        KeySuite {
            name: name.to_string(),
            key_path: Some(key_path),
            cert_path: Some(cert_path),
            ..Default::default()
        }
    }

    /// A plugin key.
    pub fn plugin(
        name: &str,
        id: &str,
        plugin: &str,
        config: Option<BTreeMap<String, String>>,
    ) -> Self {
        KeySuite {
            name: name.to_string(),
            id: Some(id.to_string()),
            plugin_name: Some(plugin.to_string()),
            plugin_config: config.filter(|c| !c.is_empty()),
            ..Default::default()
        }
    }

    /// Classifies the entry; an error when it is neither a complete local
    /// pair nor a complete plugin key.
    pub fn key_ref(&self) -> Result<KeyRef<'_>, ConfigError> {
        fn nonempty(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.is_empty())
        }
        fn nonempty_path(p: &Option<PathBuf>) -> Option<&Path> {
            p.as_deref().filter(|p| !p.as_os_str().is_empty())
        }
        match (
            nonempty_path(&self.key_path),
            nonempty_path(&self.cert_path),
            nonempty(&self.plugin_name),
            nonempty(&self.id),
        ) {
            (Some(key_path), Some(cert_path), None, _) => Ok(KeyRef::Local {
                key_path,
                cert_path,
            }),
            (None, None, Some(plugin), Some(id)) => Ok(KeyRef::Plugin {
                plugin,
                id,
                config: self.plugin_config.as_ref(),
            }),
            _ => Err(ConfigError::InvalidKey(format!(
                "signing key {:?} in signingkeys.json is incomplete: it needs either \
                 \"keyPath\" and \"certPath\", or \"id\" and \"pluginName\". Fix the entry, \
                 or remove it with `notation key delete {}`",
                self.name, self.name
            ))),
        }
    }
}

/// The content of `signingkeys.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SigningKeys {
    /// Name of the default signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The key list, in insertion order.
    #[serde(default)]
    pub keys: Vec<KeySuite>,
    /// Fields this version does not know, preserved on save.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SigningKeys {
    /// Loads `path`; an empty list when the file does not exist.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut keys: Self = read_json_file(path)?.unwrap_or_default();
        // Files written by notation v1.0 carry `"default": ""` for "none".
        if keys.default.as_deref() == Some("") {
            keys.default = None;
        }
        keys.check(path)?;
        Ok(keys)
    }

    /// The rules upstream checks on load: names are non-empty and unique,
    /// and the default names a key of the list.
    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let malformed = |reason: String| ConfigError::MalformedSigningKeys {
            path: path.to_path_buf(),
            reason,
        };
        let mut seen = std::collections::BTreeSet::new();
        for key in &self.keys {
            if key.name.is_empty() {
                return Err(malformed("key name cannot be empty".to_string()));
            }
            if !seen.insert(key.name.as_str()) {
                return Err(malformed(format!(
                    "multiple keys with name '{}' found",
                    key.name
                )));
            }
        }
        if let Some(default) = &self.default {
            if !seen.contains(default.as_str()) {
                return Err(malformed(format!("default key '{default}' not found")));
            }
        }
        Ok(())
    }

    /// Saves to `path` atomically (mode 0600).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        write_json_file(path, self, crate::fsutil::MODE_PRIVATE)
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&KeySuite> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The default entry, if a default is set and present.
    pub fn default_key(&self) -> Option<&KeySuite> {
        self.default.as_deref().and_then(|d| self.get(d))
    }

    /// Appends `key`; refuses a duplicate or invalid name. Makes it the
    /// default when `make_default`.
    pub fn add(&mut self, key: KeySuite, make_default: bool) -> Result<(), ConfigError> {
        if !is_valid_name(&key.name) {
            return Err(ConfigError::InvalidName { name: key.name });
        }
        if self.get(&key.name).is_some() {
            return Err(ConfigError::KeyExists { name: key.name });
        }
        key.key_ref()?;
        if make_default {
            self.default = Some(key.name.clone());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Makes `name` the default key.
    pub fn set_default(&mut self, name: &str) -> Result<(), ConfigError> {
        if self.get(name).is_none() {
            return Err(ConfigError::KeyNotFound {
                name: name.to_string(),
            });
        }
        self.default = Some(name.to_string());
        Ok(())
    }

    /// Removes every key in `names`; all must exist or nothing is removed.
    /// Unsets the default when it is removed. Returns the removed names.
    pub fn remove(&mut self, names: &[String]) -> Result<Vec<String>, ConfigError> {
        if let Some(missing) = names.iter().find(|n| self.get(n).is_none()) {
            return Err(ConfigError::KeyNotFound {
                name: missing.clone(),
            });
        }
        let mut removed = Vec::new();
        for name in names {
            if removed.contains(name) {
                continue;
            }
            self.keys.retain(|k| &k.name != name);
            if self.default.as_deref() == Some(name.as_str()) {
                self.default = None;
            }
            removed.push(name.clone());
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPSTREAM: &str = r#"{
    "default": "wabbit-networks.io",
    "keys": [
        {
            "name": "wabbit-networks.io",
            "keyPath": "/home/u/.config/notation/localkeys/wabbit-networks.io.key",
            "certPath": "/home/u/.config/notation/localkeys/wabbit-networks.io.crt"
        },
        {
            "name": "kms",
            "id": "arn:key/1",
            "pluginName": "com.example.kms",
            "pluginConfig": {"region": "us-west-2"}
        }
    ]
}"#;

    #[test]
    fn parses_upstream_file_and_round_trips() {
        let keys: SigningKeys = serde_json::from_str(UPSTREAM).unwrap();
        assert_eq!(keys.default_key().unwrap().name, "wabbit-networks.io");
        assert!(matches!(
            keys.get("wabbit-networks.io").unwrap().key_ref().unwrap(),
            KeyRef::Local { .. }
        ));
        match keys.get("kms").unwrap().key_ref().unwrap() {
            KeyRef::Plugin { plugin, id, config } => {
                assert_eq!(plugin, "com.example.kms");
                assert_eq!(id, "arn:key/1");
                assert_eq!(config.unwrap()["region"], "us-west-2");
            }
            other => panic!("{other:?}"),
        }
        let back = serde_json::to_value(&keys).unwrap();
        let orig: serde_json::Value = serde_json::from_str(UPSTREAM).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn add_update_remove() {
        let mut keys = SigningKeys::default();
        keys.add(KeySuite::plugin("a", "id", "p", None), false)
            .unwrap();
        keys.add(KeySuite::plugin("b", "id", "p", None), true)
            .unwrap();
        assert!(matches!(
            keys.add(KeySuite::plugin("a", "id", "p", None), false),
            Err(ConfigError::KeyExists { .. })
        ));
        assert!(matches!(
            keys.add(KeySuite::plugin("a/b", "id", "p", None), false),
            Err(ConfigError::InvalidName { .. })
        ));
        assert_eq!(keys.default.as_deref(), Some("b"));
        keys.set_default("a").unwrap();
        assert!(keys.set_default("zz").is_err());
        // all-or-nothing removal
        assert!(keys.remove(&["a".into(), "zz".into()]).is_err());
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(keys.remove(&["a".into()]).unwrap(), vec!["a".to_string()]);
        assert_eq!(keys.default, None);
        assert_eq!(
            serde_json::to_string(&keys).unwrap(),
            r#"{"keys":[{"name":"b","id":"id","pluginName":"p"}]}"#
        );
    }

    #[test]
    fn incomplete_entry_is_reported() {
        let k = KeySuite {
            name: "x".into(),
            key_path: Some("/k".into()),
            ..Default::default()
        };
        assert!(matches!(k.key_ref(), Err(ConfigError::InvalidKey(_))));
    }

    #[test]
    fn malformed_files_are_named_in_upstream_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signingkeys.json");
        for (json, reason) in [
            (
                r#"{"keys":[{"name":"a","id":"i","pluginName":"p"},{"name":"a","id":"j","pluginName":"p"}]}"#,
                "malformed signingkeys.json: multiple keys with name 'a' found",
            ),
            (
                r#"{"keys":[{"name":"","id":"i","pluginName":"p"}]}"#,
                "malformed signingkeys.json: key name cannot be empty",
            ),
            (
                r#"{"default":"b","keys":[{"name":"a","id":"i","pluginName":"p"}]}"#,
                "malformed signingkeys.json: default key 'b' not found",
            ),
        ] {
            std::fs::write(&path, json).unwrap();
            let err = SigningKeys::load(&path).unwrap_err().to_string();
            assert!(err.starts_with(reason), "{err}");
        }
        std::fs::write(&path, r#"{"default":"","keys":[]}"#).unwrap();
        assert_eq!(SigningKeys::load(&path).unwrap().default, None);
    }
}
