//! The end-to-end tests, in one binary around one `spawn_app` (`tests/common`): the app on
//! port 0 with fake providers speaking their real wire formats, the real store in a temporary
//! folder, and for some tests the real `kabar` binary as a child process. One binary links once
//! and shares its helpers; each file is one area.

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod admin_pages;
mod broadcasts;
mod browser;
mod cli;
mod conversations;
mod helpdesk;
mod imports;
#[cfg(feature = "postgres")]
mod migrate;
mod pages;
mod privacy;
#[cfg(feature = "postgres")]
mod replicas;
mod resilience;
