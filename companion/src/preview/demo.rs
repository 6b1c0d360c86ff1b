//! The preview's demo: the pay systems a merchant adds beside the install's (a legacy-invoice
//! one, and a LIVE one when Stripe is configured), through the portal's webhook standing in
//! for its settings page, and the demo payments whose store pages are printed.

use super::DemoPayment;
use crate::portal::Mode;
use crate::register::{register, RegisterOptions, RegisterReport};
use crate::store::Registry;
use b24pay_sandbox::{NewPayment, SandboxHandle};

/// The merchant's own pay systems on the first portal, bound to the install's handler (its
/// ACTION_URI `widget_url` is left as the install set it): CRM_INVOICE (person type 3), and a
/// LIVE ORDER one for legal entities (person type 2) charging through Stripe.
pub async fn merchant_pay_systems(
    portal: &SandboxHandle,
    widget_url: &url::Url,
    stripe: bool,
) -> anyhow::Result<Vec<RegisterReport>> {
    let client = super::webhook_client(portal)?;
    let mut o = RegisterOptions::new(widget_url.clone(), Mode::Test);
    o.registry = Registry::CrmInvoice;
    o.person_type = Some(3);
    o.shop_id = Some("demo-shop".into());
    o.secret_key = Some(format!("preview-{:016x}", rand::random::<u64>()));
    let mut reports = vec![register(&client, &o).await?];
    if stripe {
        let mut o = RegisterOptions::new(widget_url.clone(), Mode::Live);
        o.person_type = Some(2);
        reports.push(register(&client, &o).await?);
    }
    Ok(reports)
}

/// The first portal's demo payments: four orders (the install's TEST pay system), a legacy
/// invoice, and a Stripe order when `live` is that pay system's id.
pub fn first_portal(
    portal: &SandboxHandle,
    order_ps: u64,
    invoice_ps: u64,
    live: Option<u64>,
) -> anyhow::Result<Vec<DemoPayment>> {
    let mut demos = vec![
        (
            "Coffee beans, 1 kg",
            NewPayment::order("3000", "RUB"),
            order_ps,
        ),
        ("Wool scarf", NewPayment::order("1250.50", "EUR"), order_ps),
        ("Notebook set", NewPayment::order("49.99", "USD"), order_ps),
        (
            "Tea ceremony kit",
            NewPayment::order("4500", "JPY"),
            order_ps,
        ),
        (
            "Consulting (legacy CRM invoice)",
            NewPayment::invoice("12500", "RUB"),
            invoice_ps,
        ),
    ];
    if let Some(ps) = live {
        demos.push((
            "Stripe: LIVE pay system",
            NewPayment::order("19.90", "EUR"),
            ps,
        ));
    }
    create(portal, demos)
}

/// The second portal's demo payments (the install's TEST pay system).
pub fn second_portal(portal: &SandboxHandle, order_ps: u64) -> anyhow::Result<Vec<DemoPayment>> {
    create(
        portal,
        vec![
            (
                "Harbour: linen apron",
                NewPayment::order("35", "EUR"),
                order_ps,
            ),
            (
                "Harbour: espresso cups, 6",
                NewPayment::order("2400", "RUB"),
                order_ps,
            ),
        ],
    )
}

fn create(
    portal: &SandboxHandle,
    demos: Vec<(&str, NewPayment, u64)>,
) -> anyhow::Result<Vec<DemoPayment>> {
    let mut payments = Vec::new();
    for (label, new, ps) in demos {
        let created = portal
            .create_payment(new.with_pay_system(ps).with_topic(label))
            .map_err(|e| anyhow::anyhow!("creating a demo payment: {e}"))?;
        payments.push(DemoPayment {
            label: label.to_string(),
            payment_id: created.payment_id,
            pay_url: created.pay_url,
        });
    }
    Ok(payments)
}
