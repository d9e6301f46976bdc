//! The agency's reports over a date range: money collected per day, payments by kind,
//! plans started in the range and how they stand, disputes opened and answered, opt-outs,
//! messages decided by outcome and reason, and the call-deflection figure (accounts that
//! paid, set up a plan or disputed with no agent action before it).
//!
//! Rows are read in the range and folded here rather than grouped in SQL: day boundaries
//! are then the same on both engines (UTC dates), and a range holds far fewer rows than
//! the agency has accounts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use domain::AgencyId;

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// The longest range a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Dates `from` to `to`, both included (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Range {
    /// A range; refuses one that ends before it starts or spans more than a year.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Range> {
        if to < from {
            return Err(Error::Invalid("the range ends before it starts".into()));
        }
        if to.succ_opt().is_none() {
            return Err(Error::Invalid(
                "the range ends too far in the future".into(),
            ));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(Error::Invalid(format!(
                "a report covers at most {MAX_RANGE_DAYS} days"
            )));
        }
        Ok(Range { from, to })
    }

    fn start(self) -> DateTime<Utc> {
        self.from.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    }

    /// The instant after the last day.
    fn end(self) -> DateTime<Utc> {
        self.to
            .succ_opt()
            .expect("checked in Range::new")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
    }

    /// Every day of the range, in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

/// Counts and amounts (minor units) by some key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: i64,
    /// Sum in minor units (0 where it means nothing).
    pub minor: i64,
}

/// Everything the reports page shows for one range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every day of the range with the money collected on it (payments posted to the ledger,
    /// less refunds and chargebacks), in minor units.
    pub collected_by_day: Vec<(NaiveDate, i64)>,
    /// Successful payments by kind (`one_time`, `settlement`, `instalment`).
    pub payments_by_kind: BTreeMap<String, Tally>,
    /// Plans started in the range by their status now (`active`, `completed`, `broken`...).
    pub plans_by_status: BTreeMap<String, i64>,
    /// Disputes opened in the range.
    pub disputes_opened: i64,
    /// Disputes answered in the range.
    pub disputes_answered: i64,
    /// Opt-outs in the range by medium.
    pub opt_outs: BTreeMap<String, i64>,
    /// Compliance decisions in the range by outcome and reason code.
    pub decisions: BTreeMap<(String, String), i64>,
    /// Accounts that paid, set up a plan or disputed in the range.
    pub resolved_accounts: i64,
    /// Of those, how many did it with no agent action on the account before.
    pub resolved_without_agent: i64,
    /// The currency of the amounts (the agency's accounts').
    pub currency: String,
}

impl Report {
    /// The call-deflection share in whole percent, when any account resolved.
    pub fn deflection_percent(&self) -> Option<i64> {
        (self.resolved_accounts > 0).then(|| {
            (self.resolved_without_agent * 100 + self.resolved_accounts / 2)
                / self.resolved_accounts
        })
    }

    /// Money collected per ISO week (the week's Monday), in minor units.
    pub fn collected_by_week(&self) -> Vec<(NaiveDate, i64)> {
        let mut weeks: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for (day, minor) in &self.collected_by_day {
            let monday = day.week(chrono::Weekday::Mon).first_day();
            *weeks.entry(monday).or_default() += minor;
        }
        weeks.into_iter().collect()
    }
}

impl Accounts {
    /// The agency's report for `range`.
    pub async fn report(&self, agency: AgencyId, range: Range) -> Result<Report> {
        let (start, end) = (range.start(), range.end());
        #[allow(clippy::type_complexity)]
        let (postings, payments, plans, opened, answered, opt_outs, decisions, currency) = with_db!(&self.db, pool => {
            let postings: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
                "SELECT p.posted_at, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id
                 WHERE a.agency_id = $1 AND p.posted_at >= $2 AND p.posted_at < $3
                   AND p.kind IN ('payment', 'refund', 'chargeback')",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let payments: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT p.purpose, COUNT(*), CAST(SUM(p.amount) AS BIGINT)
                 FROM payments p JOIN accounts a ON a.id = p.account_id
                 WHERE a.agency_id = $1 AND p.status = 'succeeded'
                   AND p.updated_at >= $2 AND p.updated_at < $3
                 GROUP BY p.purpose",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let plans: Vec<(String, i64)> = sqlx::query_as(
                "SELECT p.status, COUNT(*) FROM plans p JOIN accounts a ON a.id = p.account_id
                 WHERE a.agency_id = $1 AND p.created_at >= $2 AND p.created_at < $3
                 GROUP BY p.status",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let opened: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disputes d JOIN accounts a ON a.id = d.account_id
                 WHERE a.agency_id = $1 AND d.opened_at >= $2 AND d.opened_at < $3",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_one(pool)
            .await?;
            let answered: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disputes d JOIN accounts a ON a.id = d.account_id
                 WHERE a.agency_id = $1 AND d.answered_at >= $2 AND d.answered_at < $3",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_one(pool)
            .await?;
            let opt_outs: Vec<(String, i64)> = sqlx::query_as(
                "SELECT c.channel, COUNT(*) FROM channel_consents c JOIN accounts a ON a.id = c.account_id
                 WHERE a.agency_id = $1 AND c.opted_out AND c.opted_out_at >= $2 AND c.opted_out_at < $3
                 GROUP BY c.channel",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let decisions: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT decision, reasons, COUNT(*) FROM compliance_decisions
                 WHERE agency_id = $1 AND decided_at >= $2 AND decided_at < $3
                 GROUP BY decision, reasons",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let currency: Option<String> = sqlx::query_scalar(
                "SELECT currency FROM accounts WHERE agency_id = $1 LIMIT 1",
            )
            .bind(agency.0)
            .fetch_optional(pool)
            .await?;
            (postings, payments, plans, opened, answered, opt_outs, decisions, currency)
        });

        let mut by_day: HashMap<NaiveDate, i64> = HashMap::new();
        for (at, amount) in postings {
            // Payments are negative postings; money collected is their opposite, and a
            // refund or chargeback (positive) takes it back.
            *by_day.entry(at.date_naive()).or_default() -= amount;
        }
        let mut decided: BTreeMap<(String, String), i64> = BTreeMap::new();
        for (decision, reasons, n) in decisions {
            let codes: Vec<&str> = reasons.split(',').filter(|c| !c.is_empty()).collect();
            if codes.is_empty() {
                *decided
                    .entry((decision.clone(), "none".into()))
                    .or_default() += n;
            }
            for code in codes {
                *decided
                    .entry((decision.clone(), code.to_string()))
                    .or_default() += n;
            }
        }
        let (resolved, without_agent) = self.deflection(agency, start, end).await?;
        Ok(Report {
            collected_by_day: range
                .days()
                .map(|d| (d, by_day.get(&d).copied().unwrap_or(0)))
                .collect(),
            payments_by_kind: payments
                .into_iter()
                .map(|(k, count, minor)| (k, Tally { count, minor }))
                .collect(),
            plans_by_status: plans.into_iter().collect(),
            disputes_opened: opened,
            disputes_answered: answered,
            opt_outs: opt_outs.into_iter().collect(),
            decisions: decided,
            resolved_accounts: resolved,
            resolved_without_agent: without_agent,
            currency: currency.unwrap_or_else(|| "USD".into()),
        })
    }

    /// Accounts whose first resolution in the range (a successful payment, a plan, a
    /// dispute) came with no agent action on the account before it, out of all accounts
    /// that resolved in the range. An agent action is anything in the audit log, and what
    /// predates it: a posting or hold by an agency user, a dispute the agency recorded or
    /// answered.
    async fn deflection(
        &self,
        agency: AgencyId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        let row: (i64, i64) = with_db!(&self.db, pool => {
            sqlx::query_as(
                "WITH steps AS (
                     SELECT p.account_id, p.updated_at AS at FROM payments p
                     WHERE p.status = 'succeeded' AND p.updated_at >= $2 AND p.updated_at < $3
                     UNION ALL
                     SELECT l.account_id, l.created_at FROM plans l
                     WHERE l.created_at >= $2 AND l.created_at < $3
                     UNION ALL
                     SELECT d.account_id, d.opened_at FROM disputes d
                     WHERE d.opened_at >= $2 AND d.opened_at < $3
                 ),
                 first_step AS (
                     SELECT s.account_id, MIN(s.at) AS at FROM steps s
                     JOIN accounts a ON a.id = s.account_id AND a.agency_id = $1
                     GROUP BY s.account_id
                 )
                 SELECT COUNT(*),
                        CAST(COALESCE(SUM(CASE WHEN NOT EXISTS (
                            SELECT 1 FROM audit_log g
                            WHERE g.account_id = f.account_id AND g.at <= f.at
                        ) AND NOT EXISTS (
                            SELECT 1 FROM postings p
                            WHERE p.account_id = f.account_id AND p.actor LIKE 'user:%'
                              AND p.posted_at <= f.at
                        ) AND NOT EXISTS (
                            SELECT 1 FROM holds h
                            WHERE h.account_id = f.account_id AND h.set_by LIKE 'user:%'
                              AND h.set_at <= f.at
                        ) AND NOT EXISTS (
                            SELECT 1 FROM disputes d
                            WHERE d.account_id = f.account_id AND d.opened_at <= f.at
                              AND (d.origin = 'agency'
                                   OR (d.answered_by LIKE 'user:%' AND d.answered_at <= f.at))
                        ) THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM first_step f",
            )
            .bind(agency.0)
            .bind(start)
            .bind(end)
            .fetch_one(pool)
            .await?
        });
        Ok(row)
    }
}

/// One table of a report, as the page shows it and its CSV export writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its name in the export's address (`collected`, `payments`...).
    pub name: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// Column headings.
    pub columns: Vec<&'static str>,
    /// Rows of formatted cells.
    pub rows: Vec<Vec<String>>,
    /// What the chart draws: a label and a value per bar (minor units when `money`).
    pub chart: Vec<(String, i64)>,
    /// The chart's values are money in minor units.
    pub money: bool,
}

/// `1234.50` from minor units (two decimals: the currencies Settle places have cents).
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

/// The table names a report has, in page order.
pub const TABLES: [&str; 7] = [
    "deflection",
    "collected",
    "payments",
    "plans",
    "disputes",
    "opt_outs",
    "messages",
];

impl Report {
    /// The report's tables in page order. Money per day for ranges up to 62 days, per
    /// week beyond.
    pub fn tables(&self) -> Vec<Table> {
        let counts = |name, title, first, items: Vec<(String, i64)>| Table {
            name,
            title,
            columns: vec![first, "count"],
            rows: items
                .iter()
                .map(|(k, n)| vec![k.clone(), n.to_string()])
                .collect(),
            chart: items,
            money: false,
        };
        let (period, collected) = if self.collected_by_day.len() <= 62 {
            ("day", self.collected_by_day.clone())
        } else {
            ("week", self.collected_by_week())
        };
        let deflection = Table {
            name: "deflection",
            title: "Resolved without an agent",
            columns: vec!["accounts resolved", "without agent action", "share (%)"],
            rows: vec![vec![
                self.resolved_accounts.to_string(),
                self.resolved_without_agent.to_string(),
                self.deflection_percent()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ]],
            chart: vec![
                ("without an agent".into(), self.resolved_without_agent),
                (
                    "with an agent".into(),
                    self.resolved_accounts - self.resolved_without_agent,
                ),
            ],
            money: false,
        };
        vec![
            deflection,
            Table {
                name: "collected",
                title: "Money collected",
                columns: vec![period, "amount"],
                rows: collected
                    .iter()
                    .map(|(d, m)| vec![d.to_string(), decimal(*m)])
                    .collect(),
                chart: collected
                    .iter()
                    .map(|(d, m)| (d.format("%m-%d").to_string(), *m))
                    .collect(),
                money: true,
            },
            Table {
                name: "payments",
                title: "Payments by kind",
                columns: vec!["kind", "payments", "amount"],
                rows: self
                    .payments_by_kind
                    .iter()
                    .map(|(k, t)| vec![k.clone(), t.count.to_string(), decimal(t.minor)])
                    .collect(),
                chart: self
                    .payments_by_kind
                    .iter()
                    .map(|(k, t)| (k.clone(), t.minor))
                    .collect(),
                money: true,
            },
            counts(
                "plans",
                "Plans started, by how they stand now",
                "status",
                self.plans_by_status
                    .iter()
                    .map(|(k, n)| (k.clone(), *n))
                    .collect(),
            ),
            counts(
                "disputes",
                "Disputes",
                "step",
                vec![
                    ("opened".into(), self.disputes_opened),
                    ("answered".into(), self.disputes_answered),
                ],
            ),
            counts(
                "opt_outs",
                "Opt-outs by medium",
                "medium",
                self.opt_outs.iter().map(|(k, n)| (k.clone(), *n)).collect(),
            ),
            Table {
                name: "messages",
                title: "Messages decided, by outcome and reason",
                columns: vec!["outcome", "reason", "count"],
                rows: self
                    .decisions
                    .iter()
                    .map(|((d, r), n)| vec![d.clone(), r.clone(), n.to_string()])
                    .collect(),
                chart: self
                    .decisions
                    .iter()
                    .map(|((d, r), n)| (format!("{d}: {r}"), *n))
                    .collect(),
                money: false,
            },
        ]
    }
}

/// Writes one report table as CSV.
pub fn write_table<W: std::io::Write>(out: W, table: &Table) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}
