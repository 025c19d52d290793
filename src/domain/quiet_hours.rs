//! `[broadcasts] quiet_hours = "21:00-07:00"`: no broadcast message goes out then (helpdesk
//! time zone). A window may cross midnight.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
    tz: Tz,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(text: &str, tz: Tz) -> Result<QuietHours, String> {
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| format!("quiet_hours {text:?}: write it as 21:00-07:00"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("quiet_hours {text:?}: {t:?} is not a time like 21:00"))
        };
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!("quiet_hours {text:?}: start and end are the same"));
        }
        Ok(QuietHours { start, end, tz })
    }

    pub fn is_quiet(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz).time();
        if self.start < self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_window_across_midnight_in_the_helpdesk_zone() {
        let q = QuietHours::parse("21:00-07:00", chrono_tz::Asia::Jakarta).unwrap();
        // Jakarta is UTC+7.
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap();
        assert!(q.is_quiet(at(14, 0))); // 21:00 local
        assert!(q.is_quiet(at(23, 59))); // 06:59 local
        assert!(!q.is_quiet(at(0, 0))); // 07:00 local
        assert!(!q.is_quiet(at(13, 59))); // 20:59 local
        let day = QuietHours::parse("12:00-13:00", chrono_tz::UTC).unwrap();
        assert!(day.is_quiet(at(12, 30)));
        assert!(!day.is_quiet(at(13, 0)));
        assert!(QuietHours::parse("21:00", chrono_tz::UTC).is_err());
        assert!(QuietHours::parse("25:00-07:00", chrono_tz::UTC).is_err());
    }
}
