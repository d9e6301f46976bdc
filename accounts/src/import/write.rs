//! Writing a chunk of validated placements: one transaction, one multi-row insert of the
//! accounts, one of their opening postings. A reference already placed is skipped by the
//! unique index, so concurrent or repeated imports never place a debt twice.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use domain::{Actor, AgencyId, Placement};

use super::csv_rows::Numbered;
use super::RowError;
use crate::db::with_db;
use crate::error::Result;
use crate::Accounts;

/// What writing a chunk did.
pub(crate) struct WriteOutcome {
    pub imported: u64,
    pub unchanged: u64,
    /// Rows whose reference appeared earlier in the same file.
    pub duplicates: Vec<RowError>,
}

fn duplicate(line: u64, p: &Placement, first_line: Option<i64>) -> RowError {
    RowError {
        line,
        account_ref: Some(p.account_ref.to_string()),
        reason: match first_line {
            Some(first) => format!("duplicate account_ref (first on line {first})"),
            None => "duplicate account_ref".to_string(),
        },
    }
}

impl Accounts {
    pub(crate) async fn write_placements(
        &self,
        agency: AgencyId,
        run: i64,
        rows: &[Numbered],
    ) -> Result<WriteOutcome> {
        let mut outcome = WriteOutcome {
            imported: 0,
            unchanged: 0,
            duplicates: Vec::new(),
        };
        let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
        let mut unique: Vec<&Numbered> = Vec::with_capacity(rows.len());
        for row in rows {
            match first_line.entry(row.1.account_ref.as_str()) {
                Entry::Occupied(e) => {
                    outcome
                        .duplicates
                        .push(duplicate(row.0, &row.1, Some(*e.get() as i64)))
                }
                Entry::Vacant(v) => {
                    v.insert(row.0);
                    unique.push(row);
                }
            }
        }
        if unique.is_empty() {
            return Ok(outcome);
        }
        let now = self.clock.now();
        let actor = Actor::Import(run).to_string();
        let conflicts: Vec<(String, Option<i64>, Option<i64>)> = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO accounts (agency_id, account_ref, creditor, original_creditor, currency, \
                 first_name, last_name, date_of_birth, phone, email, address_line1, address_line2, \
                 city, state, postal_code, time_zone, language, sms_consent, time_barred, \
                 itemization_date, balance_at_itemization, interest_since, fees_since, \
                 payments_since, credits_since, placed_amount, import_run_id, source_line, placed_at) ",
            );
            qb.push_values(&unique, |mut b, (line, p)| {
                let it = &p.itemization;
                b.push_bind(agency.0)
                    .push_bind(p.account_ref.as_str())
                    .push_bind(p.creditor.as_str())
                    .push_bind(p.original_creditor.as_deref())
                    .push_bind(it.currency().code())
                    .push_bind(p.name.first())
                    .push_bind(p.name.last())
                    .push_bind(p.date_of_birth.date())
                    .push_bind(p.phone.as_ref().map(|x| x.as_str()))
                    .push_bind(p.email.as_ref().map(|x| x.as_str()))
                    .push_bind(p.address.line1())
                    .push_bind(p.address.line2())
                    .push_bind(p.address.city())
                    .push_bind(p.address.state().code())
                    .push_bind(p.address.postal_code().as_str())
                    .push_bind(p.time_zone.map(|tz| tz.name()))
                    .push_bind(p.language.tag())
                    .push_bind(p.sms_consent)
                    .push_bind(p.time_barred)
                    .push_bind(it.date())
                    .push_bind(it.balance_at_itemization().minor())
                    .push_bind(it.interest_since().minor())
                    .push_bind(it.fees_since().minor())
                    .push_bind(it.payments_since().minor())
                    .push_bind(it.credits_since().minor())
                    .push_bind(it.placement_posting_amount().minor())
                    .push_bind(run)
                    .push_bind(*line as i64)
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (agency_id, account_ref) DO NOTHING RETURNING id, account_ref, placed_amount");
            let inserted: Vec<(i64, String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            if !inserted.is_empty() {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO postings (account_id, kind, amount, idempotency_key, actor, memo, posted_at) ",
                );
                qb.push_values(&inserted, |mut b, (id, _, amount)| {
                    b.push_bind(*id)
                        .push_bind("placement")
                        .push_bind(*amount)
                        .push_bind("placement")
                        .push_bind(actor.as_str())
                        .push_bind("placed with the agency")
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            outcome.imported = inserted.len() as u64;
            let mut conflicts = Vec::new();
            if inserted.len() < unique.len() {
                let placed: HashSet<&str> = inserted.iter().map(|r| r.1.as_str()).collect();
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT account_ref, import_run_id, source_line FROM accounts WHERE agency_id = ",
                );
                qb.push_bind(agency.0);
                qb.push(" AND account_ref IN (");
                let mut list = qb.separated(", ");
                for (_, p) in unique.iter().filter(|(_, p)| !placed.contains(p.account_ref.as_str())) {
                    list.push_bind(p.account_ref.as_str());
                }
                list.push_unseparated(")");
                conflicts = qb.build_query_as().fetch_all(&mut *tx).await?;
            }
            tx.commit().await?;
            conflicts
        });
        let by_ref: HashMap<&str, (Option<i64>, Option<i64>)> = conflicts
            .iter()
            .map(|(r, run, line)| (r.as_str(), (*run, *line)))
            .collect();
        for (line, p) in unique {
            match by_ref.get(p.account_ref.as_str()) {
                None => {}
                Some((Some(r), first)) if *r == run => {
                    outcome.duplicates.push(duplicate(*line, p, *first))
                }
                Some(_) => outcome.unchanged += 1,
            }
        }
        outcome.duplicates.sort_by_key(|e| e.line);
        Ok(outcome)
    }
}
