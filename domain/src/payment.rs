//! A creditor's payment terms and what follows from them: the smallest payment taken, the
//! settlement offer shown to a debtor, and payment-plan schedules that stay within the rules.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError};

/// How often a plan's instalments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every 7 days.
    Weekly,
    /// Every 14 days.
    Biweekly,
    /// The same day of each month (the last day when a month is shorter).
    Monthly,
}

impl Frequency {
    /// Every frequency, in the order forms list them.
    pub const ALL: [Frequency; 3] = [Frequency::Weekly, Frequency::Biweekly, Frequency::Monthly];

    /// The stored and posted name.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Biweekly => "biweekly",
            Frequency::Monthly => "monthly",
        }
    }

    /// Reads a stored or posted name.
    pub fn parse(text: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The due date of instalment `n` (0 is the first).
    pub fn nth(self, first: NaiveDate, n: u32) -> NaiveDate {
        let later = match self {
            Frequency::Weekly => first.checked_add_days(Days::new(7 * u64::from(n))),
            Frequency::Biweekly => first.checked_add_days(Days::new(14 * u64::from(n))),
            Frequency::Monthly => first.checked_add_months(Months::new(n)),
        };
        later.unwrap_or(NaiveDate::MAX)
    }
}

/// What a creditor allows in payment plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRules {
    /// The smallest instalment.
    pub min_instalment: Money,
    /// The most instalments a plan may have.
    pub max_instalments: u32,
    /// The last instalment falls at most this many months after the first.
    pub max_months: u32,
    /// The frequencies a debtor may choose.
    pub frequencies: Vec<Frequency>,
    /// The first instalment falls at most this many days after the plan is set up.
    pub first_within_days: u32,
}

/// What a creditor allows as a settlement: a lump sum of at least a share of the balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRule {
    /// The smallest share of the current balance accepted, in basis points (6000 = 60%).
    pub min_share_bp: u32,
    /// An offer made today stays open this many days.
    pub valid_days: u32,
}

/// A settlement offer as shown to the debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementOffer {
    /// The amount that settles the debt in full.
    pub amount: Money,
    /// The last day the offer can be accepted.
    pub valid_until: NaiveDate,
}

/// One instalment of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    /// The day it is charged.
    pub due: NaiveDate,
    /// The amount charged.
    pub amount: Money,
}

/// Payment terms a debtor could not use (a plan with no frequency, a share over 100%...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RulesError(pub String);

/// Why a payment, offer or schedule is outside a creditor's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    /// Nothing is owed.
    #[error("nothing is owed")]
    NothingOwed,
    /// Below the smallest payment the creditor takes.
    #[error("the smallest payment is {0}")]
    BelowMinimum(Money),
    /// More than the balance.
    #[error("more than the balance of {0}")]
    AboveBalance(Money),
    /// The creditor offers no plans or settlements.
    #[error("not offered for this debt")]
    NotOffered,
    /// A frequency the creditor does not allow.
    #[error("that frequency is not offered")]
    Frequency,
    /// Too many or too few instalments.
    #[error("between 2 and {0} instalments")]
    Count(u32),
    /// An instalment below the smallest.
    #[error("each instalment must be at least {0}")]
    InstalmentTooSmall(Money),
    /// The first date is in the past or too far away.
    #[error("the first payment must fall between {0} and {1}")]
    FirstDate(NaiveDate, NaiveDate),
    /// The plan runs longer than allowed.
    #[error("the plan must end by {0}")]
    TooLong(NaiveDate),
    /// A moved instalment would fall out of order or out of range.
    #[error("the new date must fall between {0} and {1}")]
    MoveDate(NaiveDate, NaiveDate),
    /// The arithmetic failed (mixed currencies, overflow).
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A creditor's terms for the debts it places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTerms {
    /// The smallest one-time payment (the full balance is always accepted when smaller).
    pub min_payment: Money,
    /// Plans, when offered.
    pub plan: Option<PlanRules>,
    /// Settlements, when offered.
    pub settlement: Option<SettlementRule>,
    /// A convenience fee, only when the creditor states that the contract or law expressly
    /// allows it (12 CFR 1006.22(b)). `None` charges none.
    pub convenience_fee: Option<Money>,
}

impl PaymentTerms {
    /// Accepts terms a debtor can use: positive amounts, at least two instalments over at
    /// least a month, a frequency, a settlement share between 1% and 100% that stays open
    /// at least a day. Every problem is listed.
    pub fn validate(self) -> Result<PaymentTerms, RulesError> {
        let mut problems = Vec::new();
        if self.min_payment.minor() <= 0 {
            problems.push("the smallest payment must be more than zero".to_string());
        }
        if let Some(plan) = &self.plan {
            if plan.min_instalment.minor() <= 0 {
                problems.push("the smallest instalment must be more than zero".into());
            }
            if plan.max_instalments < 2 {
                problems.push("a plan needs at least 2 instalments".into());
            }
            if plan.max_months < 1 {
                problems.push("a plan must be allowed to run at least 1 month".into());
            }
            if plan.frequencies.is_empty() {
                problems.push("a plan needs at least one frequency".into());
            }
            if !(1..=90).contains(&plan.first_within_days) {
                problems.push("the first instalment must fall within 1 to 90 days".into());
            }
        }
        if let Some(rule) = &self.settlement {
            if !(100..=10_000).contains(&rule.min_share_bp) {
                problems.push("a settlement share must be between 1% and 100%".into());
            }
            if rule.valid_days < 1 {
                problems.push("a settlement offer must stay open at least 1 day".into());
            }
        }
        if self.convenience_fee.is_some_and(|f| f.minor() < 0) {
            problems.push("a convenience fee cannot be negative".into());
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(RulesError(problems.join("; ")))
        }
    }

    /// Checks a one-time payment against the balance and the minimum.
    pub fn check_payment(&self, amount: Money, balance: Money) -> Result<(), TermsError> {
        if balance.minor() <= 0 {
            return Err(TermsError::NothingOwed);
        }
        if amount.minor() > balance.minor() {
            return Err(TermsError::AboveBalance(balance));
        }
        let floor = self.min_payment.minor().min(balance.minor()).max(1);
        if amount.minor() < floor {
            return Err(TermsError::BelowMinimum(Money::from_minor(
                floor,
                balance.currency(),
            )?));
        }
        Ok(())
    }

    /// The settlement offer for this balance today: the share, rounded up to the cent.
    pub fn settlement_offer(
        &self,
        balance: Money,
        today: NaiveDate,
    ) -> Result<SettlementOffer, TermsError> {
        let rule = self.settlement.as_ref().ok_or(TermsError::NotOffered)?;
        if balance.minor() <= 0 {
            return Err(TermsError::NothingOwed);
        }
        let share = (balance.to_decimal() * Decimal::from(rule.min_share_bp.min(10_000))
            / Decimal::from(10_000))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero);
        let amount = Money::from_decimal(share, balance.currency())?;
        let valid_until = today
            .checked_add_days(Days::new(u64::from(rule.valid_days)))
            .unwrap_or(NaiveDate::MAX);
        Ok(SettlementOffer {
            amount,
            valid_until,
        })
    }

    /// The latest first date a plan set up today may have.
    pub fn latest_first_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        let rules = self.plan.as_ref()?;
        today.checked_add_days(Days::new(u64::from(rules.first_within_days)))
    }

    /// A schedule of `count` instalments paying `balance`, starting on `first`. Instalments
    /// are equal but for the last, which carries the cents left over.
    pub fn schedule(
        &self,
        balance: Money,
        frequency: Frequency,
        count: u32,
        first: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<Instalment>, TermsError> {
        let rules = self.plan.as_ref().ok_or(TermsError::NotOffered)?;
        if balance.minor() <= 0 {
            return Err(TermsError::NothingOwed);
        }
        if !rules.frequencies.contains(&frequency) {
            return Err(TermsError::Frequency);
        }
        if count < 2 || count > rules.max_instalments {
            return Err(TermsError::Count(rules.max_instalments));
        }
        let latest = self.latest_first_date(today).unwrap_or(today);
        if first < today || first > latest {
            return Err(TermsError::FirstDate(today, latest));
        }
        let end = first
            .checked_add_months(Months::new(rules.max_months))
            .unwrap_or(NaiveDate::MAX);
        let last_due = frequency.nth(first, count - 1);
        if last_due > end {
            return Err(TermsError::TooLong(end));
        }
        let currency = balance.currency();
        let base = balance.minor() / i64::from(count);
        if base < rules.min_instalment.minor() {
            return Err(TermsError::InstalmentTooSmall(rules.min_instalment));
        }
        let last = balance.minor() - base * i64::from(count - 1);
        (0..count)
            .map(|n| {
                let minor = if n == count - 1 { last } else { base };
                Ok(Instalment {
                    due: frequency.nth(first, n),
                    amount: Money::from_minor(minor, currency)?,
                })
            })
            .collect()
    }
}

/// Moves one future instalment to a new date: not before `today` or the previous
/// instalment, not after the next one, and within the plan's allowed length from its start.
pub fn move_instalment(
    schedule: &[Instalment],
    index: usize,
    new_due: NaiveDate,
    rules: &PlanRules,
    today: NaiveDate,
) -> Result<Vec<Instalment>, TermsError> {
    let first = schedule.first().map(|i| i.due).unwrap_or(today);
    let end = first
        .checked_add_months(Months::new(rules.max_months))
        .unwrap_or(NaiveDate::MAX);
    let earliest = match index.checked_sub(1).and_then(|p| schedule.get(p)) {
        Some(prev) => (prev.due.succ_opt().unwrap_or(prev.due)).max(today),
        None => today,
    };
    let latest = match schedule.get(index + 1) {
        Some(next) => next.due.pred_opt().unwrap_or(next.due).min(end),
        None => end,
    };
    if index >= schedule.len() || new_due < earliest || new_due > latest {
        return Err(TermsError::MoveDate(earliest, latest));
    }
    let mut moved = schedule.to_vec();
    moved[index].due = new_due;
    Ok(moved)
}

/// Where a plan stands when the debtor asks for a new instalment amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanPosition {
    /// The plan's first due date (its length is counted from it).
    pub first: NaiveDate,
    /// Instalments already paid or missed.
    pub done: u32,
    /// The next scheduled instalment's date.
    pub next_due: NaiveDate,
    /// What the scheduled instalments still add up to.
    pub remaining: Money,
    /// The plan's frequency.
    pub frequency: Frequency,
}

/// The remaining instalments re-cut at `amount` each from the next due date: the last one
/// carries what is left, folded into the one before when it would fall under the smallest
/// instalment. The plan keeps its frequency and must stay within the instalment count and
/// length the rules allow.
pub fn reamount(
    at: &PlanPosition,
    amount: Money,
    rules: &PlanRules,
) -> Result<Vec<Instalment>, TermsError> {
    let total = at.remaining.minor();
    if amount.minor() < rules.min_instalment.minor() {
        return Err(TermsError::InstalmentTooSmall(rules.min_instalment));
    }
    if amount.minor() > total {
        return Err(TermsError::AboveBalance(at.remaining));
    }
    let a = amount.minor();
    let mut amounts = vec![a; usize::try_from(total / a).unwrap_or(0)];
    let rest = total % a;
    if rest > 0 {
        match amounts.last_mut() {
            Some(last) if rest < rules.min_instalment.minor() => *last += rest,
            _ => amounts.push(rest),
        }
    }
    let count = u32::try_from(amounts.len()).unwrap_or(u32::MAX);
    if at.done.saturating_add(count) > rules.max_instalments {
        return Err(TermsError::Count(rules.max_instalments));
    }
    let end = at
        .first
        .checked_add_months(Months::new(rules.max_months))
        .unwrap_or(NaiveDate::MAX);
    if at.frequency.nth(at.next_due, count.saturating_sub(1)) > end {
        return Err(TermsError::TooLong(end));
    }
    let currency = at.remaining.currency();
    amounts
        .into_iter()
        .enumerate()
        .map(|(n, minor)| {
            Ok(Instalment {
                due: at.frequency.nth(at.next_due, n as u32),
                amount: Money::from_minor(minor, currency)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn terms() -> PaymentTerms {
        PaymentTerms {
            min_payment: usd(2_500),
            plan: Some(PlanRules {
                min_instalment: usd(2_500),
                max_instalments: 12,
                max_months: 12,
                frequencies: Frequency::ALL.to_vec(),
                first_within_days: 30,
            }),
            settlement: Some(SettlementRule {
                min_share_bp: 6_000,
                valid_days: 14,
            }),
            convenience_fee: None,
        }
    }

    #[test]
    fn payments_are_between_the_minimum_and_the_balance() {
        let t = terms();
        assert!(t.check_payment(usd(2_500), usd(10_000)).is_ok());
        assert_eq!(
            t.check_payment(usd(2_499), usd(10_000)),
            Err(TermsError::BelowMinimum(usd(2_500)))
        );
        assert_eq!(
            t.check_payment(usd(10_001), usd(10_000)),
            Err(TermsError::AboveBalance(usd(10_000)))
        );
        // A balance under the minimum can still be paid off.
        assert!(t.check_payment(usd(1_000), usd(1_000)).is_ok());
        assert_eq!(
            t.check_payment(usd(100), usd(0)),
            Err(TermsError::NothingOwed)
        );
    }

    #[test]
    fn a_settlement_offer_rounds_up_to_the_cent() {
        let offer = terms()
            .settlement_offer(usd(10_001), day(2026, 11, 23))
            .unwrap();
        assert_eq!(offer.amount, usd(6_001)); // 60.006 -> 60.01
        assert_eq!(offer.valid_until, day(2026, 12, 7));
    }

    #[test]
    fn monthly_dates_keep_the_day_or_take_the_month_end() {
        let f = Frequency::Monthly;
        assert_eq!(f.nth(day(2026, 1, 31), 1), day(2026, 2, 28));
        assert_eq!(f.nth(day(2026, 1, 31), 2), day(2026, 3, 31));
        assert_eq!(
            Frequency::Biweekly.nth(day(2026, 1, 1), 2),
            day(2026, 1, 29)
        );
    }

    #[test]
    fn schedules_outside_the_rules_are_refused() {
        let t = terms();
        let today = day(2026, 11, 23);
        let bal = usd(100_000);
        assert_eq!(
            t.schedule(bal, Frequency::Monthly, 13, today, today),
            Err(TermsError::Count(12))
        );
        assert!(matches!(
            t.schedule(bal, Frequency::Monthly, 4, day(2026, 12, 24), today),
            Err(TermsError::FirstDate(..))
        ));
        assert!(matches!(
            t.schedule(usd(5_000), Frequency::Weekly, 3, today, today),
            Err(TermsError::InstalmentTooSmall(_))
        ));
        let mut short = terms();
        short.plan.as_mut().unwrap().max_months = 2;
        assert!(matches!(
            short.schedule(bal, Frequency::Monthly, 4, today, today),
            Err(TermsError::TooLong(_))
        ));
    }

    #[test]
    fn an_instalment_moves_only_between_its_neighbours() {
        let t = terms();
        let today = day(2026, 11, 23);
        let s = t
            .schedule(usd(30_000), Frequency::Monthly, 3, day(2026, 12, 1), today)
            .unwrap();
        let rules = t.plan.as_ref().unwrap();
        let moved = move_instalment(&s, 0, day(2026, 12, 15), rules, today).unwrap();
        assert_eq!(moved[0].due, day(2026, 12, 15));
        assert_eq!(moved[1], s[1]);
        assert!(move_instalment(&s, 0, day(2027, 1, 1), rules, today).is_err());
        assert!(move_instalment(&s, 0, day(2026, 11, 22), rules, today).is_err());
        assert!(move_instalment(&s, 5, day(2026, 12, 2), rules, today).is_err());
    }

    #[test]
    fn a_new_amount_recuts_what_is_left() {
        let rules = terms().plan.unwrap();
        let at = PlanPosition {
            first: day(2026, 11, 1),
            done: 1,
            next_due: day(2026, 12, 1),
            remaining: usd(20_000),
            frequency: Frequency::Monthly,
        };
        let s = reamount(&at, usd(7_000), &rules).unwrap();
        let amounts: Vec<i64> = s.iter().map(|i| i.amount.minor()).collect();
        assert_eq!(amounts, [7_000, 7_000, 6_000]);
        assert_eq!(s[2].due, day(2027, 2, 1));
        // A remainder under the smallest instalment joins the last one.
        let s = reamount(&at, usd(9_000), &rules).unwrap();
        let amounts: Vec<i64> = s.iter().map(|i| i.amount.minor()).collect();
        assert_eq!(amounts, [9_000, 11_000]);
        assert!(matches!(
            reamount(&at, usd(2_000), &rules),
            Err(TermsError::InstalmentTooSmall(_))
        ));
        assert!(matches!(
            reamount(&at, usd(30_000), &rules),
            Err(TermsError::AboveBalance(_))
        ));
        // 20,000 at 25.00 needs 8 more: 1 + 8 <= 12, but not within 12 months of the first.
        let late = PlanPosition {
            next_due: day(2027, 6, 1),
            ..at
        };
        assert!(matches!(
            reamount(&late, usd(2_500), &rules),
            Err(TermsError::TooLong(_))
        ));
    }

    proptest! {
        #[test]
        fn a_schedule_pays_the_balance_exactly_within_the_rules(
            minor in 5_000i64..10_000_000,
            count in 2u32..=12,
            f in 0usize..3,
            offset in 0u64..=30,
        ) {
            let t = terms();
            let today = day(2026, 11, 23);
            let first = today.checked_add_days(Days::new(offset)).unwrap();
            let freq = Frequency::ALL[f];
            match t.schedule(usd(minor), freq, count, first, today) {
                Ok(s) => {
                    prop_assert_eq!(s.len() as u32, count);
                    prop_assert_eq!(s.iter().map(|i| i.amount.minor()).sum::<i64>(), minor);
                    prop_assert!(s.iter().all(|i| i.amount.minor() >= 2_500));
                    prop_assert!(s.windows(2).all(|w| w[0].due < w[1].due));
                    prop_assert!(s[s.len() - 1].due <= first.checked_add_months(Months::new(12)).unwrap());
                }
                Err(TermsError::InstalmentTooSmall(_)) => prop_assert!(minor / i64::from(count) < 2_500),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
