//! What every provider module shares: the providers, where their APIs are, a session asked
//! and made, the facts a provider reports, and how an API's answer is classified. A leaf: the
//! provider modules use it, it uses none of them.

use ardoise_core::Money;
use uuid::Uuid;

/// The providers a shop can have an account with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Stripe,
    Mollie,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::Mollie];

    /// Its name in `payment_providers` and in the entry ids derived from its payments.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Mollie => "mollie",
        }
    }
}

/// Where the providers' APIs are (their real addresses, or a stand-in in tests) and where a
/// customer lands after paying. Per process: `serve --stripe-api`, `ARDOISE_STRIPE_API`, ...
#[derive(Clone, Debug)]
pub struct PayApis {
    pub stripe: String,
    pub mollie: String,
    /// This server's public address (`https://...`), for the page customers return to and for
    /// Mollie's per-payment webhook; `None`: Mollie payments carry no webhook URL (set it on
    /// the Mollie profile) and customers return to Stripe's or Mollie's own receipt.
    pub public_url: Option<String>,
    pub http: reqwest::Client,
}

impl PayApis {
    pub fn new(stripe: Option<String>, mollie: Option<String>, public_url: Option<String>) -> PayApis {
        let http = reqwest::Client::builder()
            // A reminder run must not hang on a provider: past this the reminder goes with the
            // shop's own link.
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("a reqwest client with rustls");
        let trim = |s: String| s.trim_end_matches('/').to_owned();
        PayApis {
            stripe: trim(stripe.unwrap_or_else(|| "https://api.stripe.com".into())),
            mollie: trim(mollie.unwrap_or_else(|| "https://api.mollie.com".into())),
            public_url: public_url.map(trim),
            http,
        }
    }

    /// The addresses from `ARDOISE_STRIPE_API`, `ARDOISE_MOLLIE_API` and `ARDOISE_PUBLIC_URL`,
    /// the providers' real ones otherwise.
    pub fn from_env() -> PayApis {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        PayApis::new(var("ARDOISE_STRIPE_API"), var("ARDOISE_MOLLIE_API"), var("ARDOISE_PUBLIC_URL"))
    }

    /// The page a customer returns to after paying.
    pub fn return_url(&self, provider: Provider) -> String {
        match (&self.public_url, provider) {
            (Some(u), _) => format!("{u}/v1/pay/done"),
            // Without an address of our own, the provider's own pages.
            (None, Provider::Stripe) => "https://checkout.stripe.com/".into(),
            (None, Provider::Mollie) => "https://www.mollie.com/".into(),
        }
    }
}

/// A payment session to create: what the customer is asked to pay and what it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRequest {
    pub shop: Uuid,
    /// The customer's reference in the shop.
    pub customer: String,
    /// The customer's payment reference (RF..., compact).
    pub payment_reference: String,
    /// The invoices' references, as printed.
    pub invoices: Vec<String>,
    pub amount: Money,
    /// What the customer reads on the payment page.
    pub description: String,
    /// The same key for the same request: a resend returns the session already made.
    pub idempotency_key: String,
}

/// A session made: where the customer pays, and the provider's id for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub url: String,
    pub id: String,
}

/// What a provider reported, verified: each becomes at most one entry in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// `payment` (the provider's id: a PaymentIntent, a Checkout Session, a Mollie payment)
    /// was paid by `customer` (their reference or RF...).
    Paid { payment: String, customer: String, amount: Money, invoices: Vec<String> },
    /// Part or all of `payment` was given back (`refund` is the provider's id of that refund).
    Refunded { payment: String, refund: String, amount: Money },
    /// The bank took `amount` of `payment` back (a chargeback) pending the dispute: what was
    /// not refunded already.
    Disputed { payment: String, dispute: String, amount: Money },
    /// The shop won the dispute: the money came back.
    DisputeWon { payment: String, dispute: String, amount: Money },
}

/// Why a provider's API did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Down, slow or answering 5xx/429: worth trying again later.
    #[error("{0}: unavailable: {1}")]
    Unavailable(&'static str, String),
    /// A 4xx: the request (or the key) is wrong; retrying will not help.
    #[error("{0}: refused: {1}")]
    Refused(&'static str, String),
    /// Not what the provider documents.
    #[error("{0}: unexpected answer: {1}")]
    Unexpected(&'static str, String),
}

/// Classifies an HTTP answer of `provider`'s API; the body of a refusal is kept (it says what
/// was wrong) but never the request, which carries the key.
pub(crate) async fn answer(
    provider: &'static str,
    r: reqwest::Result<reqwest::Response>,
) -> Result<serde_json::Value, ApiError> {
    let r = r.map_err(|e| ApiError::Unavailable(provider, e.without_url().to_string()))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| ApiError::Unavailable(provider, e.to_string()))?;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(ApiError::Unavailable(provider, format!("{status}")));
    }
    if !status.is_success() {
        let short: String = text.chars().take(300).collect();
        return Err(ApiError::Refused(provider, format!("{status}: {short}")));
    }
    serde_json::from_str(&text).map_err(|e| ApiError::Unexpected(provider, e.to_string()))
}

/// What every session carries, for the webhook to know whose payment it is.
pub(crate) fn metadata(req: &SessionRequest) -> Vec<(&'static str, String)> {
    vec![
        ("shop", req.shop.to_string()),
        ("customer", req.customer.clone()),
        ("payment_reference", req.payment_reference.clone()),
        ("invoices", req.invoices.join(",")),
    ]
}
