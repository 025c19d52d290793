//! Business hours: when a person staffs the helpdesk, read from `[helpdesk] timezone` and
//! `hours` in the config. Outside them, people asking for a human are told when one answers.
//!
//! Times are wall-clock times in the helpdesk's time zone, so "08:00" stays 08:00 across
//! daylight-saving changes in zones that have them.

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// Working hours in a time zone, parsed from config.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`. Each day's ranges are sorted by start and
    /// half-open: `start` inclusive, `end` exclusive; an `end` of `None` means midnight at the
    /// end of that day ("24:00").
    days: [Vec<(NaiveTime, Option<NaiveTime>)>; 7],
}

/// Why `[helpdesk] timezone` or `hours` was rejected. Messages are meant for the person
/// editing the config file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoursError {
    #[error("unknown time zone {0:?} (use a name like \"Asia/Jakarta\")")]
    UnknownTimeZone(String),
    #[error("hours are empty: write like {EXAMPLE}, or \"always\"")]
    Empty,
    #[error(
        "hours {hours:?}: unknown day {day:?} (use Mon Tue Wed Thu Fri Sat Sun), write like {EXAMPLE}"
    )]
    BadDay { hours: String, day: String },
    #[error("hours {hours:?}: {group:?} has no days, write like {EXAMPLE}")]
    MissingDays { hours: String, group: String },
    #[error("hours {hours:?}: {group:?} has no time range, write like {EXAMPLE}")]
    MissingRange { hours: String, group: String },
    #[error("hours {hours:?}: bad time range {range:?}, write like {EXAMPLE}")]
    BadTime { hours: String, range: String },
    #[error(
        "hours {hours:?}: {range:?} must end after it starts; overnight ranges are not supported, \
         split them like \"Mon 22:00-24:00, Tue 00:00-06:00\""
    )]
    EndNotAfterStart { hours: String, range: String },
}

const EXAMPLE: &str = "Mon-Fri 08:00-16:00";

/// How far `next_opening` looks, in local days either side of today. A week suffices for any
/// weekly schedule; the slack covers days swallowed by time-zone changes.
const SEARCH_DAYS_BEFORE: u64 = 1;
const SEARCH_DAYS_AFTER: u64 = 15;

impl BusinessHours {
    /// `hours` grammar: one or more groups separated by "," or ";": DAYS RANGE[ RANGE…]
    ///   DAYS = Day | Day-Day | Day/Day… (Mon Tue Wed Thu Fri Sat Sun, case-insensitive; Day-Day may wrap e.g. Sat-Mon)
    ///   RANGE = HH:MM-HH:MM with end after start (no overnight ranges; say so in the error)
    /// Examples: "Mon-Fri 08:00-16:00", "Mon-Thu 08:00-16:00, Fri 08:00-11:30 13:30-16:00", "Sun-Thu 09:00-17:00".
    /// Also accept "always" / "24/7" meaning open all the time.
    ///
    /// Also accepted: full day names ("Monday"), a one-digit hour ("8:00"), "24:00" as the end
    /// of a range, en/em dashes for "-", a `/` list mixing days and day ranges ("Mon-Wed/Fri"),
    /// and a trailing separator. Groups may repeat a day; their ranges add up.
    pub fn parse(timezone: &str, hours: &str) -> Result<BusinessHours, HoursError> {
        let tz = parse_tz(timezone)?;
        let spec = hours.trim();
        if spec.is_empty() {
            return Err(HoursError::Empty);
        }
        if spec.eq_ignore_ascii_case("always") || spec == "24/7" {
            return Ok(BusinessHours {
                tz,
                days: std::array::from_fn(|_| vec![(NaiveTime::MIN, None)]),
            });
        }

        let mut days: [Vec<(NaiveTime, Option<NaiveTime>)>; 7] = Default::default();
        let mut any = false;
        for group in spec.split([',', ';']) {
            let group = group.trim();
            if group.is_empty() {
                continue;
            }
            let mut tokens = group.split_whitespace();
            let Some(days_token) = tokens.next() else {
                continue;
            };
            if days_token.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(HoursError::MissingDays {
                    hours: hours.to_string(),
                    group: group.to_string(),
                });
            }
            let open_days = parse_days(days_token).map_err(|day| HoursError::BadDay {
                hours: hours.to_string(),
                day,
            })?;
            let mut ranges = Vec::new();
            for token in tokens {
                ranges.push(parse_range(hours, token)?);
            }
            if ranges.is_empty() {
                return Err(HoursError::MissingRange {
                    hours: hours.to_string(),
                    group: group.to_string(),
                });
            }
            for (day, open) in open_days.iter().enumerate() {
                if *open {
                    days[day].extend_from_slice(&ranges);
                    any = true;
                }
            }
        }
        if !any {
            return Err(HoursError::Empty);
        }
        for ranges in &mut days {
            // `None` (midnight) sorts before every time; compare it as the latest end.
            ranges.sort_by_key(|&(start, end)| (start, end.is_none(), end));
            ranges.dedup();
        }
        Ok(BusinessHours { tz, days })
    }

    /// Whether the helpdesk is staffed at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz);
        let time = local.time();
        self.ranges(local.weekday())
            .iter()
            .any(|&(start, end)| contains(start, end, time))
    }

    /// The next moment it opens at or after `now` (== now if open), in the helpdesk's time zone; None only if there are no hours at all (never happens after a successful parse).
    pub fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Tz>> {
        if self.is_open(now) {
            return Some(now.with_timezone(&self.tz));
        }
        // `date_naive` panics when the local date is out of chrono's range (near
        // `DateTime::MAX_UTC`); fall back to the UTC date there.
        let local = now.with_timezone(&self.tz);
        let offset = TimeDelta::seconds(i64::from(local.offset().fix().local_minus_utc()));
        let today = now
            .naive_utc()
            .checked_add_signed(offset)
            .unwrap_or(now.naive_utc())
            .date();
        let first = today
            .checked_sub_days(Days::new(SEARCH_DAYS_BEFORE))
            .unwrap_or(today);
        let mut best: Option<DateTime<Tz>> = None;
        let mut date = first;
        for _ in 0..=(SEARCH_DAYS_BEFORE + SEARCH_DAYS_AFTER) {
            for &(start, end) in self.ranges(date.weekday()) {
                let Some(opening) = self.opening_instant(date, start, end, now) else {
                    continue;
                };
                if best.as_ref().is_none_or(|b| opening < *b) {
                    best = Some(opening);
                }
            }
            match date.checked_add_days(Days::new(1)) {
                Some(next) => date = next,
                None => break,
            }
        }
        best
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    fn ranges(&self, day: Weekday) -> &[(NaiveTime, Option<NaiveTime>)] {
        &self.days[day.num_days_from_monday() as usize]
    }

    /// The earliest instant at or after `now` when the range `start..end` on local `date`
    /// begins. When `start` falls in a daylight-saving gap, the range begins once the clocks
    /// have jumped, if it has not ended by then.
    fn opening_instant(
        &self,
        date: NaiveDate,
        start: NaiveTime,
        end: Option<NaiveTime>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Tz>> {
        let mut time = start;
        loop {
            let local = date.and_time(time);
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(at) => return (at >= now).then_some(at),
                LocalResult::Ambiguous(a, b) => {
                    return [a, b].into_iter().filter(|at| *at >= now).min();
                }
                LocalResult::None => {
                    // Skipped wall-clock time: try the next minute of the same range.
                    let (next, wrapped) = time.overflowing_add_signed(TimeDelta::minutes(1));
                    if wrapped != 0 || !contains(start, end, next) {
                        return None;
                    }
                    time = next;
                }
            }
        }
    }
}

fn contains(start: NaiveTime, end: Option<NaiveTime>, time: NaiveTime) -> bool {
    start <= time && end.is_none_or(|end| time < end)
}

fn parse_tz(timezone: &str) -> Result<Tz, HoursError> {
    let name = timezone.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    // Forgive "asia/jakarta".
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| HoursError::UnknownTimeZone(timezone.to_string()))
}

fn parse_day(name: &str) -> Option<Weekday> {
    let day = match name.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    };
    Some(day)
}

/// The days a DAYS token names, indexed from Monday; `Err` carries the bad day for the message.
fn parse_days(token: &str) -> Result<[bool; 7], String> {
    let mut open = [false; 7];
    for item in token.split('/') {
        let normalized = normalize_dashes(item);
        let (first, last) = match normalized.split_once('-') {
            Some((a, b)) => (a, b),
            None => (normalized.as_str(), normalized.as_str()),
        };
        let first = parse_day(first).ok_or_else(|| bad_day_name(first, item, token))?;
        let last = parse_day(last).ok_or_else(|| bad_day_name(last, item, token))?;
        // Walk forward from `first`, wrapping past Sunday, until `last`.
        let mut day = first;
        loop {
            open[day.num_days_from_monday() as usize] = true;
            if day == last {
                break;
            }
            day = day.succ();
        }
    }
    Ok(open)
}

/// The most specific non-empty text to quote: "Fry" in "Mon-Fry", else "Mon-", else "Mon/".
fn bad_day_name(part: &str, item: &str, token: &str) -> String {
    [part, item, token]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or(token)
        .to_string()
}

fn normalize_dashes(s: &str) -> String {
    s.replace(['\u{2013}', '\u{2014}'], "-")
}

fn parse_range(hours: &str, token: &str) -> Result<(NaiveTime, Option<NaiveTime>), HoursError> {
    let bad = || HoursError::BadTime {
        hours: hours.to_string(),
        range: token.to_string(),
    };
    let normalized = normalize_dashes(token);
    let (start, end) = normalized.split_once('-').ok_or_else(bad)?;
    let start = match parse_clock(start).ok_or_else(bad)? {
        Clock::Time(t) => t,
        Clock::Midnight24 => return Err(bad()),
    };
    let end = match parse_clock(end).ok_or_else(bad)? {
        Clock::Time(t) => Some(t),
        Clock::Midnight24 => None,
    };
    if end.is_some_and(|end| start >= end) {
        return Err(HoursError::EndNotAfterStart {
            hours: hours.to_string(),
            range: token.to_string(),
        });
    }
    Ok((start, end))
}

enum Clock {
    Time(NaiveTime),
    /// "24:00", only meaningful as the end of a range.
    Midnight24,
}

/// `H:MM` or `HH:MM`, 00:00 to 23:59, or 24:00.
fn parse_clock(s: &str) -> Option<Clock> {
    let (h, m) = s.split_once(':')?;
    let digits =
        |x: &str, lens: &[usize]| lens.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, &[1, 2]) || !digits(m, &[2]) {
        return None;
    }
    let hour: u32 = h.parse().ok()?;
    let minute: u32 = m.parse().ok()?;
    if hour == 24 && minute == 0 {
        return Some(Clock::Midnight24);
    }
    NaiveTime::from_hms_opt(hour, minute, 0).map(Clock::Time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Jakarta;

    /// A Jakarta wall-clock time as a UTC instant. 2025-01-03 is a Friday.
    fn jkt(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Jakarta
            .with_ymd_and_hms(2025, 1, day, hour, minute, 0)
            .single()
            .expect("valid Jakarta time")
            .with_timezone(&Utc)
    }

    fn jkt_local(day: u32, hour: u32, minute: u32) -> DateTime<Tz> {
        jkt(day, hour, minute).with_timezone(&Jakarta)
    }

    fn parse(hours: &str) -> BusinessHours {
        BusinessHours::parse("Asia/Jakarta", hours).expect("valid hours")
    }

    fn err(timezone: &str, hours: &str) -> HoursError {
        BusinessHours::parse(timezone, hours).expect_err("should be rejected")
    }

    const FRI: u32 = 3;
    const SAT: u32 = 4;
    const SUN: u32 = 5;
    const MON: u32 = 6;
    const TUE: u32 = 7;
    const THU: u32 = 9;

    #[test]
    fn weekday_constants_are_right() {
        assert_eq!(jkt_local(FRI, 12, 0).weekday(), Weekday::Fri);
        assert_eq!(jkt_local(SAT, 12, 0).weekday(), Weekday::Sat);
        assert_eq!(jkt_local(SUN, 12, 0).weekday(), Weekday::Sun);
        assert_eq!(jkt_local(MON, 12, 0).weekday(), Weekday::Mon);
        assert_eq!(jkt_local(TUE, 12, 0).weekday(), Weekday::Tue);
        assert_eq!(jkt_local(THU, 12, 0).weekday(), Weekday::Thu);
    }

    #[test]
    fn parses_the_examples() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("time");
        let weekdays = parse("Mon-Fri 08:00-16:00");
        assert_eq!(weekdays.timezone(), Jakarta);
        for day in 0..5 {
            assert_eq!(weekdays.days[day], vec![(t(8, 0), Some(t(16, 0)))]);
        }
        assert!(weekdays.days[5].is_empty() && weekdays.days[6].is_empty());

        let split = parse("Mon-Thu 08:00-16:00, Fri 08:00-11:30 13:30-16:00");
        assert_eq!(split.days[3], vec![(t(8, 0), Some(t(16, 0)))]);
        assert_eq!(
            split.days[4],
            vec![(t(8, 0), Some(t(11, 30))), (t(13, 30), Some(t(16, 0)))]
        );
        assert!(split.days[5].is_empty());

        let sun_thu = parse("Sun-Thu 09:00-17:00");
        let open: Vec<bool> = sun_thu.days.iter().map(|d| !d.is_empty()).collect();
        assert_eq!(open, [true, true, true, true, false, false, true]);

        let semicolons = parse("mon/WED/fri 8:00-12:00; Sat 09:00-24:00;");
        let open: Vec<bool> = semicolons.days.iter().map(|d| !d.is_empty()).collect();
        assert_eq!(open, [true, false, true, false, true, true, false]);
        assert_eq!(semicolons.days[5], vec![(t(9, 0), None)]);

        assert_eq!(parse("Monday–Friday 08:00–16:00"), weekdays);
        assert_eq!(
            BusinessHours::parse(" asia/jakarta ", "Mon-Fri 08:00-16:00"),
            Ok(weekdays)
        );
    }

    #[test]
    fn always_is_always_open() {
        for spec in ["always", "ALWAYS", " 24/7 "] {
            let hours = parse(spec);
            assert_eq!(hours, parse("Mon-Sun 00:00-24:00"));
            for now in [jkt(SAT, 0, 0), jkt(SUN, 23, 59), jkt(MON, 12, 0)] {
                assert!(hours.is_open(now));
                assert_eq!(hours.next_opening(now), Some(now.with_timezone(&Jakarta)));
            }
        }
    }

    #[test]
    fn rejects_bad_input_with_clear_messages() {
        let e = err("Asia/Jakartaa", "Mon-Fri 08:00-16:00");
        assert_eq!(e, HoursError::UnknownTimeZone("Asia/Jakartaa".into()));
        assert!(
            e.to_string()
                .starts_with("unknown time zone \"Asia/Jakartaa\""),
            "{e}"
        );
        assert!(matches!(err("", "always"), HoursError::UnknownTimeZone(_)));
        assert!(matches!(
            err("+07:00", "always"),
            HoursError::UnknownTimeZone(_)
        ));

        for empty in ["", "   ", ",", " ; , "] {
            let e = err("Asia/Jakarta", empty);
            assert_eq!(e, HoursError::Empty);
            assert!(
                e.to_string().contains("write like Mon-Fri 08:00-16:00"),
                "{e}"
            );
        }

        let e = err("Asia/Jakarta", "Mon-Fry 08:00-16:00");
        assert_eq!(
            e,
            HoursError::BadDay {
                hours: "Mon-Fry 08:00-16:00".into(),
                day: "Fry".into()
            }
        );
        assert!(e.to_string().contains("unknown day \"Fry\""), "{e}");
        assert!(
            matches!(err("Asia/Jakarta", "Mon- 08:00-16:00"), HoursError::BadDay { day, .. } if day == "Mon-")
        );
        assert!(matches!(
            err("Asia/Jakarta", "Weekdays 08:00-16:00"),
            HoursError::BadDay { .. }
        ));
        assert!(
            matches!(err("Asia/Jakarta", "Mon/ 08:00-16:00"), HoursError::BadDay { day, .. } if day == "Mon/")
        );

        let e = err("Asia/Jakarta", "Mon-Fri 8-16");
        assert_eq!(
            e.to_string(),
            "hours \"Mon-Fri 8-16\": bad time range \"8-16\", write like Mon-Fri 08:00-16:00"
        );
        for bad in [
            "Mon 25:00-26:00",
            "Mon 08:60-09:00",
            "Mon 08:00",
            "Mon 08:00-",
            "Mon 8.00-16.00",
            "Mon 08:00 - 16:00",
            "Mon 24:00-24:00",
            "Mon 08:00-24:01",
            "Mon 008:00-16:00",
            "Mon 08:0-16:00",
            "Mon +8:00-16:00",
        ] {
            assert!(
                matches!(err("Asia/Jakarta", bad), HoursError::BadTime { .. }),
                "{bad}"
            );
        }

        let e = err("Asia/Jakarta", "Mon-Fri 22:00-06:00");
        assert_eq!(
            e,
            HoursError::EndNotAfterStart {
                hours: "Mon-Fri 22:00-06:00".into(),
                range: "22:00-06:00".into()
            }
        );
        assert!(e.to_string().contains("overnight"), "{e}");
        assert!(matches!(
            err("Asia/Jakarta", "Mon 08:00-08:00"),
            HoursError::EndNotAfterStart { .. }
        ));

        let e = err("Asia/Jakarta", "Mon-Fri");
        assert!(matches!(e, HoursError::MissingRange { .. }));
        assert!(e.to_string().contains("has no time range"), "{e}");
        let e = err("Asia/Jakarta", "08:00-16:00");
        assert!(matches!(e, HoursError::MissingDays { .. }));
        assert!(e.to_string().contains("has no days"), "{e}");
    }

    #[test]
    fn is_open_at_boundaries_in_jakarta() {
        let hours = parse("Mon-Fri 08:00-16:00");
        assert!(!hours.is_open(jkt(FRI, 7, 59)));
        assert!(hours.is_open(jkt(FRI, 8, 0)));
        assert!(hours.is_open(jkt(FRI, 15, 59)));
        assert!(hours.is_open(jkt(FRI, 15, 59) + TimeDelta::seconds(59)));
        assert!(!hours.is_open(jkt(FRI, 16, 0)));
        assert!(!hours.is_open(jkt(SAT, 10, 0)));
        assert!(!hours.is_open(jkt(SUN, 10, 0)));
        assert!(hours.is_open(jkt(MON, 8, 0)));
        // 08:00 Jakarta is 01:00 UTC: the zone is applied, not UTC's wall clock.
        let utc_eight = Utc
            .with_ymd_and_hms(2025, 1, FRI, 8, 0, 0)
            .single()
            .expect("time");
        assert!(hours.is_open(utc_eight)); // 15:00 in Jakarta
        let utc_nine = utc_eight + TimeDelta::hours(1);
        assert!(!hours.is_open(utc_nine)); // 16:00 in Jakarta
    }

    #[test]
    fn next_opening_in_jakarta() {
        let hours = parse("Mon-Fri 08:00-16:00");
        assert_eq!(
            hours.next_opening(jkt(FRI, 17, 0)),
            Some(jkt_local(MON, 8, 0))
        );
        assert_eq!(
            hours.next_opening(jkt(FRI, 16, 0)),
            Some(jkt_local(MON, 8, 0))
        );
        assert_eq!(
            hours.next_opening(jkt(SUN, 23, 59)),
            Some(jkt_local(MON, 8, 0))
        );
        assert_eq!(
            hours.next_opening(jkt(MON, 7, 0)),
            Some(jkt_local(MON, 8, 0))
        );
        assert_eq!(
            hours.next_opening(jkt(MON, 16, 30)),
            Some(jkt_local(TUE, 8, 0))
        );
        let inside = jkt(THU, 11, 22) + TimeDelta::seconds(33);
        assert_eq!(
            hours.next_opening(inside),
            Some(inside.with_timezone(&Jakarta))
        );
        let opening = hours.next_opening(jkt(FRI, 17, 0)).expect("opens");
        assert_eq!(opening.timezone(), Jakarta);
        assert_eq!(opening.to_rfc3339(), "2025-01-06T08:00:00+07:00");
    }

    #[test]
    fn split_day() {
        let hours = parse("Mon-Thu 08:00-16:00, Fri 08:00-11:30 13:30-16:00");
        assert!(hours.is_open(jkt(FRI, 11, 29)));
        assert!(!hours.is_open(jkt(FRI, 11, 30)));
        assert!(!hours.is_open(jkt(FRI, 12, 0)));
        assert!(hours.is_open(jkt(FRI, 13, 30)));
        assert!(hours.is_open(jkt(THU, 12, 0)));
        assert_eq!(
            hours.next_opening(jkt(FRI, 12, 0)),
            Some(jkt_local(FRI, 13, 30))
        );
        assert_eq!(
            hours.next_opening(jkt(FRI, 16, 0)),
            Some(jkt_local(MON, 8, 0))
        );
    }

    #[test]
    fn wrapping_day_range() {
        let hours = parse("Sat-Mon 10:00-14:00");
        let open: Vec<bool> = hours.days.iter().map(|d| !d.is_empty()).collect();
        assert_eq!(open, [true, false, false, false, false, true, true]);
        assert!(hours.is_open(jkt(SAT, 10, 0)));
        assert!(hours.is_open(jkt(SUN, 13, 59)));
        assert!(hours.is_open(jkt(MON, 12, 0)));
        assert!(!hours.is_open(jkt(TUE, 12, 0)));
        assert!(!hours.is_open(jkt(FRI, 12, 0)));
        assert_eq!(
            hours.next_opening(jkt(FRI, 12, 0)),
            Some(jkt_local(SAT, 10, 0))
        );
        assert_eq!(
            hours.next_opening(jkt(SUN, 14, 0)),
            Some(jkt_local(MON, 10, 0))
        );
        // Monday 14:00 → Saturday 10:00, five days later.
        assert_eq!(
            hours.next_opening(jkt(MON, 14, 0)),
            Some(jkt_local(MON + 5, 10, 0))
        );
        // A single-day "range" is that day only, not the whole week.
        let one = parse("Wed-Wed 10:00-11:00");
        assert_eq!(one.days.iter().filter(|d| !d.is_empty()).count(), 1);
    }

    #[test]
    fn ranges_touching_midnight_are_continuous() {
        let hours = parse("Fri 20:00-24:00, Sat 00:00-02:00");
        assert!(hours.is_open(jkt(FRI, 23, 59)));
        assert!(hours.is_open(jkt(SAT, 0, 0)));
        assert!(hours.is_open(jkt(SAT, 1, 59)));
        assert!(!hours.is_open(jkt(SAT, 2, 0)));
        assert_eq!(
            hours.next_opening(jkt(SAT, 2, 0)),
            Some(jkt_local(FRI + 7, 20, 0))
        );
    }

    #[test]
    fn daylight_saving_gap_opens_when_clocks_jump() {
        // Europe/Berlin springs forward on 2025-03-30 (a Sunday): 02:00 becomes 03:00.
        let hours = BusinessHours::parse("Europe/Berlin", "Sun 02:30-04:00").expect("valid");
        let berlin = chrono_tz::Europe::Berlin;
        let before = berlin
            .with_ymd_and_hms(2025, 3, 30, 1, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc);
        let opening = hours.next_opening(before).expect("opens");
        assert_eq!(opening.to_rfc3339(), "2025-03-30T03:00:00+02:00");
        assert!(hours.is_open(opening.with_timezone(&Utc)));
        // A range wholly inside the gap is skipped that week.
        let gap = BusinessHours::parse("Europe/Berlin", "Sun 02:10-02:20").expect("valid");
        let opening = gap.next_opening(before).expect("opens");
        assert_eq!(opening.to_rfc3339(), "2025-04-06T02:10:00+02:00");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let zones = [
            "Asia/Jakarta",
            "",
            " ",
            "UTC",
            "asia/JAKARTA",
            "🕗",
            "Asia/",
            "/",
            "\0",
        ];
        let odd = [
            "",
            "-",
            "--",
            "/",
            "//",
            ",",
            ";;",
            ":",
            "::",
            "-:-",
            "Mon",
            "Mon-",
            "-Mon",
            "Mon--Fri 08:00-16:00",
            "Mon-Tue-Wed 08:00-16:00",
            "Mon/-/Fri 08:00-16:00",
            "Mon 08:00-16:00-17:00",
            "Mon :-:",
            "Mon 99999999999999999999:00-1:00",
            "Mon 08:00-16:00 🕗",
            "Mön 08:00-16:00",
            "Mon 0８:00-16:00",
            "Mon ٠٨:٠٠-١٦:٠٠",
            "Mon\t08:00-16:00\n",
            "Mon-Fri 08:00–16:00 — ",
            "always always",
            "24/7/365",
            "\u{0}",
            "Mon 23:59-24:00",
            "Mon 00:00-00:01",
            "Sun-Sat 00:00-24:00",
        ];
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            jkt(FRI, 12, 0),
        ];
        for zone in zones {
            for spec in odd {
                if let Ok(hours) = BusinessHours::parse(zone, spec) {
                    for now in instants {
                        let _ = hours.is_open(now);
                        let _ = hours.next_opening(now);
                    }
                } else {
                    let _ = BusinessHours::parse(zone, spec).map_err(|e| e.to_string());
                }
            }
        }
        let hours = parse("Mon 23:59-24:00");
        assert_eq!(
            hours.next_opening(jkt(MON, 23, 59)),
            Some(jkt_local(MON, 23, 59))
        );
        assert_eq!(
            hours.next_opening(jkt(TUE, 0, 0)),
            Some(jkt_local(MON + 7, 23, 59))
        );
    }
}
