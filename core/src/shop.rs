//! The shop's own settings: its name and contact details, where customers pay online, and the
//! rules of its checkout and of its reminders. Shop data, synced to every device.

use serde::{Deserialize, Serialize};

use crate::checkout::CheckoutRules;
use crate::customer::Customer;
use crate::dunning::run::DunningRules;
use crate::error::{Error, Result};
use crate::identity::ShopIdentity;
use crate::money::Money;

/// Shop-wide settings, synced later like any other shop data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShopSettings {
    pub shop_name: String,
    pub shop_phone: String,
    pub shop_email: String,
    pub shop_address: String,
    /// Where customers pay online, with `{customer_ref}`, `{payment_reference}` (the ISO 11649
    /// reference, compact) and `{amount}` filled in; `None`: no link, reminders say to pay at
    /// the shop.
    pub payment_url: Option<String>,
    /// Who the shop is in law, for formal notices and court files. Absent from settings written
    /// before it existed: they read as empty, so the settings row needs no migration.
    pub identity: ShopIdentity,
    pub checkout: CheckoutRules,
    pub dunning: DunningRules,
}

impl ShopSettings {
    pub fn validate(&self) -> Result<()> {
        self.checkout.validate()?;
        self.dunning.validate()?;
        self.identity.validate()?;
        if let Some(url) = &self.payment_url {
            let rest = url.replace("{customer_ref}", "").replace("{payment_reference}", "").replace("{amount}", "");
            if !url.starts_with("https://") || rest.contains(['{', '}']) {
                return Err(Error::Invalid {
                    field: "payment url",
                    reason: format!(
                        "{url:?}: an https:// address that may use {{customer_ref}}, {{payment_reference}} and {{amount}}"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The customer's payment page for `amount`, when the shop has one. Reminders, letters and
    /// statements all build it here, so the page a customer lands on is the same from each.
    pub fn payment_link(&self, customer: &Customer, amount: Money) -> Option<String> {
        self.payment_url.as_ref().map(|u| {
            u.replace("{customer_ref}", &customer.reference)
                .replace("{payment_reference}", customer.payment_reference().as_str())
                .replace("{amount}", &amount.to_string())
        })
    }
}

/// What a till edits of the settings, flat: the shop's name and contacts as reminders print
/// them, and its rules for reminders. Its legal identity and checkout rules are set elsewhere
/// (the back office, the CLI; the till's `checkout_rules`), and kept as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "ShopSettings"))]
pub struct ReminderSettings {
    pub shop_name: String,
    pub shop_phone: String,
    pub shop_email: String,
    pub shop_address: String,
    /// An https:// address to pay online, which may use `{customer_ref}`,
    /// `{payment_reference}` and `{amount}`; `None`: reminders say to pay at the shop.
    pub payment_url: Option<String>,
    /// Fewest days between two contacts with the same customer.
    pub min_gap_days: u32,
    /// SMS only between these hours (the till's local time), never on Sunday.
    pub sms_from_hour: u32,
    pub sms_until_hour: u32,
    /// Days an instalment may be late before a payment plan counts as broken.
    pub plan_grace_days: u32,
    /// Add the penalties and the indemnity to the account when the formal notice goes.
    pub penalty_fees_business: bool,
    pub penalty_fees_consumer: bool,
    /// A contract penalty rate for business customers, in percent ("12.5").
    pub contract_rate_pct: Option<rust_decimal::Decimal>,
}

impl ShopSettings {
    pub fn reminder_settings(&self) -> ReminderSettings {
        let d = &self.dunning;
        ReminderSettings {
            shop_name: self.shop_name.clone(),
            shop_phone: self.shop_phone.clone(),
            shop_email: self.shop_email.clone(),
            shop_address: self.shop_address.clone(),
            payment_url: self.payment_url.clone(),
            min_gap_days: d.min_gap_days,
            sms_from_hour: d.sms_from_hour,
            sms_until_hour: d.sms_until_hour,
            plan_grace_days: d.plan_grace_days,
            penalty_fees_business: d.penalty_fees_business,
            penalty_fees_consumer: d.penalty_fees_consumer,
            contract_rate_pct: d.contract_rate_pct,
        }
    }

    /// These settings with `r` over them (the identity and checkout rules kept).
    pub fn with_reminder_settings(&self, r: ReminderSettings) -> ShopSettings {
        ShopSettings {
            shop_name: r.shop_name,
            shop_phone: r.shop_phone,
            shop_email: r.shop_email,
            shop_address: r.shop_address,
            payment_url: r.payment_url,
            identity: self.identity.clone(),
            checkout: self.checkout.clone(),
            dunning: DunningRules {
                min_gap_days: r.min_gap_days,
                sms_from_hour: r.sms_from_hour,
                sms_until_hour: r.sms_until_hour,
                plan_grace_days: r.plan_grace_days,
                penalty_fees_business: r.penalty_fees_business,
                penalty_fees_consumer: r.penalty_fees_consumer,
                contract_rate_pct: r.contract_rate_pct,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::NewCustomer;

    #[test]
    fn the_payment_page_gets_the_customer_reference_and_amount() {
        let customer = Customer::from_new(
            uuid::Uuid::from_u128(0x1234_5678_9abc),
            NewCustomer { reference: "C7".into(), name: "Jean Petit".into(), ..Default::default() },
        )
        .unwrap();
        let mut shop = ShopSettings {
            payment_url: Some("https://pay.example.fr/{customer_ref}?ref={payment_reference}&amount={amount}".into()),
            ..Default::default()
        };
        shop.validate().unwrap();
        let link = shop.payment_link(&customer, Money::from_minor(1250)).unwrap();
        let reference = customer.payment_reference();
        assert_eq!(link, format!("https://pay.example.fr/C7?ref={}&amount=12.50", reference.as_str()));
        assert!(!link.contains(' '), "compact in a URL: {link}");
        shop.payment_url = Some("https://pay.example.fr/{payment_ref}".into());
        assert!(shop.validate().is_err(), "an unknown placeholder is refused");
        shop.payment_url = None;
        assert_eq!(shop.payment_link(&customer, Money::ZERO), None);
    }
}
