//! One module per rule, each citing the law it applies.

pub mod content;
pub mod frequency;
pub mod holds;
pub mod hours;
pub mod inconvenient;
pub mod media;
pub mod reply;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Pushes every instant in (`after`, `until`] at which the wall clock in `zone` reads `time`.
/// A time skipped by a daylight-saving jump is taken an hour later, its first real instant.
pub(crate) fn local_instants(
    zone: Tz,
    time: NaiveTime,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    out: &mut Vec<DateTime<Utc>>,
) {
    let first = after.with_timezone(&zone).date_naive();
    let last = until.with_timezone(&zone).date_naive();
    let mut day = first;
    while day <= last {
        let local = day.and_time(time);
        let instant = zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc));
        if let Some(t) = instant.filter(|t| *t > after && *t <= until) {
            out.push(t);
        }
        day = match day.checked_add_days(Days::new(1)) {
            Some(d) => d,
            None => break,
        };
    }
}
