//! The validation period's end date, 12 CFR 1006.34(b)(5): the consumer is assumed to
//! receive a notice 5 business days after it is sent (excluding Saturdays, Sundays and the
//! legal public holidays of 5 U.S.C. 6103(a)), and may dispute for 30 days after that.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The citation of the rule.
pub const CITATION: &str = "12 CFR 1006.34(b)(5)";

/// The legal public holidays of 5 U.S.C. 6103(a) in `year`, on their observed dates: a
/// Saturday holiday is observed the Friday before, a Sunday holiday the Monday after
/// (5 U.S.C. 6103(b)). New Year's Day of the next year may be observed on December 31.
pub fn federal_holidays(year: i32) -> Vec<NaiveDate> {
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("valid date");
    let nth = |m, wd, n| NaiveDate::from_weekday_of_month_opt(year, m, wd, n).expect("valid");
    let last_monday_of_may = {
        let mut d = date(5, 31);
        while d.weekday() != Weekday::Mon {
            d = d.pred_opt().expect("valid date");
        }
        d
    };
    let fixed = [
        date(1, 1),   // New Year's Day
        date(6, 19),  // Juneteenth National Independence Day
        date(7, 4),   // Independence Day
        date(11, 11), // Veterans Day
        date(12, 25), // Christmas Day
    ];
    let floating = [
        nth(1, Weekday::Mon, 3),  // Birthday of Martin Luther King, Jr.
        nth(2, Weekday::Mon, 3),  // Washington's Birthday
        last_monday_of_may,       // Memorial Day
        nth(9, Weekday::Mon, 1),  // Labor Day
        nth(10, Weekday::Mon, 2), // Columbus Day
        nth(11, Weekday::Thu, 4), // Thanksgiving Day
    ];
    let mut all: Vec<NaiveDate> = fixed.into_iter().map(observed).collect();
    all.extend(floating);
    if let Some(next_new_year) = NaiveDate::from_ymd_opt(year + 1, 1, 1) {
        let obs = observed(next_new_year);
        if obs.year() == year {
            all.push(obs);
        }
    }
    all.sort();
    all
}

fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d.pred_opt().expect("valid date"),
        Weekday::Sun => d.succ_opt().expect("valid date"),
        _ => d,
    }
}

/// True on weekdays that are not observed legal public holidays.
pub fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !federal_holidays(d.year()).contains(&d)
}

/// The last day of the validation period for a notice sent on `sent_on`: 5 business days
/// after sending, plus 30 calendar days.
pub fn validation_period_end(sent_on: NaiveDate) -> NaiveDate {
    let mut day = sent_on;
    let mut business = 0;
    while business < 5 {
        day = day.succ_opt().expect("date in range");
        if is_business_day(day) {
            business += 1;
        }
    }
    day.checked_add_days(Days::new(30)).expect("date in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn holidays_fall_on_their_observed_dates() {
        let h = federal_holidays(2026);
        // July 4, 2026 is a Saturday: observed Friday July 3.
        assert!(h.contains(&d("2026-07-03")) && !h.contains(&d("2026-07-04")));
        assert!(h.contains(&d("2026-01-19"))); // MLK day
        assert!(h.contains(&d("2026-05-25"))); // Memorial Day
        assert!(h.contains(&d("2026-11-26"))); // Thanksgiving
        assert!(h.contains(&d("2026-06-19"))); // Juneteenth, a Friday
        assert_eq!(h.len(), 11);
        // New Year's Day 2028 is a Saturday: observed Friday December 31, 2027.
        assert!(federal_holidays(2027).contains(&d("2027-12-31")));
        assert!(!federal_holidays(2028).contains(&d("2028-01-01")));
        // Christmas 2027 is a Saturday, observed the 24th; in 2022 a Sunday, observed the 26th.
        assert!(federal_holidays(2027).contains(&d("2027-12-24")));
        assert!(federal_holidays(2022).contains(&d("2022-12-26")));
    }

    #[test]
    fn the_period_is_five_business_days_plus_thirty() {
        // The example: Christmas Friday skipped.
        assert_eq!(validation_period_end(d("2026-12-21")), d("2027-01-28"));
        // Plain week: Monday + 5 business days = next Monday, + 30.
        assert_eq!(validation_period_end(d("2026-03-02")), d("2026-04-08"));
        // Sent on a Saturday: Monday to Friday are the 5 days.
        assert_eq!(validation_period_end(d("2026-03-07")), d("2026-04-12"));
        // Across the observed Independence Day (Friday July 3, 2026).
        assert_eq!(validation_period_end(d("2026-06-29")), d("2026-08-06"));
    }
}
