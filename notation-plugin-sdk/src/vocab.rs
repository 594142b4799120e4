//! The closed vocabularies of the plugin contract and the signature
//! specification, each with its exact wire string.
//!
//! Every set is open-ended on the wire: a newer peer may send a value this
//! version does not know. Each enum therefore carries an explicit
//! `Unknown(String)` variant that keeps the original text, so parsing never
//! fails on a new value and the caller decides what an unknown value means.

use std::fmt;

/// Declares an enum whose variants map one-to-one to wire strings, plus an
/// `Unknown(String)` variant, with `Display`, `FromStr`-like parsing and
/// serde support through the wire string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the contract does not know; the
            /// original wire string is kept.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows, in specification order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The exact wire string of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// Parses a wire string; values this version does not know
            /// become [`Self::Unknown`].
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }

            /// Whether this value is one this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok($name::from_wire(&s))
            }
        }
    };
}

wire_enum! {
    /// A feature a plugin declares in its metadata.
    pub enum Capability {
        /// Signs a raw payload digest (`generate-signature`).
        SignatureGeneratorRaw => "SIGNATURE_GENERATOR.RAW",
        /// Produces a whole signature envelope for OCI payloads
        /// (`generate-envelope`).
        SignatureGeneratorEnvelope => "SIGNATURE_GENERATOR.ENVELOPE",
        /// Produces a whole signature envelope for blob payloads.
        SignatureGeneratorEnvelopeForBlob => "SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB",
        /// Verifies trusted identities (`verify-signature`).
        SignatureVerifierTrustedIdentity => "SIGNATURE_VERIFIER.TRUSTED_IDENTITY",
        /// Performs revocation checks (`verify-signature`).
        SignatureVerifierRevocationCheck => "SIGNATURE_VERIFIER.REVOCATION_CHECK",
    }
}

impl Capability {
    /// Whether this is one of the `SIGNATURE_VERIFIER.*` capabilities.
    pub fn is_verifier(&self) -> bool {
        matches!(
            self,
            Capability::SignatureVerifierTrustedIdentity
                | Capability::SignatureVerifierRevocationCheck
        )
    }
}

wire_enum! {
    /// Key type and size of a signing key.
    pub enum KeySpec {
        /// RSA with a 2048-bit modulus.
        Rsa2048 => "RSA-2048",
        /// RSA with a 3072-bit modulus.
        Rsa3072 => "RSA-3072",
        /// RSA with a 4096-bit modulus.
        Rsa4096 => "RSA-4096",
        /// ECDSA on NIST P-256.
        Ec256 => "EC-256",
        /// ECDSA on NIST P-384.
        Ec384 => "EC-384",
        /// ECDSA on NIST P-521.
        Ec521 => "EC-521",
    }
}

wire_enum! {
    /// Hash algorithm used to digest the signing input.
    pub enum HashAlgorithm {
        /// SHA-256.
        Sha256 => "SHA-256",
        /// SHA-384.
        Sha384 => "SHA-384",
        /// SHA-512.
        Sha512 => "SHA-512",
    }
}

wire_enum! {
    /// Signature algorithm, as named in the plugin contract.
    pub enum SigningAlgorithm {
        /// RSASSA-PSS with SHA-256.
        RsassaPssSha256 => "RSASSA-PSS-SHA-256",
        /// RSASSA-PSS with SHA-384.
        RsassaPssSha384 => "RSASSA-PSS-SHA-384",
        /// RSASSA-PSS with SHA-512.
        RsassaPssSha512 => "RSASSA-PSS-SHA-512",
        /// ECDSA on P-256 with SHA-256.
        EcdsaSha256 => "ECDSA-SHA-256",
        /// ECDSA on P-384 with SHA-384.
        EcdsaSha384 => "ECDSA-SHA-384",
        /// ECDSA on P-521 with SHA-512.
        EcdsaSha512 => "ECDSA-SHA-512",
    }
}

wire_enum! {
    /// Error codes a plugin may return in its error object.
    pub enum ErrorCode {
        /// A required field was missing or a value was malformed; also an
        /// unknown key id.
        ValidationError => "VALIDATION_ERROR",
        /// The request's contract version is not supported.
        UnsupportedContractVersion => "UNSUPPORTED_CONTRACT_VERSION",
        /// Authentication or authorization to use the key failed.
        AccessDenied => "ACCESS_DENIED",
        /// The operation timed out; the host may retry.
        Timeout => "TIMEOUT",
        /// The operation was throttled; the host may retry.
        Throttled => "THROTTLED",
        /// Any other error.
        Error => "ERROR",
    }
}

impl KeySpec {
    /// The signature algorithm the signature specification assigns to this
    /// key spec, or `None` for an unknown key spec.
    pub fn signing_algorithm(&self) -> Option<SigningAlgorithm> {
        Some(match self {
            KeySpec::Rsa2048 => SigningAlgorithm::RsassaPssSha256,
            KeySpec::Rsa3072 => SigningAlgorithm::RsassaPssSha384,
            KeySpec::Rsa4096 => SigningAlgorithm::RsassaPssSha512,
            KeySpec::Ec256 => SigningAlgorithm::EcdsaSha256,
            KeySpec::Ec384 => SigningAlgorithm::EcdsaSha384,
            KeySpec::Ec521 => SigningAlgorithm::EcdsaSha512,
            KeySpec::Unknown(_) => return None,
        })
    }

    /// The hash algorithm the signature specification assigns to this key
    /// spec, or `None` for an unknown key spec.
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        self.signing_algorithm().and_then(|a| a.hash_algorithm())
    }
}

impl SigningAlgorithm {
    /// The hash algorithm this signature algorithm digests with.
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        Some(match self {
            SigningAlgorithm::RsassaPssSha256 | SigningAlgorithm::EcdsaSha256 => {
                HashAlgorithm::Sha256
            }
            SigningAlgorithm::RsassaPssSha384 | SigningAlgorithm::EcdsaSha384 => {
                HashAlgorithm::Sha384
            }
            SigningAlgorithm::RsassaPssSha512 | SigningAlgorithm::EcdsaSha512 => {
                HashAlgorithm::Sha512
            }
            SigningAlgorithm::Unknown(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip() {
        for c in Capability::KNOWN {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<Capability>(&json).unwrap(), *c);
        }
        assert_eq!(
            serde_json::to_string(&KeySpec::Ec521).unwrap(),
            "\"EC-521\""
        );
    }

    #[test]
    fn unknown_values_are_kept() {
        let v: ErrorCode = serde_json::from_str("\"QUOTA_EXCEEDED\"").unwrap();
        assert_eq!(v, ErrorCode::Unknown("QUOTA_EXCEEDED".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"QUOTA_EXCEEDED\"");
        assert!(!v.is_known());
    }

    #[test]
    fn key_spec_maps_to_algorithms() {
        assert_eq!(
            KeySpec::Rsa3072.signing_algorithm(),
            Some(SigningAlgorithm::RsassaPssSha384)
        );
        assert_eq!(KeySpec::Ec521.hash_algorithm(), Some(HashAlgorithm::Sha512));
        assert_eq!(KeySpec::Unknown("X".into()).signing_algorithm(), None);
    }
}
