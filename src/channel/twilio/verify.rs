//! Twilio's `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted parameters)).

use base64::Engine as _;

use crate::channel::signature;

/// base64(HMAC-SHA1(auth_token, url + each name+value, names sorted, values sorted)), exactly as
/// twilio-python's `RequestValidator.compute_signature`.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort();
    sorted.dedup();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + 2 * sorted.len());
    parts.push(url.as_bytes());
    for (k, v) in sorted {
        parts.push(k.as_bytes());
        parts.push(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD
        .encode(signature::hmac_sha1(auth_token.as_bytes(), &parts))
}

/// The URL with its port removed and with the scheme's default port added: Twilio may sign
/// either form (twilio-python accepts both).
pub fn url_variants(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else {
        return [url.to_string(), url.to_string()];
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => (&hostport[..i], Some(&hostport[i + 1..])),
        _ => (hostport, None),
    };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    let with = match port {
        Some(_) => url.to_string(),
        None => {
            let default = if scheme.eq_ignore_ascii_case("https") {
                "443"
            } else {
                "80"
            };
            format!("{scheme}://{userinfo}{host}:{default}{tail}")
        }
    };
    [without, with]
}

/// Checks `signature` against both URL forms, in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    let mut ok = false;
    for candidate in url_variants(url) {
        let expected = compute_signature(auth_token, &candidate, params);
        // Evaluate both comparisons; never short-circuit on the first.
        ok |= signature::same(expected.as_bytes(), given.as_bytes());
    }
    ok
}
