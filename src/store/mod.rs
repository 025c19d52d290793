//! Storage. The embedded sled backend lives in `sled/`; nothing outside `store` knows its keys,
//! encodings or files.

pub mod sled;

pub use self::sled::*;
