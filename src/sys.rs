//! Thin, safe wrappers over the few libc calls the upper layers need.
//! Every `unsafe` block of the crate lives here, each with why it is sound.

use std::ffi::{CStr, CString};

/// A password-database entry, reduced to what we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// Size of the scratch buffer for the `get*_r` calls; grown on ERANGE.
const INITIAL_BUF: usize = 1024;
const MAX_BUF: usize = 1 << 20;

fn user_from(pw: &libc::passwd) -> User {
    // SAFETY: on success getpwnam_r/getpwuid_r fill pw_name and pw_dir with
    // NUL-terminated strings inside the buffer we still own.
    let name = unsafe { CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: as above.
    let home = unsafe { CStr::from_ptr(pw.pw_dir) }
        .to_string_lossy()
        .into_owned();
    User {
        name,
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        home,
    }
}

/// Runs one reentrant passwd lookup, growing the buffer on ERANGE.
fn passwd_lookup(
    call: impl Fn(&mut libc::passwd, &mut [libc::c_char], &mut *mut libc::passwd) -> libc::c_int,
) -> Option<User> {
    let mut size = INITIAL_BUF;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: passwd is a plain C struct for which all-zero is a valid value.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pw, &mut buf, &mut result);
        if rc == libc::ERANGE && size < MAX_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(user_from(&pw));
    }
}

pub fn user_by_name(name: &str) -> Option<User> {
    let cname = CString::new(name).ok()?;
    passwd_lookup(|pw, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getpwnam_r(cname.as_ptr(), pw, buf.as_mut_ptr(), buf.len(), result) }
    })
}

pub fn user_by_uid(uid: u32) -> Option<User> {
    passwd_lookup(|pw, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getpwuid_r(uid, pw, buf.as_mut_ptr(), buf.len(), result) }
    })
}

/// Runs one reentrant group lookup; returns the gid when found.
fn group_lookup(
    call: impl Fn(&mut libc::group, &mut [libc::c_char], &mut *mut libc::group) -> libc::c_int,
) -> Option<u32> {
    let mut size = INITIAL_BUF;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: group is a plain C struct for which all-zero is a valid value.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        let rc = call(&mut gr, &mut buf, &mut result);
        if rc == libc::ERANGE && size < MAX_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(gr.gr_gid);
    }
}

pub fn group_by_name(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    group_lookup(|gr, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getgrnam_r(cname.as_ptr(), gr, buf.as_mut_ptr(), buf.len(), result) }
    })
}

pub fn group_by_gid(gid: u32) -> bool {
    group_lookup(|gr, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getgrgid_r(gid, gr, buf.as_mut_ptr(), buf.len(), result) }
    })
    .is_some()
}

pub fn getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The node name (`uname -n`), as Python's `platform.node()` gives it.
pub fn node_name() -> String {
    // SAFETY: utsname is a plain C struct for which all-zero is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uts is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return String::new();
    }
    // SAFETY: uname NUL-terminates nodename within the array on success.
    unsafe { CStr::from_ptr(uts.nodename.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_everywhere() {
        let root = user_by_uid(0).expect("uid 0");
        assert_eq!(root.uid, 0);
        assert_eq!(user_by_name(&root.name).map(|u| u.uid), Some(0));
        assert!(group_by_gid(0));
        assert!(user_by_name("no-such-user-here").is_none());
        assert!(!node_name().is_empty());
    }
}
