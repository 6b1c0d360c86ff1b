//! The initial world: fixed ids and dates, so every fresh sandbox is identical.

use std::collections::BTreeMap;

use super::{Item, NextIds, Order, Payment, PersonType, PsFields, Registry, User, World};

/// 2024-04-03 10:00:00 +03:00: when the seeded orders were placed.
const SEED_TIME: i64 = 1_712_127_600;

pub(super) fn initial_world() -> World {
    let person_types = vec![
        person_type(1, "Individual", Registry::Order),
        person_type(2, "Legal entity", Registry::Order),
        person_type(3, "Contact", Registry::CrmInvoice),
        person_type(4, "Company", Registry::CrmInvoice),
    ];
    let users = vec![
        user(
            1,
            &[
                ("LOGIN", "admin"),
                ("NAME", "Portal"),
                ("LAST_NAME", "Administrator"),
                ("EMAIL", "admin@sandbox.test"),
            ],
        ),
        user(
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
        user(
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

    // (id, registry, person type, user, currency, topic, items)
    #[allow(clippy::type_complexity)]
    let orders: &[(u64, Registry, u64, u64, &str, &str, &[(&str, u32, &str)])] = &[
        (
            1,
            Registry::Order,
            1,
            2,
            "RUB",
            "Wireless headphones",
            &[
                ("Wireless headphones", 1, "2500.00"),
                ("Courier delivery", 1, "500.00"),
            ],
        ),
        (
            2,
            Registry::CrmInvoice,
            3,
            2,
            "RUB",
            "Consulting services, April",
            &[("Consulting hour", 5, "2500.00")],
        ),
        (
            3,
            Registry::Order,
            1,
            3,
            "USD",
            "Paperback books",
            &[
                ("A Field Guide to Ferns", 1, "29.99"),
                ("Pocket atlas", 1, "20.00"),
            ],
        ),
        (
            4,
            Registry::Order,
            2,
            3,
            "EUR",
            "Office chairs",
            &[("Ergonomic office chair", 2, "625.25")],
        ),
        (
            5,
            Registry::Order,
            1,
            2,
            "KZT",
            "Tea sampler",
            &[("Mountain tea sampler", 3, "5000.00")],
        ),
        (
            6,
            Registry::CrmInvoice,
            4,
            3,
            "USD",
            "Annual support plan",
            &[("Support plan, 12 months", 1, "990.00")],
        ),
        (
            7,
            Registry::Order,
            1,
            2,
            "JPY",
            "Ceramic mug set",
            &[("Hand-thrown mug", 3, "1500")],
        ),
    ];

    let mut world = World {
        person_types,
        users,
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
    for &(id, registry, person_type_id, user_id, currency, topic, items) in orders {
        let items: Vec<Item> = items
            .iter()
            .map(|&(name, quantity, price)| Item {
                name: name.to_string(),
                quantity,
                price: price.to_string(),
            })
            .collect();
        let price = total(&items, currency);
        let properties = customer_properties(world.user(user_id));
        // Orders and invoices are placed an hour apart, in id order.
        let placed = SEED_TIME + (id as i64 - 1) * 3600;
        world.orders.insert(
            id,
            Order {
                id,
                registry,
                account_number: id.to_string(),
                person_type_id,
                user_id,
                currency: currency.to_string(),
                price: price.clone(),
                topic: topic.to_string(),
                date_insert: placed,
                items,
                properties,
                comment: String::new(),
            },
        );
        // Payment N belongs to order (or invoice) N.
        world.payments.insert(
            id,
            Payment {
                id,
                order_id: id,
                account_number: format!("{id}/1"),
                sum: price,
                currency: currency.to_string(),
                paid: false,
                date_paid: None,
                date_bill: placed,
                pay_system_id: None,
                ps: PsFields::default(),
                pay_calls: 0,
                rejected_pay_calls: 0,
                unsaved_pay_calls: 0,
            },
        );
        world.next.order = id + 1;
        world.next.payment = id + 1;
    }
    world
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
