//! The crate's layers point one way: a module uses only the layers below it. The compiler
//! allows cycles inside one crate, so this test reads every `crate::…` path in `src/` and
//! checks it against the table below. A failure names the file and line that reach up.
//!
//! From the bottom: the domain (values every layer shares, no `crate::` imports at all);
//! infrastructure leaves (content, disk, background work, metrics); languages and flows;
//! config; providers (`channel`) and imports; broadcast rules; the helpdesk's rules and
//! permissions (plain functions over values, which storage calls inside its transactions);
//! storage; the services that send, run the helpdesk and answer conversations; operations;
//! the web; the wiring.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module and the modules it may use (besides itself).
const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("content", &["domain"]),
    ("disk", &[]),
    ("background", &[]),
    ("metrics", &["domain"]),
    ("i18n", &["domain", "content"]),
    ("flow", &["domain", "content", "i18n"]),
    ("config", &["domain", "content", "i18n"]),
    ("import", &["domain", "i18n"]),
    ("channel", &["domain", "i18n", "config", "metrics"]),
    (
        "broadcast",
        &["domain", "i18n", "config", "import", "channel"],
    ),
    ("helpdesk::rules", &["domain"]),
    ("helpdesk::permissions", &["domain"]),
    (
        "store",
        &[
            "helpdesk::rules",
            "domain",
            "background",
            "disk",
            "metrics",
            "i18n",
            "flow",
            "config",
            "import",
            "broadcast",
        ],
    ),
    (
        "dispatch",
        &[
            "domain",
            "background",
            "metrics",
            "i18n",
            "config",
            "channel",
            "broadcast",
            "store",
        ],
    ),
    (
        "helpdesk",
        &[
            "helpdesk::rules",
            "helpdesk::permissions",
            "domain",
            "metrics",
            "i18n",
            "flow",
            "config",
            "channel",
            "broadcast",
            "store",
            "dispatch",
        ],
    ),
    (
        "conversation",
        &[
            "domain",
            "background",
            "disk",
            "metrics",
            "i18n",
            "flow",
            "config",
            "channel",
            "store",
            "dispatch",
            "helpdesk",
        ],
    ),
    ("ops", &["domain", "disk", "metrics", "config", "store"]),
    (
        "web",
        &[
            "domain",
            "content",
            "disk",
            "background",
            "metrics",
            "i18n",
            "flow",
            "config",
            "import",
            "channel",
            "broadcast",
            "store",
            "dispatch",
            "helpdesk",
            "conversation",
            "ops",
        ],
    ),
];

/// Wiring: may use everything.
const TOP: &[&str] = &["lib", "main", "build", "cli"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layer of a file: its top-level module, or the helpdesk's rules and permissions, which
/// sit below storage while the rest of the helpdesk sits above it.
fn layer_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [top, sub, ..] if top == "helpdesk" && (sub == "rules" || sub == "permissions") => {
            format!("helpdesk::{sub}")
        }
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

/// The layer a `crate::…` path names (the helpdesk's rules and permissions by their module).
fn layer_named(path_after_crate: &str) -> String {
    let mut names = path_after_crate.split("::");
    let top = names.next().unwrap_or_default().to_string();
    match names.next() {
        Some(sub)
            if top == "helpdesk"
                && (sub.starts_with("rules") || sub.starts_with("permissions")) =>
        {
            format!(
                "helpdesk::{}",
                sub.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            )
        }
        _ => top,
    }
}

/// The `crate::NAME` paths in a line of code, ignoring comments.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        // `crate::{a, b}` would hide names from this check: none may be written that way.
        assert!(
            !after.starts_with('{'),
            "write one `use crate::module::…` per module, not `crate::{{…}}`: {line}"
        );
        found.push(layer_named(&name));
        rest = after;
    }
    found
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let layers: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut unknown = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = layer_of(rel);
        let top = module.split("::").next().unwrap_or_default().to_string();
        if TOP.contains(&top.as_str()) {
            continue;
        }
        let Some(allowed) = layers.get(module.as_str()) else {
            unknown.push(module);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for used in crate_paths(line) {
                let same = used == module || (used == top && !module.contains("::"));
                if !same && !allowed.contains(&used.as_str()) {
                    violations.push(format!(
                        "{}:{}: {module} uses crate::{used}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    assert!(
        unknown.is_empty(),
        "modules with no place in the layers (add them to LAYERS): {unknown:?}"
    );
    assert!(
        violations.is_empty(),
        "imports that reach up a layer:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_table_itself_points_one_way() {
    // A layer may only name layers listed before it, so the table cannot hide a cycle.
    for (i, (module, allowed)) in LAYERS.iter().enumerate() {
        let below: Vec<&str> = LAYERS[..i].iter().map(|(m, _)| *m).collect();
        for a in *allowed {
            assert!(
                below.contains(a),
                "{module} may use {a}, which is not below it"
            );
        }
    }
}
