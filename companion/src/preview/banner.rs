//! What the preview prints: the companion, each portal (its admin page, its widget URL, its
//! store payment pages), the test cards.

use super::{Preview, PreviewPortal};
use b24pay_protocol::test_cards::{APPROVED, CHALLENGE, CHALLENGE_CODE, DECLINED};

pub fn banner(p: &Preview) -> String {
    let mut out = format!(
        "b24pay preview\n  companion (widget + API): {}\n",
        p.server.public_url
    );
    if !p.server.services.widget.is_built() {
        out.push_str("\n  WARNING: the widget is not built; run `trunk build --release` first.\n");
    }
    if let Some(first) = p.portals[0].payments.first() {
        out.push_str(&format!(
            "\nThe widget on its own (standalone preview of \"{}\"): {}\n",
            first.label, p.server.public_url
        ));
    }
    out.push_str(
        "\nBoth sandbox portals installed b24pay as a Market application (their ONAPPINSTALL,\ntokens checked with the sandbox's OAuth server; handler and pay systems set up with\neach portal's own tokens).\n",
    );
    for (n, portal) in p.portals.iter().enumerate() {
        out.push_str(&portal_section(n + 1, portal));
    }
    out.push_str("\nTest cards (any future expiry, any CVC):\n");
    for (number, what) in [
        (APPROVED, "approved".to_string()),
        (DECLINED, "declined".to_string()),
        (CHALLENGE, format!("challenge, code {CHALLENGE_CODE}")),
    ] {
        out.push_str(&format!("  {}  {what}\n", grouped(number)));
    }
    out.push_str("\nCtrl-C stops everything.\n");
    let stripe = p.portals[0]
        .payments
        .iter()
        .any(|d| d.label.starts_with("Stripe"));
    if stripe {
        use b24pay_protocol::test_cards::stripe::DECLINED_ON_CHARGE;
        out.push_str(&format!(
            "\nThe Stripe pay system charges through [acquirer.stripe] (B24PAY_STRIPE_*): with\nlocalstripe, {} approved, {} declined; 3-D Secure cards\nneed the widget's Stripe.js step (see README: Stripe).\n",
            grouped(APPROVED),
            grouped(DECLINED_ON_CHARGE),
        ));
    }
    out
}

fn portal_section(n: usize, portal: &PreviewPortal) -> String {
    let mut out = format!(
        "\nPortal {n}:\n  sandbox portal:           {}\n  sandbox admin page:       {}\n  its widget URL:           {}\n  its store payment pages (open one in a browser):\n",
        portal.sandbox.base_url(),
        portal.sandbox.admin_url(),
        portal.widget_url
    );
    for d in &portal.payments {
        out.push_str(&format!("    {:<34} {}\n", d.label, d.pay_url));
    }
    out
}

/// `4242 4242 4242 4242`, as printed on a card.
fn grouped(number: &str) -> String {
    let digits: Vec<&str> = (0..number.len())
        .step_by(4)
        .map(|i| &number[i..(i + 4).min(number.len())])
        .collect();
    digits.join(" ")
}
