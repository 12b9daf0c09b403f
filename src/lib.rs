//! Vireo: a federated video platform in one static binary.
//!
//! The binary (`main.rs`) is a thin CLI over this library; integration tests and benches use the
//! same library to start the real server in-process (`app::app`) or to seed a store.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod federation;
pub mod http;
pub mod jobs;
pub mod media;
pub mod model;
pub mod search;
pub mod server;
pub mod service;
pub mod store;
pub mod web;
