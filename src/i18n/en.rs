use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Loading payment details…",
        Key::AmountToPay => "Amount to pay",
        Key::PaymentNumber => "Payment No. {number}",
        Key::ErrorTitle => "This payment cannot be shown",
        Key::ErrorNoMessage => "The store did not send the payment details. Open this page from the store’s payment page, or reload it.",
        Key::ErrorInvalidPayment => "The store sent incomplete payment details. Reload the page; if this happens again, contact the store.",
        Key::ErrorInvalidAmount => "The payment amount sent by the store is not valid. Please contact the store.",
        Key::ErrorInvalidCurrency => "The store sent an unknown currency. Please contact the store.",
        Key::ErrorCode => "Error code: {code}",
        Key::Reload => "Reload",
    }
}
