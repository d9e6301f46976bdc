//! Where the consumer may be: the candidate time zones for the contact-hours rules.
//!
//! A zone the consumer told us decides alone. Otherwise the phone's area code and the postal
//! address each contribute every zone they may be in (a state or area code spanning two zones
//! gives both), and with nothing known every US zone, territories included, counts. More zones
//! only ever narrow the window, so any doubt is resolved toward more zones.

use chrono_tz::Tz;
use std::sync::OnceLock;

use super::facts::{AreaCode, ConsumerFacts};
use crate::UsState;

use chrono_tz::America as Am;
use chrono_tz::Pacific as Pa;

/// Every US zone, territories included: the candidates when nothing is known.
pub const ALL_US: &[Tz] = &[
    Am::New_York,
    Am::Chicago,
    Am::Denver,
    Am::Phoenix,
    Am::Los_Angeles,
    Am::Anchorage,
    Am::Adak,
    Pa::Honolulu,
    Am::Puerto_Rico,
    Pa::Guam,
    Pa::Pago_Pago,
];

/// The zones a state's residents may be in.
pub fn state_zones(state: UsState) -> &'static [Tz] {
    use UsState::*;
    match state {
        AK => &[Am::Anchorage, Am::Adak],
        // The Navajo Nation observes daylight saving time; the rest of Arizona does not.
        AZ => &[Am::Phoenix, Am::Denver],
        FL | KY | TN => &[Am::New_York, Am::Chicago],
        ID => &[Am::Boise, Am::Los_Angeles],
        IN => &[Am::Indiana::Indianapolis, Am::Chicago],
        KS | NE | ND | SD | TX => &[Am::Chicago, Am::Denver],
        MI => &[Am::Detroit, Am::Menominee],
        NV => &[Am::Los_Angeles, Am::Denver],
        OR => &[Am::Los_Angeles, Am::Boise],
        HI => &[Pa::Honolulu],
        PR => &[Am::Puerto_Rico],
        VI => &[Am::St_Thomas],
        GU => &[Pa::Guam],
        MP => &[Pa::Saipan],
        AS => &[Pa::Pago_Pago],
        CT | DE | DC | GA | ME | MD | MA | NH | NJ | NY | NC | OH | PA | RI | SC | VT | VA | WV => {
            &[Am::New_York]
        }
        AL | AR | IL | IA | LA | MN | MS | MO | OK | WI => &[Am::Chicago],
        CO | MT | NM | UT | WY => &[Am::Denver],
        CA | WA => &[Am::Los_Angeles],
    }
}

/// The state of a ZIP code, from its first three digits (USPS sectional centers). Military
/// and unassigned prefixes give `None`.
pub fn zip_state(zip5: &str) -> Option<UsState> {
    use UsState::*;
    let n: u32 = zip5.get(..5)?.parse().ok()?;
    // Five-digit exceptions inside another territory's prefix.
    match n {
        96799 => return Some(AS),
        96950..=96952 => return Some(MP),
        _ => {}
    }
    const RANGES: &[(u32, u32, UsState)] = &[
        (5, 5, NY),
        (6, 7, PR),
        (8, 8, VI),
        (9, 9, PR),
        (10, 27, MA),
        (28, 29, RI),
        (30, 38, NH),
        (39, 49, ME),
        (50, 54, VT),
        (55, 55, MA),
        (56, 59, VT),
        (60, 69, CT),
        (70, 89, NJ),
        (100, 149, NY),
        (150, 196, PA),
        (197, 199, DE),
        (200, 200, DC),
        (201, 201, VA),
        (202, 205, DC),
        (206, 219, MD),
        (220, 246, VA),
        (247, 268, WV),
        (270, 289, NC),
        (290, 299, SC),
        (300, 319, GA),
        (320, 339, FL),
        (341, 349, FL),
        (350, 369, AL),
        (370, 385, TN),
        (386, 397, MS),
        (398, 399, GA),
        (400, 427, KY),
        (430, 459, OH),
        (460, 479, IN),
        (480, 499, MI),
        (500, 528, IA),
        (530, 549, WI),
        (550, 567, MN),
        (569, 569, DC),
        (570, 577, SD),
        (580, 588, ND),
        (590, 599, MT),
        (600, 629, IL),
        (630, 658, MO),
        (660, 679, KS),
        (680, 693, NE),
        (700, 715, LA),
        (716, 729, AR),
        (730, 732, OK),
        (733, 733, TX),
        (734, 749, OK),
        (750, 799, TX),
        (800, 816, CO),
        (820, 831, WY),
        (832, 838, ID),
        (840, 847, UT),
        (850, 865, AZ),
        (870, 884, NM),
        (885, 885, TX),
        (889, 898, NV),
        (900, 961, CA),
        (967, 968, HI),
        (969, 969, GU),
        (970, 979, OR),
        (980, 994, WA),
        (995, 999, AK),
    ];
    let prefix = n / 100;
    RANGES
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&prefix))
        .map(|(_, _, s)| *s)
}

/// The zones an area code's numbers may be in (libphonenumber's time-zone map, every zone of
/// any exchange in the area code). Unknown area codes give none.
pub fn area_code_zones(code: AreaCode) -> &'static [Tz] {
    static TABLE: OnceLock<Vec<Box<[Tz]>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table: Vec<Box<[Tz]>> = vec![Box::new([]); 1000];
        for line in include_str!("../../data/nanp_area_code_zones.txt").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut fields = line.split_whitespace();
            let npa: usize = fields
                .next()
                .and_then(|f| f.parse().ok())
                .expect("area code table: NPA");
            let zones: Vec<Tz> = fields
                .map(|z| z.parse().expect("area code table: IANA zone"))
                .collect();
            table[npa] = zones.into_boxed_slice();
        }
        table
    });
    &table[usize::from(code.get())]
}

/// The candidate zones for a consumer, without duplicates.
pub fn candidate_zones(consumer: &ConsumerFacts) -> Vec<Tz> {
    if let Some(tz) = consumer.time_zone {
        return vec![tz];
    }
    let mut zones: Vec<Tz> = Vec::with_capacity(4);
    let mut add = |list: &[Tz]| {
        for z in list {
            if !zones.contains(z) {
                zones.push(*z);
            }
        }
    };
    if let Some(code) = consumer.area_code {
        add(area_code_zones(code));
    }
    for state in address_states(consumer) {
        add(state_zones(state));
    }
    if zones.is_empty() {
        return ALL_US.to_vec();
    }
    zones
}

/// The states the consumer's address puts them in: the stated one and, when it differs or
/// is missing, the ZIP code's.
pub fn address_states(consumer: &ConsumerFacts) -> impl Iterator<Item = UsState> {
    let zip = consumer
        .postal_code
        .as_ref()
        .and_then(|p| zip_state(p.zip5()));
    let state = consumer.state;
    state.into_iter().chain(zip.filter(|z| Some(*z) != state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PostalCode;

    fn facts(phone: Option<&str>, state: Option<UsState>, zip: Option<&str>) -> ConsumerFacts {
        ConsumerFacts {
            area_code: phone.and_then(|p| AreaCode::of_e164(p).unwrap()),
            state,
            postal_code: zip.map(|z| PostalCode::parse(z).unwrap()),
            ..ConsumerFacts::default()
        }
    }

    #[test]
    fn every_state_has_zones_and_every_table_zone_parses() {
        for s in UsState::ALL {
            assert!(!state_zones(*s).is_empty(), "{s}");
        }
        let code = |n| {
            AreaCode::of_e164(&format!("+1{n}5550123"))
                .unwrap()
                .unwrap()
        };
        assert_eq!(area_code_zones(code(617)), &[Am::New_York]);
        assert!(area_code_zones(code(907)).contains(&Am::Anchorage));
        assert_eq!(area_code_zones(code(808)), &[Pa::Honolulu]);
        assert_eq!(area_code_zones(code(671)), &[Pa::Guam]);
        assert_eq!(area_code_zones(code(684)), &[Pa::Pago_Pago]);
        assert_eq!(area_code_zones(code(787)), &[Am::Puerto_Rico]);
        assert_eq!(area_code_zones(code(915)), &[Am::Denver]);
        assert!(area_code_zones(code(208)).contains(&Am::Los_Angeles));
    }

    #[test]
    fn a_told_zone_decides_alone() {
        let mut f = facts(Some("+16175550123"), Some(UsState::CA), None);
        f.time_zone = Some(Am::Chicago);
        assert_eq!(candidate_zones(&f), vec![Am::Chicago]);
    }

    #[test]
    fn phone_and_address_both_count() {
        // Eastern area code, Pacific address: the KD example.
        let f = facts(Some("+16175550123"), Some(UsState::CA), None);
        assert_eq!(candidate_zones(&f), vec![Am::New_York, Am::Los_Angeles]);
        // A state spanning two zones contributes both.
        let f = facts(None, Some(UsState::TX), None);
        assert_eq!(candidate_zones(&f), vec![Am::Chicago, Am::Denver]);
    }

    #[test]
    fn zip_codes_give_the_state_when_it_is_missing_or_disagrees() {
        assert_eq!(zip_state("02139"), Some(UsState::MA));
        assert_eq!(zip_state("00921"), Some(UsState::PR));
        assert_eq!(zip_state("96910"), Some(UsState::GU));
        assert_eq!(zip_state("96799"), Some(UsState::AS));
        assert_eq!(zip_state("99501"), Some(UsState::AK));
        assert_eq!(zip_state("79901"), Some(UsState::TX));
        assert_eq!(zip_state("09001"), None);
        let f = facts(None, None, Some("96910"));
        assert_eq!(candidate_zones(&f), vec![Pa::Guam]);
        let f = facts(None, Some(UsState::NY), Some("90210"));
        assert_eq!(candidate_zones(&f), vec![Am::New_York, Am::Los_Angeles]);
    }

    #[test]
    fn nothing_known_means_every_us_zone() {
        assert_eq!(candidate_zones(&ConsumerFacts::default()), ALL_US.to_vec());
        // A foreign number says nothing about US zones either.
        let f = facts(Some("+442071234567"), None, None);
        assert_eq!(candidate_zones(&f), ALL_US.to_vec());
    }
}
