//! The initial world: fixed ids and dates, so every fresh sandbox is identical.

use std::collections::BTreeMap;

use super::{Item, NextIds, Order, Payment, PersonType, Registry, User, World};

/// 2024-04-03 10:00:00 +03:00: when the seeded orders were placed.
const SEED_TIME: i64 = 1_712_127_600;

/// A seeded order (or legacy invoice) and its one payment.
struct SeedOrder {
    id: u64,
    registry: Registry,
    person_type_id: u64,
    user_id: u64,
    currency: &'static str,
    topic: &'static str,
    /// `(name, quantity, unit price)`.
    items: &'static [(&'static str, u32, &'static str)],
}

const PERSON_TYPES: &[(u64, &str, Registry)] = &[
    (1, "Individual", Registry::Order),
    (2, "Legal entity", Registry::Order),
    (3, "Contact", Registry::CrmInvoice),
    (4, "Company", Registry::CrmInvoice),
];

const USERS: &[(u64, &[(&str, &str)])] = &[
    (
        1,
        &[
            ("LOGIN", "admin"),
            ("NAME", "Portal"),
            ("LAST_NAME", "Administrator"),
            ("EMAIL", "admin@sandbox.test"),
        ],
    ),
    (
        2,
        &[
            ("LOGIN", "anna"),
            ("NAME", "Anna"),
            ("SECOND_NAME", "Sergeevna"),
            ("LAST_NAME", "Petrova"),
            ("EMAIL", "anna.petrova@example.com"),
            ("PERSONAL_MOBILE", "+7 900 000-00-01"),
            ("PERSONAL_CITY", "Moscow"),
            ("PERSONAL_COUNTRY", "Russia"),
            ("PERSONAL_ZIP", "101000"),
        ],
    ),
    (
        3,
        &[
            ("LOGIN", "john"),
            ("NAME", "John"),
            ("LAST_NAME", "Carter"),
            ("EMAIL", "john.carter@example.com"),
            ("PERSONAL_MOBILE", "+1 555 0100"),
            ("PERSONAL_CITY", "Springfield"),
            ("PERSONAL_COUNTRY", "USA"),
            ("WORK_COMPANY", "Carter & Sons Ltd"),
        ],
    ),
];

const ORDERS: &[SeedOrder] = &[
    SeedOrder {
        id: 1,
        registry: Registry::Order,
        person_type_id: 1,
        user_id: 2,
        currency: "RUB",
        topic: "Wireless headphones",
        items: &[
            ("Wireless headphones", 1, "2500.00"),
            ("Courier delivery", 1, "500.00"),
        ],
    },
    SeedOrder {
        id: 2,
        registry: Registry::CrmInvoice,
        person_type_id: 3,
        user_id: 2,
        currency: "RUB",
        topic: "Consulting services, April",
        items: &[("Consulting hour", 5, "2500.00")],
    },
    SeedOrder {
        id: 3,
        registry: Registry::Order,
        person_type_id: 1,
        user_id: 3,
        currency: "USD",
        topic: "Paperback books",
        items: &[
            ("A Field Guide to Ferns", 1, "29.99"),
            ("Pocket atlas", 1, "20.00"),
        ],
    },
    SeedOrder {
        id: 4,
        registry: Registry::Order,
        person_type_id: 2,
        user_id: 3,
        currency: "EUR",
        topic: "Office chairs",
        items: &[("Ergonomic office chair", 2, "625.25")],
    },
    SeedOrder {
        id: 5,
        registry: Registry::Order,
        person_type_id: 1,
        user_id: 2,
        currency: "KZT",
        topic: "Tea sampler",
        items: &[("Mountain tea sampler", 3, "5000.00")],
    },
    SeedOrder {
        id: 6,
        registry: Registry::CrmInvoice,
        person_type_id: 4,
        user_id: 3,
        currency: "USD",
        topic: "Annual support plan",
        items: &[("Support plan, 12 months", 1, "990.00")],
    },
    SeedOrder {
        id: 7,
        registry: Registry::Order,
        person_type_id: 1,
        user_id: 2,
        currency: "JPY",
        topic: "Ceramic mug set",
        items: &[("Hand-thrown mug", 3, "1500")],
    },
];

pub(super) fn initial_world() -> World {
    let mut world = World {
        person_types: PERSON_TYPES
            .iter()
            .map(|&(id, name, registry)| person_type(id, name, registry))
            .collect(),
        users: USERS.iter().map(|&(id, fields)| user(id, fields)).collect(),
        handlers: BTreeMap::new(),
        pay_systems: BTreeMap::new(),
        orders: BTreeMap::new(),
        payments: BTreeMap::new(),
        next: NextIds {
            handler: 1,
            pay_system: 1,
            order: 1,
            payment: 1,
            file: 1,
        },
    };
    for seed in ORDERS {
        seed_order(&mut world, seed);
    }
    world
}

fn seed_order(world: &mut World, seed: &SeedOrder) {
    let id = seed.id;
    let items: Vec<Item> = seed
        .items
        .iter()
        .map(|&(name, quantity, price)| Item {
            name: name.to_string(),
            quantity,
            price: price.to_string(),
        })
        .collect();
    let price = total(&items, seed.currency);
    // Orders and invoices are placed an hour apart, in id order.
    let placed = SEED_TIME + (id as i64 - 1) * 3600;
    let order = Order {
        id,
        registry: seed.registry,
        account_number: id.to_string(),
        person_type_id: seed.person_type_id,
        user_id: seed.user_id,
        currency: seed.currency.to_string(),
        price: price.clone(),
        topic: seed.topic.to_string(),
        date_insert: placed,
        items,
        properties: customer_properties(world.user(seed.user_id)),
        comment: String::new(),
    };
    // Payment N belongs to order (or invoice) N.
    let payment = Payment::unpaid(id, &order, price, placed, None);
    world.orders.insert(id, order);
    world.payments.insert(id, payment);
    world.next.order = id + 1;
    world.next.payment = id + 1;
}

/// Order properties (the `PROPERTY` provider) by property id: 1 full name, 2 e-mail, 3 phone.
pub(super) fn customer_properties(user: Option<&User>) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    if let Some(user) = user {
        let field = |key: &str| user.fields.get(key).cloned().unwrap_or_default();
        let name = format!("{} {}", field("NAME"), field("LAST_NAME"));
        properties.insert("1".to_string(), name.trim().to_string());
        properties.insert("2".to_string(), field("EMAIL"));
        properties.insert("3".to_string(), field("PERSONAL_MOBILE"));
    }
    properties
}

fn person_type(id: u64, name: &str, registry: Registry) -> PersonType {
    PersonType {
        id,
        name: name.to_string(),
        registry,
    }
}

fn user(id: u64, fields: &[(&str, &str)]) -> User {
    let mut map: BTreeMap<String, String> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("ID".to_string(), id.to_string());
    User { id, fields: map }
}

/// Sum of the items, in the currency's canonical decimal text.
fn total(items: &[Item], currency: &str) -> String {
    use b24pay_protocol::currency::Currency;
    use b24pay_protocol::money::Money;
    let currency = Currency::parse(currency).expect("seed currencies are valid");
    let minor: u64 = items
        .iter()
        .map(|item| {
            Money::parse(&item.price, currency)
                .expect("seed prices are valid")
                .minor
                * item.quantity as u64
        })
        .sum();
    Money { minor, currency }.to_decimal_string()
}
