//! The daemon's and the client's wire formats.

pub mod xmlrpc;
