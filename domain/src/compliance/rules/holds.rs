//! Holds on the consumer or the debt: deceased, bankruptcy, attorney, cease, dispute.

use super::super::decision::{Finding, Reason};
use super::super::facts::{ContactQuestion, Purpose};

/// Deceased consumer: messages to their phone or address reach third parties, which 12 CFR
/// 1006.6(d)(1) forbids; only confirmations of a stop request still go.
pub const DECEASED: &str = "12 CFR 1006.6(d)(1)";
/// Bankruptcy: the automatic stay forbids any act to collect (11 U.S.C. 362(a)(6)).
pub const BANKRUPTCY: &str = "11 U.S.C. 362(a)(6)";
/// Attorney: no communication with a consumer known to be represented (12 CFR 1006.6(b)(2)).
pub const ATTORNEY: &str = "12 CFR 1006.6(b)(2)";
/// Cease: after a written request, only the notice that efforts end (12 CFR 1006.6(c)).
pub const CEASE: &str = "12 CFR 1006.6(c)";
/// Dispute: collection stops until verification is sent (12 CFR 1006.38(d)(2)).
pub const DISPUTE: &str = "12 CFR 1006.38(d)(2)";

/// The holds that block this question's message, in reason order.
pub fn check(q: &ContactQuestion, out: &mut Vec<Finding>) {
    let c = &q.consumer;
    let confirmation = q.purpose.is_confirmation();
    let mut hold = |on: bool, reason, citation| {
        if on {
            out.push(Finding { reason, citation });
        }
    };
    hold(c.deceased && !confirmation, Reason::Deceased, DECEASED);
    hold(
        c.bankruptcy && !confirmation,
        Reason::Bankruptcy,
        BANKRUPTCY,
    );
    hold(
        c.attorney_represented && !confirmation,
        Reason::AttorneyRepresented,
        ATTORNEY,
    );
    hold(
        c.cease_requested && !confirmation,
        Reason::CeaseRequested,
        CEASE,
    );
    hold(
        q.debt.dispute_open && q.purpose.is_collection(),
        Reason::DisputeOpen,
        DISPUTE,
    );
}

/// True when a purpose is one a cease request still allows (used by tests and callers).
pub fn allowed_after_cease(purpose: Purpose) -> bool {
    purpose.is_confirmation()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::facts::{Channel, ConsumerFacts, DebtFacts};

    fn ask(purpose: Purpose, consumer: ConsumerFacts, dispute_open: bool) -> Vec<Reason> {
        let q = ContactQuestion {
            channel: Channel::Sms,
            purpose,
            consumer,
            debt: DebtFacts { dispute_open },
            history: vec![],
        };
        let mut out = vec![];
        check(&q, &mut out);
        out.into_iter().map(|f| f.reason).collect()
    }

    #[test]
    fn a_dispute_stops_collection_but_not_receipts_or_replies() {
        let none = ConsumerFacts::default();
        assert_eq!(
            ask(Purpose::Reminder, none.clone(), true),
            vec![Reason::DisputeOpen]
        );
        assert_eq!(
            ask(Purpose::ValidationNotice, none.clone(), true),
            vec![Reason::DisputeOpen]
        );
        assert!(ask(Purpose::Receipt, none.clone(), true).is_empty());
        assert!(ask(Purpose::Reply, none, true).is_empty());
    }

    #[test]
    fn cease_allows_only_the_confirmations() {
        let c = ConsumerFacts {
            cease_requested: true,
            ..ConsumerFacts::default()
        };
        for p in Purpose::ALL {
            let blocked = ask(p, c.clone(), false) == vec![Reason::CeaseRequested];
            assert_eq!(blocked, !allowed_after_cease(p), "{p}");
        }
    }

    #[test]
    fn every_hold_is_listed_in_order() {
        let c = ConsumerFacts {
            deceased: true,
            bankruptcy: true,
            attorney_represented: true,
            cease_requested: true,
            ..ConsumerFacts::default()
        };
        assert_eq!(
            ask(Purpose::Reminder, c.clone(), true),
            vec![
                Reason::Deceased,
                Reason::Bankruptcy,
                Reason::AttorneyRepresented,
                Reason::CeaseRequested,
                Reason::DisputeOpen
            ]
        );
        assert!(ask(Purpose::OptOutConfirmation, c, true).is_empty());
    }
}
