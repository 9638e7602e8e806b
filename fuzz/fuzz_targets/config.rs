//! Any bytes as a supervisord.conf: the loader returns a config or an
//! error, never panics. Includes resolve under a scratch directory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use supervisor::config::{self, load::ServerOverrides};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/tmp/supervisor-fuzz/supervisord.conf");
    if let Ok(c) = config::load::load_server_text(text, path, &ServerOverrides::default()) {
        // The typed config must also survive being dumped.
        let _ = config::dump::to_json(&c, None).to_string();
    }
    // Every value converter on the raw text too.
    let _ = config::values::dict_of_key_value_pairs(text);
    let _ = config::values::split_command(text);
    let mut names = config::expand::Expansions::new();
    names.insert("n".into(), config::expand::Value::Int(3));
    names.insert("s".into(), config::expand::Value::Str("x".into()));
    let _ = config::expand::expand(text, &names);
});
