//! The daemon's and the client's wire formats.

pub mod xmlrpc;
pub mod http;
pub mod api;
pub mod web;
