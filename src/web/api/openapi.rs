//! `/api/openapi.json`: the API described from one table of endpoints. The router test
//! checks that every entry is served, so the description cannot drift from the code.

use axum::Json;

/// One API route as documented in `/api/openapi.json`. The router test checks that every
/// entry is served, so the description cannot drift from the code.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Who may call it.
    pub roles: &'static str,
    /// `json`, `csv` or `none`.
    pub body: &'static str,
}

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "get",
        path: "/api/tickets",
        summary: "Tickets the caller may see, urgent first, then the longest waiting (?status=open|closed|all)",
        roles: "interpreter (own languages; not return/protection), supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/tickets/{id}",
        summary: "A ticket with the whole conversation across channels",
        roles: "who may see it",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/tickets/{id}/{action}",
        summary: "claim | release | transfer {to_user, to_language} | reply {text} | note {text} | close | erase",
        roles: "who may see it; release/transfer/close: the claimant or a supervisor; erase (data-deletion tickets): supervisor or admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/outbox",
        summary: "Messages not yet accepted by a provider (?status=queued|held|failed)",
        roles: "staff, supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/payments",
        summary: "The payment schedule (next date per city)",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/payments",
        summary: "Import the payment schedule as CSV city,next_payment_date[,note] (?skip_invalid=true)",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "post",
        path: "/api/contacts/import",
        summary: "Import contacts as CSV phone,language,city,case_id,name,tags (tags separated by ;) (?skip_invalid=true); up to 16 MiB",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts",
        summary: "Broadcasts, newest first, each with its preview and progress",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/directory",
        summary: "The directory of useful contacts per city {city, kind, name, phone, address, hours}",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts",
        summary: "Draft a broadcast {name, texts: {tag: text}, fallback?, audience: {languages?, cities?, channels?, tags?, phones?}, send_at?} (201; 422 names each invalid field)",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts/preview",
        summary: "The preview of a draft without saving it (recipients, exclusions, segments)",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts/{id}",
        summary: "A broadcast: status, texts, audience, preview, progress",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts/{id}/{action}",
        summary: "send | approve (not by its creator) | pause | resume | cancel | test {phone}; 409 when the state does not allow it",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts/{id}/report.csv",
        summary: "One row per recipient: phone,language,channel,status,error",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/segments",
        summary: "SMS encoding and parts of {text}, as kabar counts them",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "post",
        path: "/api/directory",
        summary: "Import directory entries as CSV city,kind,name,phone,address,hours (kind: unhcr|iom|clinic|legal|police; ?skip_invalid=true)",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "get",
        path: "/api/canned",
        summary: "Canned replies (?language=so)",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/canned",
        summary: "Add a canned reply {language, title, text}",
        roles: "staff, supervisor, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/audit",
        summary: "The audit trail, newest first",
        roles: "admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/figures",
        summary: "Open, waiting, closed, median first response and resolution per language",
        roles: "supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/users",
        summary: "Users: name, role, languages, disabled (never a password hash)",
        roles: "admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/users",
        summary: "Add a user {name, role, languages: [..], password} -> 201; 409 if the name is taken",
        roles: "admin",
        body: "json",
    },
    Endpoint {
        method: "patch",
        path: "/api/users/{name}",
        summary: "Change a user {role?, languages?, disabled?, password?}; a disabled user's sessions and tokens stop at once",
        roles: "admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/tokens",
        summary: "API tokens {id, user, created_at, created_by} (never the token itself)",
        roles: "admin (all); anyone else their own",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/tokens",
        summary: "Create an API token {user} -> 201 {id, token}; the token is shown this once",
        roles: "admin, or a user for themselves",
        body: "json",
    },
    Endpoint {
        method: "delete",
        path: "/api/tokens/{id}",
        summary: "Revoke a token; it stops working at once",
        roles: "admin, or the token's user",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/backup",
        summary: "An encrypted backup (age, passphrase in the X-Backup-Passphrase header), streamed",
        roles: "admin",
        body: "none",
    },
];

/// `GET /api/openapi.json`
pub async fn openapi() -> Json<serde_json::Value> {
    let mut paths = serde_json::Map::new();
    for e in ENDPOINTS {
        let mut op = serde_json::json!({
            "summary": e.summary,
            "description": format!("Who may call it: {}.", e.roles),
            "responses": {
                "200": {"description": "done"},
                "400": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "missing or wrong token / session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "the caller's role may not (or a session change without X-CSRF-Token)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            }
        });
        if e.path.starts_with("/api/tickets/{id}") {
            op["responses"]["404"] =
                serde_json::json!({"description": "no such ticket for the caller"});
            op["responses"]["409"] = serde_json::json!({"description": "claimed by someone else, closed, or the receiver of a transfer could not see the ticket"});
            op["parameters"] = serde_json::json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        }
        for name in ["id", "name"] {
            if !e.path.starts_with("/api/tickets") && e.path.contains(&format!("{{{name}}}")) {
                op["responses"]["404"] = serde_json::json!({"description": "no such record"});
                op["parameters"] = serde_json::json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}]);
            }
        }
        if e.body == "json" {
            op["responses"]["422"] = serde_json::json!({"description": "a field is missing or invalid (detail says which)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        }
        if e.path.contains("{action}") {
            if let Some(a) = op["parameters"].as_array_mut() {
                a.push(serde_json::json!({"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["claim", "release", "transfer", "reply", "note", "close", "erase"]}}));
            }
        }
        match e.body {
            "json" => {
                op["requestBody"] = serde_json::json!({"content": {"application/json": {"schema": {"type": "object"}}}})
            }
            "csv" => {
                op["requestBody"] =
                    serde_json::json!({"content": {"text/csv": {"schema": {"type": "string"}}}})
            }
            _ => {}
        }
        if e.path == "/api/tickets" {
            op["responses"]["200"] = serde_json::json!({"description": "tickets", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}}}});
        }
        let entry = paths
            .entry(e.path.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry[e.method] = op;
    }
    Json(serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "kabar API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Helpdesk API for staff and interpreters. Authenticate with `Authorization: Bearer <token>` (kabar token create NAME) or a browser session; session changes need the `X-CSRF-Token` header."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "detail"],
                          "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
                "Ticket": {"type": "object",
                    "required": ["id", "contact", "contact_id", "phone", "language", "topic", "status", "opened_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "contact": {"type": "string", "description": "The person as staff see them: the E.164 number, or @username / WhatsApp name for someone who hides their number behind a WhatsApp username"},
                        "contact_id": {"type": "string", "description": "The id the person is filed under: E.164 (+62…) or wa:<WhatsApp user id>"},
                        "phone": {"type": "string", "nullable": true, "description": "E.164; null for someone known only by a WhatsApp user id"},
                        "language": {"type": "string", "enum": ["en", "fa-AF", "fa", "so", "ar", "ti"]},
                        "topic": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "closed"]},
                        "urgent": {"type": "boolean"},
                        "claimed_by": {"type": "string", "nullable": true},
                        "opened_at": {"type": "string", "format": "date-time"},
                        "waiting_since": {"type": "string", "format": "date-time", "nullable": true},
                        "waiting_seconds": {"type": "integer", "nullable": true},
                        "messages": {"type": "integer"},
                        "unread": {"type": "integer"},
                        "first_response_seconds": {"type": "integer", "nullable": true},
                        "resolution_seconds": {"type": "integer", "nullable": true}
                    }}
            }
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }))
}
