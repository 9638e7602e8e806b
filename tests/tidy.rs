//! Keeps the architecture honest: layers import only downward, `unsafe`
//! lives in `sys.rs`, and non-test code has no `unwrap()`/`expect(`.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code before its `#[cfg(test)]` module.
fn non_test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The top-level module a file belongs to (`config`, `model`, ...).
fn layer(path: &Path) -> String {
    let rel = path
        .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
        .expect("under src");
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// What each layer may import from the crate.
fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "sys" | "states" => &[],
        "config" => &["config", "sys"],
        "cli" => &[],
        "model" => &["model", "config", "states"],
        "rpc" => &["rpc", "states", "sys", "SUPERVISOR_VERSION"],
        "runtime" => &["runtime", "config", "sys", "states"],
        "ctl" => &[
            "ctl",
            "config",
            "cli",
            "rpc",
            "sys",
            "SUPERVISOR_VERSION",
            "OUR_VERSION",
            "early_exit",
        ],
        _ => &["*"],
    }
}

#[test]
fn layers_depend_downward_only() {
    let mut files = Vec::new();
    sources(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut bad = Vec::new();
    for file in &files {
        let layer = layer(file);
        let ok = allowed(&layer);
        if ok.contains(&"*") {
            continue;
        }
        for (n, line) in non_test_code(file).lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (pos, _) in line.match_indices("crate::") {
                let used: String = line[pos + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if layer == "ctl"
                    && line.contains("crate::rpc::")
                    && !line[pos..].starts_with("crate::rpc::xmlrpc")
                {
                    bad.push(format!(
                        "{}:{}: ctl may use only rpc::xmlrpc: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
                if !used.is_empty() && !ok.contains(&used.as_str()) {
                    bad.push(format!(
                        "{}:{}: {layer} uses crate::{used}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn unsafe_lives_in_sys_only() {
    let mut files = Vec::new();
    sources(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("sys.rs"))
        .filter(|f| non_test_code(f).contains("unsafe "))
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "unsafe outside sys.rs: {offenders:?}");
}

#[test]
fn no_unwrap_or_expect_outside_tests() {
    let mut files = Vec::new();
    sources(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut found = Vec::new();
    for file in &files {
        for (n, line) in non_test_code(file).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(".unwrap()") || code.contains(".expect(") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "unwrap/expect in non-test code:\n{}",
        found.join("\n")
    );
}
