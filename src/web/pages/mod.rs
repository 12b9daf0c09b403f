//! One module per page or group of pages.

pub mod about;
pub mod account;
pub mod actors;
pub mod admin;
pub mod browse;
pub mod federation;
pub mod feeds;
pub mod interaction;
pub mod library;
pub mod login;
pub mod oembed;
pub mod search;
pub mod settings;
pub mod upload;
pub mod watch;
