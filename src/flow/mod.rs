//! Conversation flows: the data staff write (`model`), its validation (`load`) and the pure
//! engine that runs it (`engine`).

pub mod engine;
pub mod load;
pub mod model;
pub mod render;

pub use engine::{Attachment, Effect, Engine, Facts, Input, Reply, Session, State};
pub use model::{Flows, Target};
