//! The `notation` host: signing and verification of OCI artifacts and blobs.
