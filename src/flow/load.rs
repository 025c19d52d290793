//! Reads `flows/*.toml`, resolves targets and checks everything a person could run into:
//! unknown targets, unreachable nodes, loops that never wait, and message ids missing in any
//! locale. Every problem names the file and line.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::engine::REQUIRED_MESSAGES;
use super::model::*;
use crate::content::ContentDir;
use crate::i18n::{Lang, Localizer, line_of};

/// One problem found in the flows, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in flows:\n{}", .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct FlowErrors(pub Vec<Problem>);

struct Source {
    path: PathBuf,
    text: String,
    file: FlowFile,
}

impl Source {
    fn problem<T>(&self, at: &Spanned<T>, message: impl Into<String>) -> Problem {
        Problem {
            path: self.path.clone(),
            line: line_of(&self.text, at.span().start),
            message: message.into(),
        }
    }
}

/// Loads and validates every flow in `dir` against the locales.
pub fn load(dir: &Path, localizer: &Localizer) -> Result<Flows, FlowErrors> {
    load_from(&ContentDir::Folder(dir.to_path_buf()), localizer)
}

/// Loads and validates every flow of a folder or the built-in flows against the locales.
pub fn load_from(dir: &ContentDir, localizer: &Localizer) -> Result<Flows, FlowErrors> {
    let mut problems = Vec::new();
    let mut sources = BTreeMap::new();
    let files = match dir.files(Path::new(""), "toml") {
        Ok(files) => files,
        Err(e) => {
            return Err(FlowErrors(vec![Problem {
                path: dir.path_of(Path::new("")),
                line: 0,
                message: format!("cannot read the flows folder: {e}"),
            }]));
        }
    };
    for relative in files {
        let path = dir.path_of(&relative);
        let id = relative
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match dir.read(&relative) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    path,
                    line: 0,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match toml::from_str::<FlowFile>(&text) {
            Ok(file) => {
                sources.insert(id, Source { path, text, file });
            }
            Err(e) => problems.push(Problem {
                line: e.span().map(|s| line_of(&text, s.start)).unwrap_or(1),
                path,
                message: e.message().to_string(),
            }),
        }
    }
    if !sources.contains_key(Flows::MAIN) {
        problems.push(Problem {
            path: dir.path_of(Path::new("main.toml")),
            line: 0,
            message: "there is no main flow (flows/main.toml): it holds the main menu".into(),
        });
    }
    let flows = compile(&sources, localizer, &mut problems);
    if problems.is_empty() {
        check_graph(&flows, &sources, &mut problems);
    }
    if problems.is_empty() {
        Ok(flows)
    } else {
        problems.sort();
        problems.dedup();
        Err(FlowErrors(problems))
    }
}

/// Resolves `to` written in flow `flow`: a node of the same flow, a flow (its start), or `flow.node`.
fn resolve(
    sources: &BTreeMap<String, Source>,
    flow: &str,
    to: &Spanned<String>,
) -> Result<Target, String> {
    let name = to.get_ref().as_str();
    if let Some((f, n)) = name.split_once('.') {
        return match sources.get(f) {
            Some(s) if s.file.nodes.contains_key(n) => Ok(Target {
                flow: f.into(),
                node: n.into(),
            }),
            Some(_) => Err(format!(
                "goes to {name:?}, but flow {f:?} has no node {n:?}"
            )),
            None => Err(format!("goes to {name:?}, but there is no flow {f:?}")),
        };
    }
    let own = sources
        .get(flow)
        .is_some_and(|s| s.file.nodes.contains_key(name));
    match (own, sources.get(name)) {
        (true, Some(_)) => Err(format!(
            "{name:?} is both a node here and a flow: write \"{flow}.{name}\" or \"{name}.<node>\""
        )),
        (true, None) => Ok(Target {
            flow: flow.into(),
            node: name.into(),
        }),
        (false, Some(other)) => Ok(Target {
            flow: name.into(),
            node: other.file.start.get_ref().clone(),
        }),
        (false, None) => Err(format!(
            "goes to {name:?}, which is neither a node of this flow nor a flow"
        )),
    }
}

fn compile(
    sources: &BTreeMap<String, Source>,
    localizer: &Localizer,
    problems: &mut Vec<Problem>,
) -> Flows {
    let mut flows = Flows::default();
    for (flow_id, source) in sources {
        let file = &source.file;
        if !file.nodes.contains_key(file.start.get_ref()) {
            problems.push(source.problem(
                &file.start,
                format!("start node {:?} does not exist", file.start.get_ref()),
            ));
        }
        let mut nodes = BTreeMap::new();
        for (node_id, spec) in &file.nodes {
            let ctx = NodeCtx {
                sources,
                source,
                localizer,
                flow_id,
                node_id,
            };
            if let Some(node) = ctx.compile(spec, problems) {
                nodes.insert(node_id.clone(), node);
            }
        }
        for route in &file.routes {
            let ctx = NodeCtx {
                sources,
                source,
                localizer,
                flow_id,
                node_id: "(route)",
            };
            let words = ctx.message(&route.words, problems);
            if let Some(goto) = ctx.target(&route.goto, problems) {
                flows.routes.push(Route { words, goto });
            }
        }
        flows.flows.insert(
            flow_id.clone(),
            Flow {
                start: file.start.get_ref().clone(),
                nodes,
            },
        );
    }
    for id in REQUIRED_MESSAGES {
        for lang in Lang::ALL {
            if !localizer.has(lang, id) {
                problems.push(Problem {
                    path: PathBuf::from("locales").join(lang.tag()),
                    line: 0,
                    message: format!("message id {id:?}, used by the engine, is missing"),
                });
            }
        }
    }
    flows
}

/// What compiling one node needs to know, to report problems at the right place.
struct NodeCtx<'a> {
    sources: &'a BTreeMap<String, Source>,
    source: &'a Source,
    localizer: &'a Localizer,
    flow_id: &'a str,
    node_id: &'a str,
}

impl NodeCtx<'_> {
    fn target(&self, to: &Spanned<String>, problems: &mut Vec<Problem>) -> Option<Target> {
        match resolve(self.sources, self.flow_id, to) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(
                    self.source
                        .problem(to, format!("node {:?} {e}", self.node_id)),
                );
                None
            }
        }
    }

    fn message(&self, id: &Spanned<String>, problems: &mut Vec<Problem>) -> String {
        for lang in Lang::ALL {
            if !self.localizer.has(lang, id.get_ref()) {
                problems.push(self.source.problem(
                    id,
                    format!(
                        "node {:?}: message id {:?} is missing in locale {lang}",
                        self.node_id,
                        id.get_ref()
                    ),
                ));
            }
        }
        id.get_ref().clone()
    }

    fn compile(&self, spec: &Spanned<NodeSpec>, problems: &mut Vec<Problem>) -> Option<Node> {
        let node_id = self.node_id;
        let s = spec.get_ref();
        let needs = |what: &str, problems: &mut Vec<Problem>| {
            problems.push(self.source.problem(
                spec,
                format!("node {node_id:?} ({:?}) needs `{what}`", s.kind),
            ));
            None
        };
        let say = s.say.as_ref().map(|m| self.message(m, problems));
        let invalid = s.invalid.as_ref().map(|m| self.message(m, problems));
        let empty = s.empty.as_ref().map(|m| self.message(m, problems));
        let otherwise = s.otherwise.as_ref().map(|m| self.message(m, problems));
        let next = s.next.as_ref().and_then(|t| self.target(t, problems));
        match s.kind {
            NodeKind::Menu => {
                if s.options.is_empty() || s.options.len() > 9 {
                    problems.push(
                        self.source
                            .problem(spec, format!("menu {node_id:?} needs 1 to 9 options")),
                    );
                }
                let mut options = Vec::new();
                for o in &s.options {
                    let label = self.message(&o.label, problems);
                    if let Some(goto) = self.target(&o.goto, problems) {
                        options.push(MenuOption { label, goto });
                    }
                }
                match say {
                    Some(say) => Some(Node::Menu {
                        say,
                        options,
                        save: s.save.clone(),
                    }),
                    None => needs("say", problems),
                }
            }
            NodeKind::Say => match say {
                Some(say) => {
                    if s.needs.is_some() != otherwise.is_some() {
                        return needs("both `needs` and `otherwise`, or neither", problems);
                    }
                    Some(Node::Say {
                        say,
                        next,
                        needs: s.needs,
                        otherwise,
                    })
                }
                None => needs("say", problems),
            },
            NodeKind::Ask => match (say, s.save.clone(), next) {
                (Some(say), Some(save), Some(next)) => {
                    if let (Some(min), Some(max)) = (s.min, s.max) {
                        if min > max {
                            return needs("min not above max", problems);
                        }
                    }
                    Some(Node::Ask {
                        say,
                        save,
                        validate: s.validate.unwrap_or(Validate::Text),
                        min: s.min,
                        max: s.max,
                        invalid,
                        next,
                    })
                }
                _ => needs("say, save and next", problems),
            },
            NodeKind::Pick => match (say, s.from, s.field, next) {
                (Some(say), Some(from), Some(field), Some(next)) => Some(Node::Pick {
                    say,
                    from,
                    field,
                    empty,
                    next,
                }),
                _ => needs("say, from, field and next", problems),
            },
            NodeKind::Escalate => match &s.topic {
                Some(topic) if is_topic(topic) => Some(Node::Escalate {
                    topic: topic.clone(),
                    say,
                }),
                Some(topic) => {
                    problems.push(self.source.problem(
                        spec,
                        format!(
                            "node {node_id:?}: topic {topic:?} must be lower-case letters and '-'"
                        ),
                    ));
                    None
                }
                None => needs("topic", problems),
            },
            NodeKind::Set => match (s.field, s.value.clone(), next) {
                (Some(field), Some(value), Some(next)) => Some(Node::Set { field, value, next }),
                _ => needs("field, value and next", problems),
            },
            NodeKind::Goto => match s.flow.as_ref().and_then(|t| self.target(t, problems)) {
                Some(next) => Some(Node::Goto { next }),
                None if s.flow.is_none() => needs("flow", problems),
                None => None,
            },
        }
    }
}

fn is_topic(topic: &str) -> bool {
    !topic.is_empty() && topic.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// Every node reachable from the main menu, and no chain of nodes that never waits for the person.
fn check_graph(flows: &Flows, sources: &BTreeMap<String, Source>, problems: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([flows.main_menu()]);
    // Flows the engine enters by itself, and route targets, are roots too.
    queue.extend(
        [Flows::CONSENT, Flows::PRIVACY]
            .iter()
            .filter_map(|f| flows.start_of(f)),
    );
    queue.extend(flows.routes.iter().map(|r| r.goto.clone()));
    while let Some(t) = queue.pop_front() {
        if !seen.insert(t.clone()) {
            continue;
        }
        if let Some(node) = flows.node(&t) {
            queue.extend(node.targets().into_iter().cloned());
        }
    }
    for (flow_id, flow) in &flows.flows {
        let Some(source) = sources.get(flow_id) else {
            continue;
        };
        for node_id in flow.nodes.keys() {
            let t = Target {
                flow: flow_id.clone(),
                node: node_id.clone(),
            };
            let Some(spec) = source.file.nodes.get(node_id) else {
                continue;
            };
            if !seen.contains(&t) {
                problems.push(source.problem(
                    spec,
                    format!("node {node_id:?} cannot be reached from the main menu"),
                ));
            }
            // Follow nodes that do not wait; coming back to one means the person is never asked.
            let mut path = BTreeSet::new();
            let mut at = Some(t.clone());
            while let Some(cur) = at {
                if !path.insert(cur.clone()) {
                    problems.push(source.problem(
                        spec,
                        format!("node {node_id:?} starts a loop that never waits for the person"),
                    ));
                    break;
                }
                at = match flows.node(&cur) {
                    Some(Node::Say { next, .. }) => next.clone(),
                    Some(Node::Set { next, .. } | Node::Goto { next }) => Some(next.clone()),
                    _ => None,
                };
            }
        }
    }
}
