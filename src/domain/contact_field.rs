//! The contact fields a flow may set.

use serde::{Deserialize, Serialize};

/// Contact fields a flow may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactField {
    City,
    CaseId,
    Name,
    /// Agreement to the privacy notice (any value means agreed).
    Consent,
}
