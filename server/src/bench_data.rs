//! Deterministic generated consumers for the compliance benchmark: a realistic mix of
//! locations, preferences, holds and histories, the same for the same seed and index.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::compliance::{
    AreaCode, Channel, ChannelSet, ConsumerFacts, ContactEvent, ContactQuestion, DebtFacts,
    Direction, LocalRange, Purpose,
};
use domain::{PostalCode, UsState};

const AREA_CODES: &[u16] = &[
    617, 212, 305, 312, 303, 602, 213, 415, 907, 808, 787, 671, 684, 915, 208, 270, 850, 206, 503,
    702, 214, 713, 404, 704, 215,
];
const ZIPS: &[&str] = &[
    "02139", "10001", "33101", "60601", "80202", "85001", "90012", "94103", "99501", "96813",
    "00901", "96910", "79901", "83702", "42101", "32501", "98101", "97201",
];

/// Makes question number `k` of a seeded sequence.
pub struct Generator {
    seed: u64,
    start: DateTime<Utc>,
}

/// splitmix64: a tiny, well-mixed hash from an index to pseudo-random bits.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Generator {
    /// A generator; the same seed gives the same consumers.
    pub fn new(seed: u64) -> Self {
        Generator {
            seed,
            start: "2026-01-01T00:00:00Z".parse().expect("valid instant"),
        }
    }

    /// The `k`-th question and the instant it is asked.
    pub fn question(&self, k: usize) -> (ContactQuestion, DateTime<Utc>) {
        let mut state = mix(self.seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut next = |n: u64| {
            state = mix(state);
            state % n
        };
        let now = self.start + Duration::minutes(next(365 * 24 * 60) as i64);
        let states = UsState::ALL;
        let channel = match next(10) {
            0..=5 => Channel::Sms,
            6..=7 => Channel::Telegram,
            8 => Channel::Email,
            _ => Channel::Call,
        };
        let purpose = match next(20) {
            0..=15 => Purpose::Reminder,
            16 => Purpose::ValidationNotice,
            17 => Purpose::Receipt,
            18 => Purpose::Reply,
            _ => Purpose::OptOutConfirmation,
        };
        let mut consented: ChannelSet = ChannelSet::EMPTY;
        if next(10) < 9 {
            consented.insert(Channel::Sms);
        }
        if next(3) == 0 {
            consented.insert(Channel::Telegram);
        }
        if next(2) == 0 {
            consented.insert(Channel::Email);
        }
        let mut opted_out = ChannelSet::EMPTY;
        if next(30) == 0 {
            opted_out.insert(Channel::Sms);
        }
        let inconvenient_times = if next(5) == 0 {
            let from = NaiveTime::from_hms_opt(9 + next(8) as u32, 0, 0).expect("valid");
            let to = from + Duration::hours(1 + next(3) as i64);
            vec![LocalRange::new(from, to).expect("non-empty")]
        } else {
            Vec::new()
        };
        let consumer = ConsumerFacts {
            area_code: (next(10) < 9).then(|| {
                let npa = AREA_CODES[next(AREA_CODES.len() as u64) as usize];
                AreaCode::of_e164(&format!("+1{npa}5550100"))
                    .expect("valid")
                    .expect("NANP")
            }),
            state: (next(10) < 8).then(|| states[next(states.len() as u64) as usize]),
            postal_code: (next(2) == 0)
                .then(|| PostalCode::parse(ZIPS[next(ZIPS.len() as u64) as usize]).expect("valid")),
            time_zone: (next(10) == 0).then_some(chrono_tz::America::Chicago),
            inconvenient_times,
            refused_channels: ChannelSet::EMPTY,
            consented,
            opted_out,
            opted_out_at: opted_out
                .iter()
                .next()
                .is_some()
                .then(|| now - Duration::minutes(next(20) as i64)),
            attorney_represented: next(100) == 0,
            cease_requested: next(200) == 0,
            bankruptcy: next(200) == 0,
            deceased: next(500) == 0,
        };
        let events = next(7) as usize;
        let history = (0..events)
            .map(|_| ContactEvent {
                at: now - Duration::minutes(1 + next(10 * 24 * 60) as i64),
                channel: if next(4) == 0 {
                    Channel::Call
                } else {
                    Channel::Sms
                },
                direction: if next(5) == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                purpose: Purpose::Reminder,
            })
            .collect();
        (
            ContactQuestion {
                channel,
                purpose,
                consumer,
                debt: DebtFacts {
                    dispute_open: next(50) == 0,
                },
                history,
            },
            now,
        )
    }
}
