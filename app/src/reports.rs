//! The console's reports (server function under `/agency/api`): the agency's figures over a
//! date range, as tables the page draws as charts and the server exports as CSV
//! (`/agency/reports/csv/{table}?from=&to=`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// One table of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTable {
    /// Its name in the export's address.
    pub name: String,
    /// Heading.
    pub title: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Formatted cells.
    pub rows: Vec<Vec<String>>,
    /// Bars: label, value (minor units for money) and the value as text.
    pub chart: Vec<(String, i64, String)>,
}

/// The reports page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// The user's header line.
    pub me: Me,
    /// First day (ISO).
    pub from: String,
    /// Last day (ISO).
    pub to: String,
    /// Why the asked range was not used, if it was not.
    pub problem: Option<String>,
    /// The headline: share of resolved accounts with no agent action, in percent.
    pub deflection: Option<i64>,
    /// Accounts resolved in the range, and of those without an agent.
    pub resolved: (i64, i64),
    /// The currency of the amounts.
    pub currency: String,
    /// The tables, in page order.
    pub tables: Vec<ReportTable>,
}

/// Reads `from` and `to` (ISO dates) into a report range; the last 30 days when absent.
#[cfg(feature = "ssr")]
pub fn range_of(
    from: Option<&str>,
    to: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<accounts::reports::Range, String> {
    let day = |s: Option<&str>, default: chrono::NaiveDate| match s.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)")),
    };
    let to = day(to, today)?;
    let from = day(from, to - chrono::Duration::days(29))?;
    accounts::reports::Range::new(from, to).map_err(|e| e.to_string())
}

/// The agency's report for a range (the last 30 days by default; a range that cannot be
/// used says why and shows the default).
#[server(prefix = "/agency/api")]
pub async fn agency_report(
    from: Option<String>,
    to: Option<String>,
) -> Result<Option<ReportView>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, _, user)) = console::user().await? else {
        return Ok(None);
    };
    let today = accounts.clock().now().date_naive();
    let (range, problem) = match range_of(from.as_deref(), to.as_deref(), today) {
        Ok(r) => (r, None),
        Err(why) => (
            range_of(None, None, today).expect("default range"),
            Some(why),
        ),
    };
    let report = accounts
        .report(user.agency, range)
        .await
        .map_err(unavailable)?;
    Ok(Some(ReportView {
        me: console::me(&accounts, &user).await?,
        from: range.from.to_string(),
        to: range.to.to_string(),
        problem,
        deflection: report.deflection_percent(),
        resolved: (report.resolved_accounts, report.resolved_without_agent),
        currency: report.currency.clone(),
        tables: report
            .tables()
            .into_iter()
            .map(|t| ReportTable {
                name: t.name.to_string(),
                title: t.title.to_string(),
                columns: t.columns.iter().map(|c| c.to_string()).collect(),
                chart: t
                    .chart
                    .iter()
                    .map(|(label, v)| {
                        let text = if t.money {
                            accounts::reports::decimal(*v)
                        } else {
                            v.to_string()
                        };
                        (label.clone(), *v, text)
                    })
                    .collect(),
                rows: t.rows,
            })
            .collect(),
    }))
}
