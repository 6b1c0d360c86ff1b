//! The one catalogue for every text a customer reads.
//!
//! English is `en.rs`, one exhaustive `match` over [`Key`], compiled in: it is the fallback for
//! every text. The other languages are `locales/<tag>.json` (`{"KeyName": "text"}`), loaded
//! on demand by [`catalogue`]; the catalogue test fails if one lacks a key or a placeholder.
//! Texts are `&'static str` with `{name}`
//! placeholders filled by [`fill`]; numbers and money inside texts are formatted by the browser's
//! `Intl` (see `crate::money`) before they are passed in. Plural-dependent texts pick their form
//! with [`Locale::plural`] (the browser's `Intl.PluralRules`, no tables in the wasm): such a
//! text has one key per form (`CvcDigitsOne`, `…Few`, `…Many`, `…Other`), grouped by a
//! [`Counted`] and rendered with [`Locale::count`].

pub mod catalogue;
mod en;

pub use catalogue::CatalogueError;

/// A language the widget speaks. The portal's largest markets first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Ru,
    De,
    Uk,
    Kk,
    Pl,
    PtBr,
    Es,
    Fr,
    Tr,
}

impl Locale {
    pub const ALL: [Locale; 10] = [
        Locale::En,
        Locale::Ru,
        Locale::De,
        Locale::Uk,
        Locale::Kk,
        Locale::Pl,
        Locale::PtBr,
        Locale::Es,
        Locale::Fr,
        Locale::Tr,
    ];

    /// The BCP 47 tag, for `lang` attributes and `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::De => "de",
            Locale::Uk => "uk",
            Locale::Kk => "kk",
            Locale::Pl => "pl",
            Locale::PtBr => "pt-BR",
            Locale::Es => "es",
            Locale::Fr => "fr",
            Locale::Tr => "tr",
        }
    }

    /// Matches a BCP 47 tag such as `ru-RU`, `pt`, `en-GB` by its primary language subtag.
    /// Any Portuguese gets Brazilian Portuguese, the only Portuguese we have.
    /// `loader.js` repeats this map to prefetch the browser's catalogue: keep them in step.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Some(match primary.to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            "ru" => Locale::Ru,
            "de" => Locale::De,
            "uk" => Locale::Uk,
            "kk" => Locale::Kk,
            "pl" => Locale::Pl,
            "pt" => Locale::PtBr,
            "es" => Locale::Es,
            "fr" => Locale::Fr,
            "tr" => Locale::Tr,
            _ => return None,
        })
    }

    /// Matches a language as a portal admin may type it into the `lang` setting: a BCP 47 tag,
    /// or one of Bitrix24's own language ids (`ua`, `kz`, `br`, `la`), which are not BCP 47.
    pub fn from_portal_code(code: &str) -> Option<Locale> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ua" => Some(Locale::Uk),
            "kz" => Some(Locale::Kk),
            "br" => Some(Locale::PtBr),
            "la" => Some(Locale::Es),
            other => Locale::from_tag(other),
        }
    }

    /// The language to speak: the portal's forced language if it names one we have, else the
    /// first of the browser's preferred languages we have, else English.
    pub fn negotiate<'a>(
        forced: Option<&str>,
        preferred: impl IntoIterator<Item = &'a str>,
    ) -> Locale {
        forced
            .and_then(Locale::from_portal_code)
            .or_else(|| preferred.into_iter().find_map(Locale::from_tag))
            .unwrap_or(Locale::En)
    }

    /// [`Locale::negotiate`] against `navigator.languages` (or `navigator.language`).
    pub fn from_browser(forced: Option<&str>) -> Locale {
        let languages = browser_languages();
        Locale::negotiate(forced, languages.iter().map(String::as_str))
    }

    /// The text for `key` in this language, placeholders unfilled: English until this
    /// language's catalogue is loaded (see [`catalogue::load`]), and for any text it lacks.
    pub fn text(self, key: Key) -> &'static str {
        match self {
            Locale::En => en::text(key),
            _ => catalogue::lookup(self, key).unwrap_or_else(|| en::text(key)),
        }
    }

    /// The text for `key` with its `{name}` placeholders filled from `args`.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
    }

    /// A counted text for `n`, in the plural form this language uses for `n`, with `{count}`
    /// filled.
    pub fn count(self, counted: Counted, n: u32) -> String {
        let key = counted.key(self.plural(n as f64));
        self.format(key, &[("count", &n.to_string())])
    }

    /// The words of `text`.
    pub fn say(self, text: Text) -> String {
        match text {
            Text::Plain(key) => self.text(key).to_owned(),
            Text::Count(counted, n) => self.count(counted, n),
        }
    }

    /// The plural category of `n` in this language, from the browser's `Intl.PluralRules`.
    pub fn plural(self, n: f64) -> PluralCategory {
        let locales = js_sys::Array::of1(&self.tag().into());
        let rules = js_sys::Intl::PluralRules::new(&locales, &js_sys::Object::new());
        PluralCategory::from_cldr(&String::from(rules.select(n)))
    }
}

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

/// CLDR plural categories, as `Intl.PluralRules.select` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluralCategory {
    Zero,
    One,
    Two,
    Few,
    Many,
    Other,
}

impl PluralCategory {
    fn from_cldr(name: &str) -> PluralCategory {
        match name {
            "zero" => PluralCategory::Zero,
            "one" => PluralCategory::One,
            "two" => PluralCategory::Two,
            "few" => PluralCategory::Few,
            "many" => PluralCategory::Many,
            _ => PluralCategory::Other,
        }
    }
}

/// Replaces each `{name}` in `template` with the value paired with `name` in `args`.
/// Unknown placeholders stay as they are, so a mistake is visible rather than silent.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, in order (for the catalogue's consistency test).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    names
}

fn browser_languages() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let list: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if list.is_empty() {
        navigator.language().into_iter().collect()
    } else {
        list
    }
}

/// The customer's language, as the app shell provided it (`provide_context(locale)`), else
/// English.
pub fn use_locale() -> Locale {
    leptos::prelude::use_context::<Locale>().unwrap_or(Locale::En)
}
