//! The daemon's and the client's wire formats.

pub mod api;
pub mod http;
pub mod web;
pub mod xmlrpc;
