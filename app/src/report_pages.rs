//! `/agency/reports`: the agency's figures over a date range, each as a chart drawn on the
//! server as SVG (no chart library) above its table, which carries the same data for
//! screen readers and is downloadable as CSV.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::agency_pages::{ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::reports::{agency_report, ReportTable};

const WIDTH: i64 = 640;

/// Horizontal bars: one row per category, labelled, with its value at the bar's end.
#[component]
fn Bars(table: ReportTable) -> impl IntoView {
    let row = 26;
    let label_w = 220;
    let bar_max = WIDTH - label_w - 90;
    let max = table
        .chart
        .iter()
        .map(|(_, v, _)| v.abs())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = row * table.chart.len().max(1) as i64;
    let title_id = format!("chart-{}", table.name);
    let labelled_by = title_id.clone();
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby=labelled_by data-testid=format!("chart-{}", table.name)>
            <title id=title_id>{format!("{} (bar chart; the table below has the figures)", table.title)}</title>
            {table.chart.iter().enumerate().map(|(i, (label, v, text))| {
                let y = i as i64 * row;
                let w = (v.abs() * bar_max / max).max(if *v == 0 { 0 } else { 1 });
                view! {
                    <text x={label_w - 8} y={y + 17} text-anchor="end" class="chart-label">{label.clone()}</text>
                    <rect x=label_w y={y + 4} width=w height={row - 8} class="chart-bar"/>
                    <text x={label_w + w + 6} y={y + 17} class="chart-value">{text.clone()}</text>
                }
            }).collect_view()}
        </svg>
    }
}

/// Columns over time: one per day or week, with the largest value marked.
#[component]
fn Columns(table: ReportTable) -> impl IntoView {
    let (top, plot_h, axis) = (20, 160, 30);
    let left = 10;
    let n = table.chart.len().max(1) as i64;
    let step = (WIDTH - left * 2) / n;
    let bar_w = (step * 3 / 4).max(1);
    let (max, max_text) = table
        .chart
        .iter()
        .max_by_key(|(_, v, _)| *v)
        .map(|(_, v, t)| ((*v).max(1), t.clone()))
        .unwrap_or((1, String::new()));
    // A label under about every eighth column keeps them from overlapping.
    let every = (n / 8).max(1) as usize;
    let title_id = format!("chart-{}", table.name);
    let labelled_by = title_id.clone();
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {}", top + plot_h + axis) role="img" aria-labelledby=labelled_by data-testid=format!("chart-{}", table.name)>
            <title id=title_id>{format!("{} (column chart; the table below has the figures)", table.title)}</title>
            <text x=left y=14 class="chart-value">{format!("highest: {max_text}")}</text>
            <line x1=left y1={top + plot_h} x2={WIDTH - left} y2={top + plot_h} class="chart-axis"/>
            {table.chart.iter().enumerate().map(|(i, (label, v, _))| {
                let h = (*v).max(0) * plot_h / max;
                let x = left + i as i64 * step;
                view! {
                    <rect x=x y={top + plot_h - h} width=bar_w height=h class="chart-bar"/>
                    {(i % every == 0).then(|| view! {
                        <text x=x y={top + plot_h + 18} class="chart-label">{label.clone()}</text>
                    })}
                }
            }).collect_view()}
        </svg>
    }
}

#[component]
fn TableSection(table: ReportTable, from: String, to: String) -> impl IntoView {
    let csv = format!("/agency/reports/csv/{}?from={from}&to={to}", table.name);
    let chart = if table.chart.iter().all(|(_, v, _)| *v == 0) {
        view! { <p class="muted">"Nothing in this range."</p> }.into_any()
    } else if table.name == "collected" {
        view! { <Columns table=table.clone()/> }.into_any()
    } else {
        view! { <Bars table=table.clone()/> }.into_any()
    };
    view! {
        <section aria-labelledby=format!("h-{}", table.name)>
            <h2 id=format!("h-{}", table.name)>{table.title.clone()}</h2>
            {chart}
            <details>
                <summary>"Figures"</summary>
                <div class="scroll">
                <table class="wide" data-testid=format!("table-{}", table.name)>
                    <thead><tr>
                        {table.columns.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {table.rows.iter().map(|r| view! {
                            <tr>{r.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </details>
            <p><a href=csv download="" data-testid=format!("csv-{}", table.name)>"Download as CSV"</a></p>
        </section>
    }
}

/// `/agency/reports?from=&to=`.
#[component]
pub fn ReportsPage() -> impl IntoView {
    let query = use_query_map();
    let range = move || {
        let q = query.read();
        (q.get("from"), q.get("to"))
    };
    let data = Resource::new(range, |(from, to)| agency_report(from, to));
    view! {
        <h1>"Reports"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(v)) => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <form method="get" action="/agency/reports" class="card range">
                        <label for="from">"From"</label>
                        <input id="from" name="from" type="date" value=v.from.clone() required/>
                        <label for="to">"To"</label>
                        <input id="to" name="to" type="date" value=v.to.clone() required/>
                        <button type="submit">"Show"</button>
                    </form>
                    {v.problem.clone().map(|p| view! {
                        <p role="alert" class="alert">{format!("{p}: showing the last 30 days instead.")}</p>
                    })}
                    <p class="headline" data-testid="deflection">
                        {match v.deflection {
                            Some(p) => format!(
                                "{p}% of the accounts that paid, set up a plan or disputed from {} to {} did it without any agent action ({} of {}).",
                                v.from, v.to, v.resolved.1, v.resolved.0
                            ),
                            None => format!("No account paid, set up a plan or disputed from {} to {}.", v.from, v.to),
                        }}
                    </p>
                    <p class="muted">{format!("Amounts in {}.", v.currency)}</p>
                    {v.tables.clone().into_iter().map(|t| view! {
                        <TableSection table=t from=v.from.clone() to=v.to.clone()/>
                    }).collect_view()}
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
