//! `kabar check`: the content and the safeguarding lists, before a start.

use super::*;

pub(super) fn check(config: &Config) -> CliResult {
    println!(
        "content: flows from {}, locales from {}",
        config
            .content
            .flows_dir()
            .path_of(std::path::Path::new(""))
            .display(),
        config
            .content
            .locales_dir()
            .path_of(std::path::Path::new(""))
            .display()
    );
    let localizer = match kabar::i18n::Localizer::load_from(&config.content.locales_dir()) {
        Ok(l) => l,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return Err(format!("{} problem(s) in locales", errors.len()).into());
        }
    };
    let reference = localizer.ids(Lang::English);
    println!(
        "locale coverage (against en, {} messages):",
        reference.len()
    );
    let mut missing_total = 0;
    for lang in Lang::ALL {
        let ids = localizer.ids(lang);
        let missing: Vec<_> = reference.difference(&ids).collect();
        let extra: Vec<_> = ids.difference(&reference).collect();
        missing_total += missing.len();
        println!(
            "  {:<6} {:>3}/{} {}{}",
            lang.tag(),
            reference.len() - missing.len(),
            reference.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(
                    "missing: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            if extra.is_empty() {
                String::new()
            } else {
                format!(
                    " not in en: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    match kabar::flow::load::load_from(&config.content.flows_dir(), &localizer) {
        Ok(flows) => {
            let nodes: usize = flows.flows.values().map(|f| f.nodes.len()).sum();
            println!(
                "flows: {} flows, {nodes} nodes, all reachable",
                flows.flows.len()
            );
        }
        Err(e) => {
            for p in &e.0 {
                eprintln!("{p}");
            }
            return Err(format!("{} problem(s) in flows", e.0.len()).into());
        }
    }
    if missing_total > 0 {
        return Err(format!("{missing_total} message(s) missing in some locale").into());
    }
    check_safeguarding(&localizer)?;
    println!("ok");
    Ok(())
}

/// What the safeguarding lists in use do on the sample messages shipped with kabar, so that
/// staff who edit a list see what they changed.
fn check_safeguarding(localizer: &kabar::i18n::Localizer) -> CliResult {
    use kabar::i18n::safeguarding::{builtin_samples, score, table};
    let mut scores = Vec::new();
    for (lang, samples) in builtin_samples() {
        let samples = samples.map_err(|e| format!("safeguarding samples: {e}"))?;
        scores.push(score(localizer.safeguarding_lists(), lang, &samples));
    }
    print!("{}", table(&scores));
    let below: Vec<&str> = scores
        .iter()
        .filter(|s| !s.meets_goals())
        .map(|s| s.lang.tag())
        .collect();
    if below.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "safeguarding lists below goal for {}: see the misses and false alarms above",
            below.join(", ")
        )
        .into())
    }
}
