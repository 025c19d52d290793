//! Safeguarding lists against realistic messages written independently of them
//! (tests/fixtures/safeguarding/<tag>.toml): per locale, recall >= 95% and false alarms <= 5%.

mod common;

use kabar::i18n::Lang;
use kabar::i18n::safeguarding::{Score, builtin_samples, score, table};

fn scores() -> Vec<Score> {
    let localizer = common::localizer();
    builtin_samples()
        .into_iter()
        .map(|(lang, samples)| {
            let samples = samples.unwrap_or_else(|e| panic!("{e}"));
            assert!(
                samples.harm.len() >= 40 && samples.harmless.len() >= 20,
                "{lang}: the fixture needs at least 40 harm and 20 harmless messages"
            );
            score(localizer.safeguarding_lists(), lang, &samples)
        })
        .collect()
}

#[test]
fn every_locale_catches_harm_and_spares_everyday_messages() {
    let scores = scores();
    println!("{}", table(&scores));
    let below: Vec<&str> = scores
        .iter()
        .filter(|s| !s.meets_goals())
        .map(|s| s.lang.tag())
        .collect();
    assert!(
        below.is_empty(),
        "below goal: {below:?}\n{}",
        table(&scores)
    );
}

#[test]
fn every_locale_has_samples() {
    let langs: Vec<Lang> = builtin_samples().into_iter().map(|(l, _)| l).collect();
    assert_eq!(langs, Lang::ALL.to_vec());
}
