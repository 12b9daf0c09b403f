//! Integration tests: the real `vireo` binary on 127.0.0.1 with real redb files in temporary
//! directories, driven over HTTP, by its own admin CLI, and by PeerTube's real clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod admin_cli;
mod audio;
mod bad_input;
mod blocklist;
mod browser;
mod clients;
mod common;
mod conformance;
mod encode;
mod endpoints;
mod federation;
mod fedify;
mod files;
mod flow;
mod hostile;
mod hostile_media;
mod inprocess;
mod instance_follows;
mod ladder;
mod ladder_inputs;
mod layering;
mod peertube_api;
mod persistence;
mod rates;
mod remote_videos;
mod remux;
mod search;
mod settings;
mod thumbnails;
mod uploads;
mod videos;
mod views;
mod web;
