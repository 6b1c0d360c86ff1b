//! The FIELDS of the handler's `IFRAME_DATA`: the names under which the portal posts our
//! non-secret settings to the widget (one top-level key of its message per field). `register`
//! maps settings CODES to these names; the widget reads them. Nothing secret is ever mapped
//! here: FIELDS are printed into the customer's browser.

/// Forces the widget's language (`B24PAY_LANGUAGE`): a BCP 47 tag or a Bitrix24 id.
pub const LANG: &str = "lang";
/// The payment's number as the store shows it (`B24PAY_PAYMENT_NUMBER`, the payment's
/// ACCOUNT_NUMBER); the summary falls back to `PAYMENT_ID` without it.
pub const PAYMENT_NUMBER: &str = "paymentNumber";
/// The shop's public id (`B24PAY_SHOP_ID`).
pub const SHOP_ID: &str = "shopId";
/// `Y` asks the customer for the cardholder's name (`B24PAY_ASK_HOLDER`).
pub const HOLDER: &str = "holder";
/// A legacy CRM invoice's id (`B24PAY_ORDER_ID` on invoice pay systems); the widget sends it
/// back as `invoice_id`.
pub const INVOICE_ID: &str = "invoiceId";
/// The pay system's mode (`B24PAY_MODE`): `TEST` shows the test-mode notice before paying.
/// For display only: the companion reads the mode from the portal itself before charging.
pub const MODE: &str = "mode";
