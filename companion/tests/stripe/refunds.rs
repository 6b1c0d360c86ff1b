//! Refunds: full, partial, idempotent, never more than was charged.

use super::localstripe::LocalStripe;
use super::support::*;
use b24pay_companion::acquirer::*;

#[tokio::test]
async fn refunds_full_partial_idempotent_and_bounded() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (pi, outcome) = pay(&acq, APPROVED, "pa_rf", money("10.00", "EUR")).await;
    assert!(matches!(outcome, ChargeOutcome::Approved { .. }));
    let refund = |key: &'static str, amount: &str, currency: &str| RefundRequest {
        idempotency_key: key,
        reference: &pi,
        transaction_id: &pi,
        amount: money(amount, currency),
    };
    let first = acq.refund(&refund("rf_1", "4.00", "EUR")).await.unwrap();
    let RefundOutcome::Refunded { refund_id } = &first else {
        panic!("{first:?}")
    };
    // The same refund asked again (a lost answer): the same refund, no new one.
    assert_eq!(
        acq.refund(&refund("rf_1", "4.00", "EUR")).await.unwrap(),
        first
    );
    // More than is left (6.00), or another currency: refused, nothing refunded.
    match acq.refund(&refund("rf_2", "7.00", "EUR")).await.unwrap() {
        RefundOutcome::Refused(why) => assert!(why.contains("more than is left"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        acq.refund(&refund("rf_3", "1.00", "USD")).await.unwrap(),
        RefundOutcome::Refused(_)
    ));
    assert!(matches!(
        acq.refund(&refund("rf_4", "6.00", "EUR")).await.unwrap(),
        RefundOutcome::Refunded { .. }
    ));
    assert!(matches!(
        acq.refund(&refund("rf_5", "0.01", "EUR")).await.unwrap(),
        RefundOutcome::Refused(_)
    ));
    let refunds = stripe_get(&ls, &format!("refunds?payment_intent={pi}")).await;
    let amounts: Vec<u64> = refunds["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_u64().unwrap())
        .collect();
    assert_eq!(amounts.iter().sum::<u64>(), 1000, "{refunds}");
    assert_eq!(amounts.len(), 2);
    assert!(refunds["data"].to_string().contains(refund_id.as_str()));

    // A full refund of another payment.
    let (other, _) = pay(&acq, APPROVED, "pa_rf2", money("25.00", "EUR")).await;
    let full = RefundRequest {
        idempotency_key: "rf_full",
        reference: &other,
        transaction_id: &other,
        amount: money("25.00", "EUR"),
    };
    assert!(matches!(
        acq.refund(&full).await.unwrap(),
        RefundOutcome::Refunded { .. }
    ));

    let requests = ls.requests_until(|r| posts_to(r, "/v1/refunds") == 3).await;
    let refund_keys: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    assert_eq!(refund_keys, ["rf_1", "rf_4", "rf_full"]);
}
