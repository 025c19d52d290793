//! The flows as staff write them (`flows/*.toml`) and as the engine runs them.
//!
//! A flow file is a set of named nodes; the flow's id is the file name. Every text is a message
//! id from `locales/`, never words. Example:
//!
//! ```toml
//! start = "menu"
//! [nodes.menu]
//! kind = "menu"
//! say = "main-menu"
//! options = [{ label = "main-menu-payments", goto = "payments" }]
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub use crate::domain::ContactField;

/// A flow file exactly as written, with positions for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    pub start: Spanned<String>,
    pub nodes: BTreeMap<String, Spanned<NodeSpec>>,
    /// Free-text routing: words (a message id listing them) that lead to a node.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    pub words: Spanned<String>,
    pub goto: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// Says `say` followed by the numbered `options`, then waits for a number.
    Menu,
    /// Says `say`, then goes to `next` (or back to the main menu, quietly).
    Say,
    /// Says `say`, waits for free text, validates it, keeps it as `save`, goes to `next`.
    Ask,
    /// Opens a ticket with `topic` and hands the conversation to a person.
    Escalate,
    /// Sets a contact field (`field`) to `value` (text, or `$var` for a saved answer).
    Set,
    /// Goes to another flow (`flow`) or node.
    Goto,
    /// Asks the person to choose from a list kept as data (`from = "cities"`) and keeps the
    /// choice in contact field `field`; skipped when the field is already set.
    Pick,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub kind: NodeKind,
    pub say: Option<Spanned<String>>,
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    pub next: Option<Spanned<String>>,
    pub save: Option<String>,
    pub validate: Option<Validate>,
    pub invalid: Option<Spanned<String>>,
    pub topic: Option<String>,
    pub field: Option<ContactField>,
    pub value: Option<String>,
    pub flow: Option<Spanned<String>>,
    /// `pick`: the data list to choose from.
    pub from: Option<DataList>,
    /// `pick`: said instead when the list is empty.
    pub empty: Option<Spanned<String>>,
    /// `say`: a fact the message needs; without it `otherwise` is said.
    pub needs: Option<Fact>,
    pub otherwise: Option<Spanned<String>>,
    /// `ask`: bounds of the answer — the value for `number`, the count of digits for `digits`.
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// Lists kept as data, not in flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataList {
    /// The cities of the payment schedule.
    Cities,
    /// The cities of the directory staff keep (UNHCR, clinics, legal aid …).
    DirectoryCities,
}

/// Facts from data that a message may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fact {
    /// The next payment date for the person's city (`$city`, `$date`).
    PaymentDate,
    /// The directory's entries of one kind for the person's city (`$city`, `$contacts`: one
    /// line per entry, as staff typed it).
    UnhcrContacts,
    IomContacts,
    ClinicContacts,
    LegalContacts,
    PoliceContacts,
}

impl Fact {
    /// The directory kind a contacts fact shows.
    pub fn directory_kind(self) -> Option<crate::domain::DirectoryKind> {
        use crate::domain::DirectoryKind;
        match self {
            Fact::PaymentDate => None,
            Fact::UnhcrContacts => Some(DirectoryKind::Unhcr),
            Fact::IomContacts => Some(DirectoryKind::Iom),
            Fact::ClinicContacts => Some(DirectoryKind::Clinic),
            Fact::LegalContacts => Some(DirectoryKind::Legal),
            Fact::PoliceContacts => Some(DirectoryKind::Police),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub label: Spanned<String>,
    pub goto: Spanned<String>,
}

/// What free-text answers an `ask` node accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validate {
    /// Any text of 1 to 500 characters.
    Text,
    /// A number (any digit script), such as an age; `min`/`max` bound its value.
    Number,
    /// An identifier made of digits (any script; spaces, '-' and '/' ignored), such as a case
    /// number; `min`/`max` bound how many digits (default 1 to 20). Saved as ASCII digits.
    Digits,
}

/// A node address: flow id and node id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Target {
    pub flow: String,
    pub node: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.flow, self.node)
    }
}

#[derive(Debug, Clone)]
pub struct MenuOption {
    pub label: String,
    pub goto: Target,
}

/// A validated node, ready for the engine.
#[derive(Debug, Clone)]
pub enum Node {
    Menu {
        say: String,
        options: Vec<MenuOption>,
        /// Keep the chosen option's label id in this session variable.
        save: Option<String>,
    },
    Say {
        say: String,
        next: Option<Target>,
        needs: Option<Fact>,
        otherwise: Option<String>,
    },
    Ask {
        say: String,
        save: String,
        validate: Validate,
        min: Option<u64>,
        max: Option<u64>,
        invalid: Option<String>,
        next: Target,
    },
    Pick {
        say: String,
        from: DataList,
        field: ContactField,
        empty: Option<String>,
        next: Target,
    },
    Escalate {
        topic: String,
        say: Option<String>,
    },
    Set {
        field: ContactField,
        value: String,
        next: Target,
    },
    Goto {
        next: Target,
    },
}

impl Node {
    /// The nodes this node can lead to.
    pub fn targets(&self) -> Vec<&Target> {
        match self {
            Node::Menu { options, .. } => options.iter().map(|o| &o.goto).collect(),
            Node::Say { next, .. } => next.iter().collect(),
            Node::Ask { next, .. }
            | Node::Set { next, .. }
            | Node::Goto { next }
            | Node::Pick { next, .. } => vec![next],
            Node::Escalate { .. } => vec![],
        }
    }

    /// Nodes that wait for the person's next message.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            Node::Menu { .. } | Node::Ask { .. } | Node::Pick { .. }
        )
    }
}

/// All flows, validated. The main menu is `main.<start>`.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    pub flows: BTreeMap<String, Flow>,
    /// Free-text routes from every flow file, in file order.
    pub routes: Vec<Route>,
}

/// Messages containing one of the words listed in message `words` go to `goto`.
#[derive(Debug, Clone)]
pub struct Route {
    pub words: String,
    pub goto: Target,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub start: String,
    pub nodes: BTreeMap<String, Node>,
}

impl Flows {
    pub const MAIN: &'static str = "main";
    /// Shown right after the language on first contact, until the person agrees (optional).
    pub const CONSENT: &'static str = "consent";
    /// Reached with the `privacy` keyword (optional).
    pub const PRIVACY: &'static str = "privacy";

    /// The start of flow `id`, if it exists.
    pub fn start_of(&self, id: &str) -> Option<Target> {
        self.flows.get(id).map(|f| Target {
            flow: id.to_string(),
            node: f.start.clone(),
        })
    }

    pub fn node(&self, target: &Target) -> Option<&Node> {
        self.flows.get(&target.flow)?.nodes.get(&target.node)
    }

    pub fn main_menu(&self) -> Target {
        let start = self
            .flows
            .get(Self::MAIN)
            .map(|f| f.start.clone())
            .unwrap_or_default();
        Target {
            flow: Self::MAIN.to_string(),
            node: start,
        }
    }
}
