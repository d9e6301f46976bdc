//! Demo data: one agency and a few dozen realistic accounts, so that a newcomer who starts
//! Settle with no configuration sees something real; and a generator of large placement
//! files for benchmarks.

use std::io::Write;

use crate::error::{Error, Result};
use crate::import::ImportReport;
use crate::Accounts;

/// The demo agency's short name.
pub const DEMO_AGENCY_SLUG: &str = "demo";
/// The demo agency's name, shown to debtors as the debt collector.
pub const DEMO_AGENCY_NAME: &str = "Harbor Point Recovery (demo)";

/// The header every generated placement file has.
pub const HEADER: [&str; 24] = [
    "account_ref",
    "creditor",
    "original_creditor",
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "itemization_date",
    "balance_at_itemization",
    "interest_since",
    "fees_since",
    "payments_since",
    "credits_since",
    "current_balance",
    "time_zone",
    "language",
    "sms_consent",
    "time_barred",
];

/// (first, last, city, state, ZIP, area code, told time zone, language)
type Person = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PEOPLE: [Person; 36] = [
    (
        "Maria", "Gonzalez", "Boston", "MA", "02134", "617", "", "es",
    ),
    (
        "James", "Whitaker", "Brooklyn", "NY", "11201", "718", "", "en",
    ),
    (
        "Aisha", "Thompson", "Atlanta", "GA", "30303", "404", "", "en",
    ),
    (
        "Luis",
        "Ramírez",
        "San Juan",
        "PR",
        "00901",
        "787",
        "America/Puerto_Rico",
        "es",
    ),
    (
        "Keanu", "Kahale", "Honolulu", "HI", "96813", "808", "", "en",
    ),
    (
        "Dana",
        "Sheldon",
        "Anchorage",
        "AK",
        "99501",
        "907",
        "",
        "en",
    ),
    (
        "Joseph",
        "Cruz",
        "Hagatna",
        "GU",
        "96910",
        "671",
        "Pacific/Guam",
        "en",
    ),
    (
        "Emily",
        "Nguyen",
        "Los Angeles",
        "CA",
        "90012",
        "213",
        "",
        "en",
    ),
    (
        "Carlos", "Mendoza", "El Paso", "TX", "79901", "915", "", "es",
    ),
    (
        "Brenda",
        "Lowe",
        "Pensacola",
        "FL",
        "32501",
        "850",
        "",
        "en",
    ),
    (
        "Tyrone", "Jackson", "Phoenix", "AZ", "85004", "602", "", "en",
    ),
    (
        "Hannah", "Larsen", "Seattle", "WA", "98101", "206", "", "en",
    ),
    ("Marcus", "Bell", "Chicago", "IL", "60601", "312", "", "en"),
    ("Sofia", "Rossi", "Newark", "NJ", "07102", "973", "", "en"),
    (
        "Daniel", "Okafor", "Houston", "TX", "77002", "713", "", "en",
    ),
    (
        "Grace",
        "Kim",
        "San Francisco",
        "CA",
        "94103",
        "212",
        "",
        "en",
    ),
    (
        "Robert", "Hughes", "Detroit", "MI", "48226", "313", "", "en",
    ),
    ("Lucia", "Herrera", "Miami", "FL", "33130", "305", "", "es"),
    (
        "Kevin",
        "O'Brien",
        "Philadelphia",
        "PA",
        "19103",
        "215",
        "",
        "en",
    ),
    (
        "Fatima",
        "Hassan",
        "Minneapolis",
        "MN",
        "55401",
        "612",
        "",
        "en",
    ),
    ("Steven", "Park", "Denver", "CO", "80202", "303", "", "en"),
    (
        "Rosa",
        "Delgado",
        "Albuquerque",
        "NM",
        "87102",
        "505",
        "",
        "es",
    ),
    ("William", "Tran", "Boise", "ID", "83702", "208", "", "en"),
    (
        "Ashley",
        "Moore",
        "Nashville",
        "TN",
        "37203",
        "615",
        "",
        "en",
    ),
    (
        "Jorge",
        "Castillo",
        "Las Vegas",
        "NV",
        "89101",
        "702",
        "",
        "es",
    ),
    (
        "Megan", "Fischer", "Columbus", "OH", "43215", "614", "", "en",
    ),
    (
        "Andre",
        "Baptiste",
        "New Orleans",
        "LA",
        "70112",
        "504",
        "",
        "en",
    ),
    (
        "Olivia",
        "Chen",
        "Portland",
        "OR",
        "97204",
        "503",
        "America/Los_Angeles",
        "en",
    ),
    (
        "Michael",
        "Russo",
        "Providence",
        "RI",
        "02903",
        "401",
        "",
        "en",
    ),
    (
        "Tamika",
        "Harris",
        "Charlotte",
        "NC",
        "28202",
        "704",
        "",
        "en",
    ),
    (
        "Ethan",
        "Walker",
        "Salt Lake City",
        "UT",
        "84111",
        "801",
        "",
        "en",
    ),
    (
        "Nadia",
        "Petrova",
        "Baltimore",
        "MD",
        "21202",
        "410",
        "",
        "en",
    ),
    ("Samuel", "Yazzie", "Gallup", "NM", "87301", "505", "", "en"),
    (
        "Isabel",
        "Moreno",
        "Sioux Falls",
        "SD",
        "57104",
        "605",
        "",
        "es",
    ),
    ("Derek", "Olsen", "Fargo", "ND", "58102", "701", "", "en"),
    (
        "Patricia",
        "Walsh",
        "Washington",
        "DC",
        "20001",
        "202",
        "",
        "en",
    ),
];

const CREDITORS: [(&str, &str); 5] = [
    ("Lakeside Medical Group", ""),
    ("Northwind Wireless", ""),
    ("Summit Credit Union", ""),
    ("Evergreen Property Management", ""),
    ("Bluebird Auto Finance", "First Prairie Bank"),
];

/// A small deterministic pseudo-random sequence (xorshift64*), so generated files are
/// reproducible without a random-number dependency.
struct Seq(u64);

impl Seq {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// One row of a generated placement file, deterministic in `i`.
fn row(i: u64, seq: &mut Seq, person: &Person, account_ref: String) -> [String; 24] {
    let (first, last, city, state, zip, area, tz, lang) = *person;
    let (creditor, original) = CREDITORS[(i % CREDITORS.len() as u64) as usize];
    let balance = 5_000 + seq.below(900_000) as i64;
    let interest = if seq.below(3) == 0 {
        0
    } else {
        seq.below(balance as u64 / 10 + 1) as i64
    };
    let fees = if seq.below(4) == 0 {
        seq.below(5_000) as i64
    } else {
        0
    };
    let payments = if seq.below(3) == 0 {
        seq.below(balance as u64 / 2) as i64
    } else {
        0
    };
    let credits = if seq.below(10) == 0 {
        seq.below(2_000).min(balance as u64 / 4) as i64
    } else {
        0
    };
    let current = balance + interest + fees - payments - credits;
    [
        account_ref,
        creditor.to_string(),
        original.to_string(),
        first.to_string(),
        last.to_string(),
        format!(
            "{}-{:02}-{:02}",
            1950 + seq.below(55),
            1 + seq.below(12),
            1 + seq.below(28)
        ),
        format!("+1{area}555{:04}", 100 + (i % 100)),
        format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace(['\'', 'í'], ""),
            i
        ),
        format!(
            "{} {} St",
            10 + seq.below(9_000),
            ["Oak", "Maple", "Cedar", "Elm", "Pine"][(i % 5) as usize]
        ),
        if i.is_multiple_of(7) {
            format!("Apt {}", 1 + i % 40)
        } else {
            String::new()
        },
        city.to_string(),
        state.to_string(),
        zip.to_string(),
        format!("2026-{:02}-{:02}", 1 + seq.below(9), 1 + seq.below(28)),
        cents(balance),
        cents(interest),
        cents(fees),
        cents(payments),
        cents(credits),
        cents(current),
        tz.to_string(),
        lang.to_string(),
        if i.is_multiple_of(4) { "false" } else { "true" }.to_string(),
        if i % 17 == 5 { "true" } else { "false" }.to_string(),
    ]
}

/// Writes the demo placement file (36 accounts) as CSV.
pub fn write_demo_csv<W: Write>(out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| Error::ImportFile(e.to_string());
    w.write_record(HEADER).map_err(io)?;
    let mut seq = Seq(0x5E77_1E00_D3E0);
    for (i, person) in PEOPLE.iter().enumerate() {
        w.write_record(row(
            i as u64,
            &mut seq,
            person,
            format!("DEMO-{:04}", 1001 + i),
        ))
        .map_err(io)?;
    }
    w.flush().map_err(|e| Error::ImportFile(e.to_string()))
}

/// Writes a generated placement file of `rows` accounts (for benchmarks).
pub fn write_generated_csv<W: Write>(out: W, rows: u64) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    let io = |e: csv::Error| Error::ImportFile(e.to_string());
    w.write_record(HEADER).map_err(io)?;
    let mut seq = Seq(0x0BAD_5EED_1234_5678);
    for i in 0..rows {
        let person = &PEOPLE[seq.below(PEOPLE.len() as u64) as usize];
        w.write_record(row(i, &mut seq, person, format!("GEN-{i:08}")))
            .map_err(io)?;
    }
    w.flush().map_err(|e| Error::ImportFile(e.to_string()))
}

impl Accounts {
    /// Creates the demo agency and its accounts when the database holds no agency at all.
    /// Returns the import report when it seeded, `None` when there was already data.
    pub async fn seed_demo(&self) -> Result<Option<ImportReport>> {
        if !self.agencies().await?.is_empty() {
            return Ok(None);
        }
        let agency = self
            .ensure_agency(DEMO_AGENCY_SLUG, DEMO_AGENCY_NAME)
            .await?;
        let mut csv = Vec::new();
        write_demo_csv(&mut csv)?;
        let mut problems = Vec::new();
        let report = self
            .import_placements(agency.id, "demo", std::io::Cursor::new(csv), |e| {
                problems.push(e.to_string())
            })
            .await?;
        if !problems.is_empty() {
            return Err(Error::Corrupt(format!(
                "demo data rejected: {}",
                problems.join(" | ")
            )));
        }
        self.set_payment_terms(agency.id, "", &demo_terms()).await?;
        // One demo debtor has disputed: "not my debt" is the most common complaint.
        let disputed = domain::AccountRef::parse("DEMO-1002").expect("demo reference");
        if let Some(acc) = self.account_by_ref(agency.id, &disputed).await? {
            use crate::disputes::{DisputeOrigin, DisputeReason, NewDispute};
            let dispute = NewDispute {
                reason: DisputeReason::NotMyDebt,
                details: "I never had an account with this creditor.".into(),
                wants_original_creditor: true,
                origin: DisputeOrigin::Portal,
                evidence: Vec::new(),
            };
            self.open_dispute(acc.id, dispute).await?;
        }
        Ok(Some(report))
    }
}

/// The demo agency's payment terms: $25 minimum, plans of up to 12 instalments over up to
/// 12 months starting within 30 days, settlements at 60% valid 14 days, no fees.
pub fn demo_terms() -> domain::payment::PaymentTerms {
    use domain::payment::{Frequency, PaymentTerms, PlanRules, SettlementRule};
    let usd = |minor| domain::Money::from_minor(minor, domain::Currency::USD).expect("amount");
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
