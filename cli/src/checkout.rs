//! `ardoise checkout`: may this customer buy on account now, and a manager's override.

use ardoise_core::{Decision, Override};
use clap::Args;
use serde::Serialize;

use crate::output::{self, Failure, VerdictJson, say};
use crate::till::{Ctx, When, money};

#[derive(Debug, Args)]
pub struct CheckoutArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// The cart total to put on account, e.g. 42.80
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    /// A manager allows this amount on account today despite a refusal
    #[arg(long, value_name = "MANAGER", requires = "reason")]
    override_by: Option<String>,
    /// Why the manager allows it
    #[arg(long, requires = "override_by")]
    reason: Option<String>,
    #[command(flatten)]
    when: When,
}

#[derive(Serialize)]
struct CheckoutJson<'a> {
    #[serde(flatten)]
    verdict: VerdictJson<'a>,
    /// Present when an override was asked for: the override recorded, or null when the
    /// verdict did not refuse and none was needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    r#override: Option<Option<&'a Override>>,
}

pub fn run(ctx: &Ctx, a: CheckoutArgs) -> Result<(), Failure> {
    let amount = money(&a.amount)?;
    let (_, now) = a.when.resolve()?;
    let store = ctx.store()?;
    let verdict = store.check(&a.customer, amount, now)?;
    // An override is only recorded against a refusal: one stored for an allowed sale would sit
    // unused and could later cover a sale nobody meant it for.
    let recorded = match (&a.override_by, &a.reason) {
        (Some(manager), Some(reason)) if verdict.decision == Decision::Refuse => {
            Some(Some(store.override_checkout(&a.customer, amount, manager, reason, now)?))
        }
        (Some(_), _) => Some(None),
        _ => None,
    };
    if ctx.json {
        let body =
            CheckoutJson { verdict: VerdictJson::new(&verdict), r#override: recorded.as_ref().map(Option::as_ref) };
        return output::print_json(&body);
    }
    say!("{}", output::verdict_block(&verdict));
    match recorded {
        Some(Some(ov)) => say!(
            "Override recorded: {} allows up to {} EUR on account for {} on {} ({}). The next sale within it goes through.",
            ov.manager,
            ov.amount,
            ov.customer_ref,
            ov.business_date,
            ov.reason
        ),
        Some(None) => say!("No override recorded: on account is not refused."),
        None => {}
    }
    Ok(())
}
