//! The web interface's pages, rendered from plain data: the status page
//! (`/` and `index.html`, every process with its state, description and
//! actions) and the tail page (`tail.html?processname=x`). The URLs and
//! query parameters are the reference's, so bookmarks and scripts keep
//! working; the markup and stylesheet are ours, embedded, with no external
//! assets and no JavaScript.

use crate::states::ProcessState;

/// One row of the status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `name` or `group:name`.
    pub namespec: String,
    pub state: ProcessState,
    pub description: String,
}

/// What `index.html?action=...` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Refresh,
    StopAll,
    RestartAll,
    Start(String),
    Stop(String),
    Restart(String),
    ClearLog(String),
}

impl Action {
    /// From the query parameters `action` and `processname`; None when no
    /// action was asked for or it is unknown.
    pub fn from_query(query: &[(String, String)]) -> Option<Action> {
        let get = |k: &str| {
            query
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let name = get("processname").unwrap_or_default();
        Some(match get("action")?.as_str() {
            "refresh" => Action::Refresh,
            "stopall" => Action::StopAll,
            "restartall" => Action::RestartAll,
            "start" if !name.is_empty() => Action::Start(name),
            "stop" if !name.is_empty() => Action::Stop(name),
            "restart" if !name.is_empty() => Action::Restart(name),
            "clearlog" if !name.is_empty() => Action::ClearLog(name),
            _ => return None,
        })
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Encodes a query parameter value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

const STYLE: &str = "
:root { color-scheme: light; --ink: #1d2733; --muted: #5b6776; --line: #d9dee4; --bg: #f6f7f9;
  --ok: #1f7a3a; --okbg: #e3f4e8; --bad: #a4262c; --badbg: #fbe7e8; --idle: #5b6776; --idlebg: #eceff2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink); background: var(--bg); }
header { background: #24313f; color: #fff; padding: .8rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
header h1 { font-size: 1.15rem; margin: 0; font-weight: 600; }
header .id { color: #b8c4d0; font-size: .9rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
.message { background: #fff8dc; border: 1px solid #e6d9a0; border-radius: 6px; padding: .6rem .8rem; margin-bottom: 1rem; }
.bar { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
a.button { display: inline-block; padding: .35rem .75rem; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; color: var(--ink); text-decoration: none; font-size: .9rem; }
a.button:hover { border-color: #8a96a3; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: .55rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; font-weight: 600; font-size: .85rem; color: var(--muted); }
td.name { font-family: ui-monospace, monospace; word-break: break-all; }
.state { display: inline-block; min-width: 6.5rem; text-align: center; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.state.running { color: var(--ok); background: var(--okbg); }
.state.error { color: var(--bad); background: var(--badbg); }
.state.nominal { color: var(--idle); background: var(--idlebg); }
main a { color: #1558b0; }
main a:visited { color: #1558b0; }
td.actions a { display: inline-block; margin: 0 .75rem .15rem 0; white-space: nowrap; }
pre.tail { background: #111820; color: #e6edf3; padding: 1rem; border-radius: 8px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
footer { color: var(--muted); font-size: .8rem; text-align: center; padding: 1rem; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  thead { display: none; }
  table, tbody { display: block; width: 100%; }
  tr { display: flex; flex-wrap: wrap; align-items: center; border-bottom: 1px solid var(--line); padding: .5rem 0; }
  tr:last-child { border-bottom: 0; }
  td { display: block; border: 0; padding: .2rem .7rem; }
  td.name { order: 1; flex: 1 1 0; min-width: 0; font-weight: 600; }
  td:first-child { order: 2; }
  td.description { order: 3; width: 100%; color: var(--muted); }
  td.actions { order: 4; width: 100%; }
  td.actions a { padding: .3rem 0; margin-right: 1rem; }
}
";

fn page(title: &str, identification: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1>{title}</h1><span class=\"id\">{id}</span></header><main>{body}</main>\
         <footer>supervisor {version}</footer></body></html>\n",
        title = escape(title),
        id = escape(identification),
        version = escape(crate::SUPERVISOR_VERSION),
    )
}

/// The CSS class of a state, as the reference groups them.
pub fn state_class(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "running",
        ProcessState::Fatal | ProcessState::Backoff => "error",
        _ => "nominal",
    }
}

/// The status page.
pub fn index(rows: &[Row], message: Option<&str>, identification: &str) -> String {
    let mut body = String::new();
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        body.push_str(&format!(
            "<div class=\"message\" id=\"message\">{}</div>",
            escape(m)
        ));
    }
    body.push_str(
        "<nav class=\"bar\"><a class=\"button\" href=\"index.html?action=refresh\">Refresh</a>\
         <a class=\"button\" href=\"index.html?action=restartall\">Restart All</a>\
         <a class=\"button\" href=\"index.html?action=stopall\">Stop All</a></nav>",
    );
    body.push_str("<table><thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th></tr></thead><tbody>");
    for row in rows {
        let n = url_encode(&row.namespec);
        let link = |action: &str, label: &str| {
            format!("<a href=\"index.html?processname={n}&amp;action={action}\" class=\"{action}\">{label}</a>")
        };
        let mut actions = Vec::new();
        match row.state {
            ProcessState::Running => {
                actions.push(link("restart", "Restart"));
                actions.push(link("stop", "Stop"));
            }
            ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
                actions.push(link("start", "Start"));
            }
            _ => {}
        }
        actions.push(link("clearlog", "Clear Log"));
        actions.push(format!(
            "<a href=\"tail.html?processname={n}\" class=\"tail\">Tail</a>"
        ));
        actions.push(format!(
            "<a href=\"logtail/{n}\" target=\"_blank\" class=\"tailf\">Tail -f Stdout</a>"
        ));
        actions.push(format!(
            "<a href=\"logtail/{n}/stderr\" target=\"_blank\" class=\"tailf\">Tail -f Stderr</a>"
        ));
        body.push_str(&format!(
            "<tr data-name=\"{name}\"><td><span class=\"state {class}\">{state}</span></td><td class=\"description\">{desc}</td>\
             <td class=\"name\"><a href=\"tail.html?processname={n}\">{name}</a></td><td class=\"actions\">{actions}</td></tr>",
            name = escape(&row.namespec),
            class = state_class(row.state),
            state = row.state.name(),
            desc = escape(&row.description),
            actions = actions.join(""),
        ));
    }
    body.push_str("</tbody></table>");
    page("Supervisor Status", identification, &body)
}

/// The tail page: the end of a process's stdout log.
pub fn tail(processname: Option<&str>, limit: u64, text: &str, identification: &str) -> String {
    let mut body = String::new();
    if let Some(name) = processname {
        body.push_str(&format!(
            "<nav class=\"bar\"><a class=\"button\" href=\"index.html\">Back</a>\
             <a class=\"button\" href=\"tail.html?processname={}&amp;limit={limit}\">Refresh</a></nav>",
            url_encode(name)
        ));
    }
    body.push_str(&format!(
        "<pre class=\"tail\" id=\"tail\">{}</pre>",
        escape(text)
    ));
    let title = format!(
        "Supervisor tail of process {}",
        processname.unwrap_or("None")
    );
    page(&title, identification, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn actions_from_the_references_query_strings() {
        assert_eq!(
            Action::from_query(&q(&[("processname", "g:web"), ("action", "start")])),
            Some(Action::Start("g:web".into()))
        );
        assert_eq!(
            Action::from_query(&q(&[("action", "stopall")])),
            Some(Action::StopAll)
        );
        assert_eq!(Action::from_query(&q(&[("action", "start")])), None);
        assert_eq!(Action::from_query(&q(&[("message", "hi")])), None);
        assert_eq!(
            Action::from_query(&q(&[("action", "explode"), ("processname", "x")])),
            None
        );
    }

    #[test]
    fn pages_escape_and_link_like_the_reference() {
        let rows = vec![Row {
            namespec: "g:a<b".into(),
            state: ProcessState::Running,
            description: "pid 1, uptime 0:00:01".into(),
        }];
        let html = index(&rows, Some("Process x started"), "supervisor");
        assert!(html.contains("index.html?processname=g%3Aa%3Cb&amp;action=stop"));
        assert!(html.contains("g:a&lt;b"));
        assert!(html.contains("<span class=\"state running\">RUNNING</span>"));
        assert!(html.contains("Process x started"));
        assert!(!html.contains("<script"));
        let t = tail(Some("web"), 1024, "a < b\n", "supervisor");
        assert!(t.contains("a &lt; b"));
        assert!(t.contains("Supervisor tail of process web"));
    }
}
