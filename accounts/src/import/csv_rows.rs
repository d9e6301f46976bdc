//! Reading a placement file: header mapping and row-by-row validation, streaming.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;
use domain::{Placement, RawPlacement};

use super::RowError;
use crate::error::{Error, Result};

/// Columns a placement file must have.
pub const REQUIRED_COLUMNS: [&str; 16] = [
    "account_ref",
    "creditor",
    "first_name",
    "last_name",
    "date_of_birth",
    "address_line1",
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
];

/// Columns a placement file may have.
pub const OPTIONAL_COLUMNS: [&str; 9] = [
    "phone",
    "email",
    "address_line2",
    "original_creditor",
    "currency",
    "time_zone",
    "language",
    "sms_consent",
    "time_barred",
];

/// Maps column names to their position in the file.
pub(crate) struct Columns {
    index: HashMap<&'static str, usize>,
    width: usize,
    /// Header names Settle does not know, kept to warn about typos.
    pub ignored: Vec<String>,
}

impl Columns {
    pub(crate) fn from_header(header: &csv::StringRecord) -> Result<Columns> {
        let mut index = HashMap::new();
        let mut ignored = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let name = name
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            match REQUIRED_COLUMNS
                .iter()
                .chain(OPTIONAL_COLUMNS.iter())
                .find(|c| **c == name)
            {
                Some(known) => {
                    if index.insert(*known, i).is_some() {
                        return Err(Error::ImportFile(format!(
                            "column `{known}` appears twice in the header"
                        )));
                    }
                }
                None => ignored.push(name),
            }
        }
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|c| !index.contains_key(c))
            .collect();
        if !missing.is_empty() {
            return Err(Error::ImportFile(format!(
                "the header lacks required column(s): {}",
                missing.join(", ")
            )));
        }
        Ok(Columns {
            index,
            width: header.len(),
            ignored,
        })
    }

    fn get<'r>(&self, rec: &'r csv::StringRecord, name: &str) -> &'r str {
        self.index.get(name).and_then(|&i| rec.get(i)).unwrap_or("")
    }

    /// Validates one record into a placement, or says why it cannot be one.
    pub(crate) fn placement(
        &self,
        rec: &csv::StringRecord,
        today: NaiveDate,
    ) -> std::result::Result<Placement, String> {
        if rec.len() > self.width {
            return Err(format!(
                "row has {} fields but the header has {}",
                rec.len(),
                self.width
            ));
        }
        let g = |name| self.get(rec, name);
        let raw = RawPlacement {
            account_ref: g("account_ref"),
            creditor: g("creditor"),
            original_creditor: g("original_creditor"),
            first_name: g("first_name"),
            last_name: g("last_name"),
            date_of_birth: g("date_of_birth"),
            phone: g("phone"),
            email: g("email"),
            address_line1: g("address_line1"),
            address_line2: g("address_line2"),
            city: g("city"),
            state: g("state"),
            postal_code: g("postal_code"),
            itemization_date: g("itemization_date"),
            balance_at_itemization: g("balance_at_itemization"),
            interest_since: g("interest_since"),
            fees_since: g("fees_since"),
            payments_since: g("payments_since"),
            credits_since: g("credits_since"),
            current_balance: g("current_balance"),
            currency: g("currency"),
            time_zone: g("time_zone"),
            language: g("language"),
            sms_consent: g("sms_consent"),
            time_barred: g("time_barred"),
        };
        Placement::parse(&raw, today).map_err(|errors| errors.join("; "))
    }

    /// The account reference of a record, for error lines.
    pub(crate) fn account_ref(&self, rec: &csv::StringRecord) -> Option<String> {
        Some(self.get(rec, "account_ref").trim().to_string()).filter(|s| !s.is_empty())
    }
}

/// A validated row and the line it came from.
pub(crate) type Numbered = (u64, Placement);

/// A piece of the file: the good rows and the bad ones, in file order within each.
pub(crate) struct Chunk {
    pub good: Vec<Numbered>,
    pub bad: Vec<RowError>,
    pub rows: u64,
}

/// Reads the file in chunks of `chunk_rows` rows and hands each to `sink`; stops early if
/// `sink` returns false (the consumer went away).
pub(crate) fn read_chunks<R: Read>(
    reader: R,
    today: NaiveDate,
    chunk_rows: usize,
    mut on_columns: impl FnMut(&Columns),
    mut sink: impl FnMut(Chunk) -> bool,
) -> Result<()> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| Error::ImportFile(format!("cannot read the header: {e}")))?
        .clone();
    let columns = Columns::from_header(&header)?;
    on_columns(&columns);
    let mut bytes = csv::ByteRecord::new();
    let mut chunk = Chunk {
        good: Vec::with_capacity(chunk_rows),
        bad: Vec::new(),
        rows: 0,
    };
    loop {
        match csv.read_byte_record(&mut bytes) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                match e.kind() {
                    csv::ErrorKind::Io(_) => {
                        return Err(Error::ImportFile(format!("reading line {line}: {e}")))
                    }
                    _ => {
                        chunk.rows += 1;
                        chunk.bad.push(RowError {
                            line,
                            account_ref: None,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                }
            }
        }
        let line = bytes.position().map(|p| p.line()).unwrap_or(0);
        chunk.rows += 1;
        if bytes.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            chunk.rows -= 1; // a blank line is not a row
            continue;
        }
        match csv::StringRecord::from_byte_record(bytes.clone()) {
            Err(_) => chunk.bad.push(RowError {
                line,
                account_ref: None,
                reason: "row is not valid UTF-8".to_string(),
            }),
            Ok(rec) => match columns.placement(&rec, today) {
                Ok(p) => chunk.good.push((line, p)),
                Err(reason) => chunk.bad.push(RowError {
                    line,
                    account_ref: columns.account_ref(&rec),
                    reason,
                }),
            },
        }
        if chunk.good.len() + chunk.bad.len() >= chunk_rows {
            let full = std::mem::replace(
                &mut chunk,
                Chunk {
                    good: Vec::with_capacity(chunk_rows),
                    bad: Vec::new(),
                    rows: 0,
                },
            );
            if !sink(full) {
                return Ok(());
            }
        }
    }
    if chunk.rows > 0 {
        sink(chunk);
    }
    Ok(())
}
