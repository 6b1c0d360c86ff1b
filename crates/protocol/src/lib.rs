//! Types shared by the b24pay widget (wasm32) and companion (native).
//!
//! Kept dependency-light on purpose: everything here ends up in the widget's wasm, where every
//! kilobyte is paid for by every customer.

pub mod api;
pub mod card;
pub mod currency;
pub mod fields;
pub mod ids;
pub mod money;
pub mod test_cards;
mod wire;

#[doc(hidden)]
pub use serde as __serde;

pub use currency::Currency;
pub use money::Money;
