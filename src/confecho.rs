//! `echo_supervisord_conf`: print the sample configuration.

use std::io::Write;

use crate::cli::{self, EchoConfArgs, Parsed};

/// The sample, written in our own words; `conf/sample.conf` in the tree.
pub const SAMPLE: &str = include_str!("../conf/sample.conf");

const OPTIONS: &[cli::OptSpec] = &[
    cli::OptSpec {
        short: Some('h'),
        long: "help",
        takes_value: false,
    },
    cli::OptSpec {
        short: Some('v'),
        long: "version",
        takes_value: false,
    },
];

pub fn main(progname: &str, args: &[String]) -> i32 {
    let parsed: Parsed<EchoConfArgs> = cli::parse(progname, args, OPTIONS, false);
    match parsed {
        Parsed::Exit { output, status } => crate::early_exit(&output, status),
        Parsed::Run(a) if a.version => {
            crate::early_exit(&format!("{}\n", crate::SUPERVISOR_VERSION), 0)
        }
        Parsed::Run(_) => match std::io::stdout().write_all(SAMPLE.as_bytes()) {
            Ok(()) => 0,
            Err(_) => 1,
        },
    }
}
