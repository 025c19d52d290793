//! Per-language figures for supervisors: how many tickets are open, waiting and closed, and
//! how long people wait for a first answer and for a resolution (medians, in seconds).

use crate::domain::{Ticket, TicketStatus};
use crate::i18n::Lang;

#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct LanguageFigures {
    pub language: Lang,
    pub open: usize,
    pub waiting: usize,
    pub closed: usize,
    pub median_first_response_seconds: Option<u64>,
    pub median_resolution_seconds: Option<u64>,
}

/// One row per language, in [`Lang::ALL`] order (a language without tickets has zeros).
pub fn figures(tickets: &[Ticket]) -> Vec<LanguageFigures> {
    Lang::ALL
        .iter()
        .map(|&lang| {
            let of_lang: Vec<&Ticket> = tickets.iter().filter(|t| t.language == lang).collect();
            let mut first: Vec<u64> = of_lang
                .iter()
                .filter_map(|t| {
                    t.first_response_at
                        .map(|f| f.saturating_sub(t.opened_at) / 1000)
                })
                .collect();
            let mut resolution: Vec<u64> = of_lang
                .iter()
                .filter_map(|t| t.closed_at.map(|c| c.saturating_sub(t.opened_at) / 1000))
                .collect();
            LanguageFigures {
                language: lang,
                open: of_lang
                    .iter()
                    .filter(|t| t.status == TicketStatus::Open)
                    .count(),
                waiting: of_lang
                    .iter()
                    .filter(|t| t.waiting_since.is_some() && t.status == TicketStatus::Open)
                    .count(),
                closed: of_lang
                    .iter()
                    .filter(|t| t.status == TicketStatus::Closed)
                    .count(),
                median_first_response_seconds: median(&mut first),
                median_resolution_seconds: median(&mut resolution),
            }
        })
        .collect()
}

/// The middle value (the upper one of the two middles for an even count).
fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_value_and_none_for_nothing() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [30, 10, 20]), Some(20));
        assert_eq!(median(&mut [40, 10, 30, 20]), Some(30));
    }

    #[test]
    fn every_language_has_a_row_even_without_tickets() {
        let rows = figures(&[]);
        assert_eq!(rows.len(), Lang::ALL.len());
        assert!(
            rows.iter()
                .all(|r| r.open == 0 && r.closed == 0 && r.median_first_response_seconds.is_none())
        );
    }
}
