//! Online payments through a provider (Stripe, Mollie): creating a payment session for what a
//! customer owes, and turning what the provider reports into verified payment facts
//! (`Fact`), which `apply` writes into the shop's ledger once each. Whatever a provider
//! sends is checked (a signature, or the provider's own API asked again) before anything is
//! written.

pub mod apply;
mod model;
pub mod mollie;
pub mod stripe;
pub mod stripe_api;
pub mod stripe_events;

pub use model::{ApiError, Fact, PayApis, Provider, Session, SessionRequest};

/// Creates a session with the shop's account at `provider`.
pub async fn create_session(
    apis: &PayApis,
    provider: Provider,
    key: &str,
    req: &SessionRequest,
) -> Result<Session, ApiError> {
    match provider {
        Provider::Stripe => stripe_api::create_session(apis, key, req).await,
        Provider::Mollie => mollie::create_payment(apis, key, req).await,
    }
}
