//! Settle's domain: types that can only hold valid values, and pure rules with no IO.
//!
//! Everything here compiles to WebAssembly so the portal can share it with the server.

pub mod compliance;
pub mod contact;
pub mod ids;
pub mod itemization;
pub mod ledger;
pub mod messaging;
pub mod money;
pub mod payment;
pub mod person;
pub mod placement;
pub mod reply;

pub use contact::{Email, Language, PhoneE164, PostalAddress, PostalCode, UsState};
pub use ids::{AccountId, AccountRef, AgencyId};
pub use itemization::{Itemization, ItemizationError};
pub use ledger::{Actor, IdempotencyKey, Ledger, PostOutcome, Posting, PostingKind};
pub use money::{Currency, Money, MoneyError};
pub use person::{DateOfBirth, PersonName};
pub use placement::{Placement, RawPlacement};
