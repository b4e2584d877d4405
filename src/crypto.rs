//! The only AEAD code: the data key, the `ENC[AES256_GCM,...]` value codec and the MAC.

pub mod cipher;
pub mod data_key;
pub mod go_base64;
pub mod mac;
pub mod walk;
