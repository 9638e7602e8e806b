//! `[fcgi-program:x]` sockets: created by the daemon before the first
//! process of the group starts, handed to each process as its fd 0, kept
//! open across the processes' restarts.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

use crate::config::{FcgiSocket, SocketEndpoint};
use crate::sys;

/// Creates, binds and listens on the group's socket (blocking, as FastCGI
/// programs expect to `accept` on it).
pub fn open(socket: &FcgiSocket) -> Result<OwnedFd, String> {
    let url = socket.endpoint.url();
    let fd: OwnedFd = match &socket.endpoint {
        SocketEndpoint::Tcp { host, port } => {
            let listener = std::net::TcpListener::bind((host.as_str(), *port))
                .map_err(|e| format!("cannot create socket {url}: {e}"))?;
            listener.into()
        }
        SocketEndpoint::Unix { path, owner, mode } => {
            if std::path::Path::new(path).exists() {
                let _ = std::fs::remove_file(path);
            }
            let listener = std::os::unix::net::UnixListener::bind(path)
                .map_err(|e| format!("cannot create socket {url}: {e}"))?;
            let cleanup = |e: String| {
                let _ = std::fs::remove_file(path);
                e
            };
            if let Some((uid, gid)) = owner {
                let gid = u32::try_from(*gid).ok();
                std::os::unix::fs::chown(path, Some(*uid), gid).map_err(|e| {
                    cleanup(format!("Could not change ownership of socket file: {e}"))
                })?;
            }
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode)).map_err(
                |e| cleanup(format!("Could not change permissions of socket file: {e}")),
            )?;
            listener.into()
        }
    };
    let backlog = socket
        .backlog
        .and_then(|b| i32::try_from(b).ok())
        .unwrap_or(libc::SOMAXCONN);
    sys::listen(fd.as_raw_fd(), backlog).map_err(|e| format!("cannot listen on {url}: {e}"))?;
    Ok(fd)
}

/// Removes a unix socket's file when its socket is closed for good.
pub fn remove_file(socket: &FcgiSocket) {
    if let SocketEndpoint::Unix { path, .. } = &socket.endpoint {
        let _ = std::fs::remove_file(path);
    }
}
