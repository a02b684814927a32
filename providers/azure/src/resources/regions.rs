//! Azure regions and ExpressRoute peering locations, by (coarse) geopolitical region.
//!
//! Used for plan-time warnings on unknown region names and for the rule that a Standard/Local
//! circuit links only to gateways in its peering location's geopolitical region. The grouping is
//! deliberately coarse (UK with Europe; Japan, Korea and India with Asia; New Zealand with
//! Australia), so the rule only fires on clear cross-continent links.

use super::norm;

const REGIONS: &[(&str, &[&str])] = &[
    (
        "North America",
        &[
            "eastus",
            "eastus2",
            "westus",
            "westus2",
            "westus3",
            "centralus",
            "northcentralus",
            "southcentralus",
            "westcentralus",
            "canadacentral",
            "canadaeast",
            "mexicocentral",
            "usgovvirginia",
            "usgovarizona",
            "usgovtexas",
            "usdodeast",
            "usdodcentral",
        ],
    ),
    (
        "South America",
        &["brazilsouth", "brazilsoutheast", "chilecentral"],
    ),
    (
        "Europe",
        &[
            "westeurope",
            "northeurope",
            "francecentral",
            "francesouth",
            "germanywestcentral",
            "germanynorth",
            "swedencentral",
            "swedensouth",
            "switzerlandnorth",
            "switzerlandwest",
            "norwayeast",
            "norwaywest",
            "polandcentral",
            "italynorth",
            "spaincentral",
            "uksouth",
            "ukwest",
            "austriaeast",
            "belgiumcentral",
            "denmarkeast",
        ],
    ),
    (
        "Asia",
        &[
            "eastasia",
            "southeastasia",
            "japaneast",
            "japanwest",
            "koreacentral",
            "koreasouth",
            "centralindia",
            "southindia",
            "westindia",
            "jioindiawest",
            "jioindiacentral",
            "indonesiacentral",
            "malaysiawest",
            "taiwannorth",
            "chinaeast",
            "chinaeast2",
            "chinaeast3",
            "chinanorth",
            "chinanorth2",
            "chinanorth3",
        ],
    ),
    (
        "Australia",
        &[
            "australiaeast",
            "australiasoutheast",
            "australiacentral",
            "australiacentral2",
            "newzealandnorth",
        ],
    ),
    ("Africa", &["southafricanorth", "southafricawest"]),
    (
        "Middle East",
        &[
            "uaenorth",
            "uaecentral",
            "qatarcentral",
            "israelcentral",
            "saudiarabiaeast",
        ],
    ),
];

const PEERING_LOCATIONS: &[(&str, &[&str])] = &[
    (
        "North America",
        &[
            "siliconvalley",
            "siliconvalley2",
            "washingtondc",
            "washingtondc2",
            "newyork",
            "chicago",
            "chicago2",
            "dallas",
            "dallas2",
            "seattle",
            "losangeles",
            "losangeles2",
            "atlanta",
            "atlanta2",
            "miami",
            "denver",
            "phoenix",
            "sanantonio",
            "toronto",
            "toronto2",
            "montreal",
            "quebeccity",
            "vancouver",
            "minneapolis",
            "lasvegas",
            "queretaro",
        ],
    ),
    (
        "South America",
        &[
            "saopaulo",
            "saopaulo2",
            "riodejaneiro",
            "santiago",
            "bogota",
        ],
    ),
    (
        "Europe",
        &[
            "amsterdam",
            "amsterdam2",
            "london",
            "london2",
            "frankfurt",
            "frankfurt2",
            "paris",
            "paris2",
            "dublin",
            "dublin2",
            "zurich",
            "zurich2",
            "stockholm",
            "oslo",
            "copenhagen",
            "madrid",
            "madrid2",
            "milan",
            "milan2",
            "marseille",
            "berlin",
            "vienna",
            "warsaw",
            "geneva",
            "newport",
            "manchester",
            "athens",
        ],
    ),
    (
        "Asia",
        &[
            "tokyo",
            "tokyo2",
            "osaka",
            "seoul",
            "seoul2",
            "busan",
            "busan2",
            "singapore",
            "singapore2",
            "hongkong",
            "hongkong2",
            "taipei",
            "jakarta",
            "kualalumpur",
            "bangkok",
            "mumbai",
            "mumbai2",
            "chennai",
            "chennai2",
            "pune",
            "hyderabad",
            "bangalore",
            "newdelhi",
        ],
    ),
    (
        "Australia",
        &[
            "sydney",
            "sydney2",
            "melbourne",
            "canberra",
            "canberra2",
            "perth",
            "auckland",
        ],
    ),
    ("Africa", &["johannesburg", "capetown", "nairobi", "lagos"]),
    (
        "Middle East",
        &["dubai", "dubai2", "doha", "doha2", "telaviv", "abudhabi"],
    ),
];

/// The geopolitical region of an Azure region (`West Europe`/`westeurope`).
pub(crate) fn region_geo(location: &str) -> Option<&'static str> {
    let l = norm(location);
    REGIONS
        .iter()
        .find(|(_, names)| names.contains(&l.as_str()))
        .map(|(g, _)| *g)
}

/// The geopolitical region of an ExpressRoute peering location (`Silicon Valley`).
pub(crate) fn peering_location_geo(location: &str) -> Option<&'static str> {
    let l = norm(location);
    PEERING_LOCATIONS
        .iter()
        .find(|(_, names)| names.contains(&l.as_str()))
        .map(|(g, _)| *g)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest known region name, for "did you mean".
pub(crate) fn suggest_region(location: &str) -> Option<&'static str> {
    let l = norm(location);
    REGIONS
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .map(|n| (distance(&l, n), n))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(region_geo("West Europe"), Some("Europe"));
        assert_eq!(region_geo("UK South"), Some("Europe"));
        assert_eq!(
            peering_location_geo("Silicon Valley"),
            Some("North America")
        );
        assert_eq!(peering_location_geo("Amsterdam2"), Some("Europe"));
        assert_eq!(region_geo("westeurop"), None);
        assert_eq!(suggest_region("westeurop"), Some("westeurope"));
        assert_eq!(suggest_region("mars"), None);
    }
}
