//! A local stand-in for a Bitrix24 portal, for tests, benchmarks and the preview.
//!
//! It speaks the portal's REST wire for the pay-system methods (scope `pay_system`), emulates
//! the OAuth token endpoint, and serves the seller's payment page that hosts an IFRAME
//! handler the way the portal does. In memory and deterministic by default; optionally kept
//! in a JSON data file.
//!
//! ```no_run
//! use b24pay_sandbox::{Fault, NewPayment, Sandbox};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::builder().start().await?;
//! let webhook = sandbox.webhook_url(); // http://127.0.0.1:PORT/rest/1/sandboxwebhookcode0000/
//! let created = sandbox.create_payment(NewPayment::order("1250.50", "EUR"))?;
//! sandbox.inject(Fault::QueryLimitExceeded, 2);
//! // … drive the client; then:
//! assert_eq!(sandbox.pay_calls(created.payment_id), 0);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # REST
//!
//! * `POST|GET /rest/1/{webhook_code}/{method}[.json]` — incoming webhook; a wrong user or
//!   code is 403 `ACCESS_DENIED`.
//! * `POST|GET /rest/{method}[.json]` with `auth=ACCESS_TOKEN` in the query or body — OAuth;
//!   no or an unknown token is 401 `NO_AUTH_FOUND`, an expired one 401 `expired_token`.
//! * Bodies: JSON, form-urlencoded with PHP-style nested names, or a GET query string.
//!   Parameter names are case-insensitive as on the portal: at every depth for the pay-system
//!   methods, at the top level and in the structure of `SETTINGS` for the handler methods
//!   (the keys of `CODES` and `FIELDS` are kept as given). The README has the details.
//! * Replies: `{"result": …, "time": {start, finish, duration, processing, date_start,
//!   date_finish, operating_reset_at, operating}}`, or `{"error", "error_description"}` with
//!   the portal's statuses: 400 method errors, 401/403 auth, 404 `ERROR_METHOD_NOT_FOUND`,
//!   429 `OPERATION_TIME_LIMIT` (with `time`), 500 `INTERNAL_SERVER_ERROR`,
//!   503 `QUERY_LIMIT_EXCEEDED`. Ids in lists are strings (`"ID":"5"`), as the portal sends them.
//!
//! Methods: `sale.paysystem.handler.add/update/delete/list`, `sale.paysystem.add/update/
//! delete/list`, `sale.paysystem.settings.get/update`, `sale.paysystem.settings.payment.get`,
//! `sale.paysystem.settings.invoice.get`, `sale.paysystem.pay.payment`,
//! `sale.paysystem.pay.invoice`, with the portal's checks, error codes and messages (mirrored
//! from the portal's `Bitrix\Sale\PaySystem\RestService`).
//!
//! `batch` runs up to 50 of them in one request (`cmd`, `halt`, `$result[key][FIELD]`
//! references; one request for the leaky bucket). With [`SandboxBuilder::https`] the sandbox
//! serves HTTPS with a certificate from a local CA made on first start.
//!
//! # The initial world
//!
//! Person types: `ORDER` 1 "Individual", 2 "Legal entity"; `CRM_INVOICE` 3 "Contact",
//! 4 "Company". Users 1 (the webhook's admin), 2 Anna Petrova, 3 John Carter. Orders and
//! legacy invoices share one id sequence and payment N belongs to order/invoice N:
//!
//! | id | registry | currency | sum |
//! |---|---|---|---|
//! | 1 | ORDER | RUB | 3000.00 |
//! | 2 | CRM_INVOICE | RUB | 12500.00 |
//! | 3 | ORDER | USD | 49.99 |
//! | 4 | ORDER | EUR | 1250.50 |
//! | 5 | ORDER | KZT | 15000.00 |
//! | 6 | CRM_INVOICE | USD | 990.00 |
//! | 7 | ORDER | JPY | 4500 |
//!
//! No handlers or pay systems exist at first; payments have no pay system until one is bound
//! ([`SandboxHandle::set_payment_pay_system`]) or a payment is created with one.
//!
//! # Control
//!
//! From Rust through [`SandboxHandle`] (and [`Platform`] for several portals), over HTTP
//! under `/sandbox/api` (the table is in the README), and by eye at `/admin`. Payment pages: `/pay/{payment_id}` and
//! `/pay/invoice/{invoice_id}`, with `?theme=light|dark&font=sans|serif|mono`.
//!
//! # Where things are
//!
//! | module | what |
//! |---|---|
//! | `sandbox` | [`Sandbox::builder`], [`SandboxHandle`]: starting a sandbox and driving it from Rust |
//! | `server` | the router and the accept loop (a fault can close a connection without a reply) |
//! | `state` | everything a running sandbox holds; the world changes only through `mutate`, which persists |
//! | `rest` | the REST API as stages (fault, admission, parameters, authentication, method, reply) and the methods |
//! | `params` | query strings, JSON and PHP-style form bodies as one object; the portal's name rules |
//! | `world` | the portal's data (person types, users, orders, payments, handlers, pay systems) and the seed |
//! | `faults`, `limits` | injected faults; the leaky bucket |
//! | `oauth` | tokens and the token endpoint |
//! | `control` | `/sandbox/api` (one JSON extractor and one error type in `control/error.rs`) |
//! | `admin`, `pay_page`, `html` | the server-rendered pages, filled from `sandbox/templates/` |
//! | `app` | a Market application: `ONAPPINSTALL`/`ONAPPUNINSTALL`, the install page, the BX24 stand-in |
//! | `platform` | several portals and the OAuth server they share ([`Platform`]) |
//! | `moved` | a portal at a new address: redirects from the old one |
//! | `tls` | HTTPS with a local CA |
//! | `persist` | the data file |
//! | `portal_format` | how the portal prints numbers and dates |

mod admin;
mod app;
mod control;
mod faults;
mod html;
mod limits;
mod moved;
mod oauth;
mod params;
mod pay_page;
mod persist;
mod platform;
mod portal_format;
mod rest;
mod sandbox;
mod server;
mod state;
mod tls;
mod world;

pub use app::{App, AppError, AppEvent, AppInstalled, AppStatus};
pub use faults::{Fault, FaultRequest};
pub use limits::RateLimit;
pub use oauth::{Installation, OAuthStats, OAuthTokens, ACCESS_TOKEN_LIFETIME_SECS};
pub use persist::DataFileError;
pub use platform::{Platform, PlatformBuilder, PlatformHandle};
pub use rest::METHODS;
pub use sandbox::{
    Sandbox, SandboxBuilder, SandboxHandle, StartError, DEFAULT_OAUTH_CLIENT_ID,
    DEFAULT_OAUTH_CLIENT_SECRET, DEFAULT_WEBHOOK_CODE, WEBHOOK_USER_ID,
};
pub use tls::TlsError;
pub use world::{CreatedPayment, NewPayment, PaymentSnapshot, PsFields, Registry, WorldError};
