//! The names of the widget's texts, one list: [`Key`], and the texts that depend on a number.

use super::{catalogue, PluralCategory};

/// Declares [`Key`] and its complete list [`Key::ALL`] from one list of names, so the
/// completeness test cannot miss a key.
macro_rules! keys {
    ($( $(#[$doc:meta])* $name:ident, )*) => {
        /// Every text the widget shows. Add a key here, to `en.rs` (the compiler insists) and
        /// to every `locales/*.json` (the catalogue test insists).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key {
            $( $(#[$doc])* $name, )*
        }

        impl Key {
            pub const ALL: &'static [Key] = &[$(Key::$name,)*];

            /// The id of this list of keys, in this order: what a served catalogue must carry
            /// (see [`catalogue`]). Computed at compile time: the names themselves need not be
            /// in the wasm.
            pub const LIST_ID: u32 = catalogue::list_id(concat!($(stringify!($name), ",",)*));

            /// The key's name in the language catalogues (`locales/*.json`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$name => stringify!($name),)*
                }
            }
        }
    };
}

keys! {
    /// The page's heading (read by screen readers; the store's page shows its own).
    PageTitle,
    /// Label above the amount in the payment summary.
    AmountToPay,
    /// `{number}`: the payment's number in the store.
    PaymentNumber,
    /// Heading of every error state.
    ErrorTitle,
    /// Heading when no usable message from the portal has arrived after a few seconds.
    WaitingTitle,
    /// No message from the portal arrived.
    ErrorNoMessage,
    /// Above the form in the standalone preview (the page opened outside a portal).
    PreviewNotice,
    /// The pay system is in TEST mode.
    TestMode,
    /// The portal's payment identifiers are missing or malformed.
    ErrorInvalidPayment,
    /// The portal's amount is missing or malformed.
    ErrorInvalidAmount,
    /// The portal's currency is missing or not an ISO 4217 code.
    ErrorInvalidCurrency,
    /// `{code}`: the machine-readable error code, for the store's support.
    ErrorCode,
    /// Button that reloads the widget (the portal posts its data again on every load).
    Reload,

    // The card form.
    /// Accessible name of the card form.
    CardDetails,
    CardNumber,
    Expiry,
    /// Placeholder of the expiry field, in the language's abbreviations of month and year.
    ExpiryPlaceholder,
    /// Label of the CVC/CVV field.
    Cvc,
    /// Label of the optional cardholder field.
    Holder,
    /// `{amount}`: the formatted amount ("1 250,50 ₽").
    Pay,
    /// The Pay button while the payment is being sent.
    Processing,

    // Field errors: shown when a field is left or on submit.
    NumberEmpty,
    NumberIncomplete,
    /// Fails the checksum or has a length no card has.
    NumberInvalid,
    ExpiryEmpty,
    ExpiryIncomplete,
    ExpiryMonth,
    ExpiryPast,
    ExpiryFar,
    CvcEmpty,
    /// `{count}`: how many digits the card's security code has. One key per plural form.
    CvcDigitsOne,
    CvcDigitsFew,
    CvcDigitsMany,
    CvcDigitsOther,
    HolderEmpty,
    /// The server refused the name (too long, control characters).
    HolderInvalid,

    // How the last attempt ended, shown above the Pay button.
    DeclinedGeneric,
    DeclinedFunds,
    DeclinedExpired,
    DeclinedCvc,
    /// A transient processing error: nothing was charged, retry is safe.
    DeclinedProcessing,
    /// The challenge code was wrong or the bank refused the confirmation.
    DeclinedChallenge,
    /// No answer from the server: retrying with the same key is safe.
    Connection,
    /// The server or the portal is busy (rate limit, timeout, outage): retry is safe.
    ServiceBusy,
    InProgress,
    /// Declines or codes over the limit for now (HTTP 429 `too_many_attempts`).
    TooManyAttempts,
    WrongCode,
    /// The challenge step expired or was already used.
    ChallengeExpired,
    /// Any refusal the customer cannot act on otherwise.
    SomethingWrong,

    // Final states.
    PaidTitle,
    /// `{amount}`, `{card}` ("Visa •••• 4242").
    PaidText,
    /// Link that takes the whole page back to the store (`RETURN_URL`).
    BackToStore,
    /// Under the paid text: the portal has accepted the payment (`portal_notified`).
    StoreNotified,
    /// Under the paid text while the portal has not accepted it yet.
    StoreNotifying,
    /// The portal has not accepted it after a while (the companion keeps trying).
    StoreNotifyLater,
    /// `{count}`: seconds until the page goes back to the store. One key per plural form.
    ReturningOne,
    ReturningFew,
    ReturningMany,
    ReturningOther,
    /// Cancels the return to the store.
    StayHere,
    AlreadyPaidTitle,
    PaymentUnavailableTitle,
    /// Shown under the amount-changed and not-found titles.
    ReopenPayment,
    UnavailableTitle,
    UnavailableText,
    NotFoundTitle,

    // The challenge step (3-D Secure style), inline.
    ChallengeTitle,
    /// `{count}`: the code's length. One key per plural form.
    ChallengeTextOne,
    ChallengeTextFew,
    ChallengeTextMany,
    ChallengeTextOther,
    ChallengeCode,
    CodeEmpty,
    Confirm,
    /// Under the challenge's title while the bank's own step (3-D Secure in Stripe.js) runs in
    /// its window over the form.
    BankStepText,
}

/// A text whose wording depends on a number. Each has one [`Key`] per plural form our
/// languages use (`one`, `few`, `many`, `other`); languages without `few`/`many` give those
/// keys the `other` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counted {
    CvcDigits,
    ChallengeText,
    Returning,
}

impl Counted {
    pub fn key(self, category: PluralCategory) -> Key {
        use PluralCategory::*;
        match (self, category) {
            (Counted::CvcDigits, One) => Key::CvcDigitsOne,
            (Counted::CvcDigits, Few) => Key::CvcDigitsFew,
            (Counted::CvcDigits, Many) => Key::CvcDigitsMany,
            (Counted::CvcDigits, _) => Key::CvcDigitsOther,
            (Counted::ChallengeText, One) => Key::ChallengeTextOne,
            (Counted::ChallengeText, Few) => Key::ChallengeTextFew,
            (Counted::ChallengeText, Many) => Key::ChallengeTextMany,
            (Counted::ChallengeText, _) => Key::ChallengeTextOther,
            (Counted::Returning, One) => Key::ReturningOne,
            (Counted::Returning, Few) => Key::ReturningFew,
            (Counted::Returning, Many) => Key::ReturningMany,
            (Counted::Returning, _) => Key::ReturningOther,
        }
    }
}

/// A message to show later (kept in signals): a plain key, or a counted text with its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Text {
    Plain(Key),
    Count(Counted, u32),
}

impl From<Key> for Text {
    fn from(key: Key) -> Text {
        Text::Plain(key)
    }
}
