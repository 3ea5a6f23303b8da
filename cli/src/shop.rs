//! `ardoise shop ...`: the shop's name and contact details, which every reminder quotes, and
//! its reminder rules.

use ardoise_core::{LegalDocument, ShopIdentity, ShopSettings, Store};
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::{Ctx, When};

#[derive(Debug, Subcommand)]
pub enum ShopCmd {
    /// The shop's details and reminder rules
    Show,
    /// Change the details reminders quote (name, phone, email, address, payment link) and the
    /// reminder rules; creates the database if it does not exist yet
    Set(Box<SetArgs>),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The shop's name, as reminders sign it
    #[arg(long)]
    name: Option<String>,
    /// The phone number customers call back
    #[arg(long)]
    phone: Option<String>,
    /// The email address customers write to
    #[arg(long)]
    email: Option<String>,
    /// The shop's postal address, at the top of a formal notice
    #[arg(long)]
    address: Option<String>,
    /// Where customers pay online: an https:// address that may use {customer_ref},
    /// {payment_reference} (the RF reference, compact) and {amount}
    /// ("" removes it; reminders then say to pay at the shop)
    #[arg(long, value_name = "URL")]
    payment_url: Option<String>,
    /// The registered name, as a formal notice and a court file state it
    #[arg(long)]
    legal_name: Option<String>,
    /// SARL, SAS, EI...
    #[arg(long)]
    legal_form: Option<String>,
    /// 14 digits (spaces allowed), checked with its Luhn key
    #[arg(long)]
    siret: Option<String>,
    /// Intra-community VAT number (FR + key + SIREN), checked against the SIRET
    #[arg(long)]
    vat_number: Option<String>,
    /// The town of the trade registry (RCS)
    #[arg(long)]
    rcs_city: Option<String>,
    /// The registered address ("\n" or a line break between lines)
    #[arg(long)]
    legal_address: Option<String>,
    /// Who signs formal notices and court files
    #[arg(long)]
    representative: Option<String>,
    /// The signatory's role: gérant, président...
    #[arg(long)]
    representative_role: Option<String>,
    /// Where customers pay by transfer, checked with its mod-97 key ("" removes it)
    #[arg(long)]
    iban: Option<String>,
    /// Fewest days between two reminders to the same customer
    #[arg(long, value_name = "DAYS")]
    min_gap_days: Option<u32>,
    /// Days an instalment may be late before a payment plan counts as broken
    #[arg(long, value_name = "DAYS")]
    plan_grace_days: Option<u32>,
    /// Charge business customers the penalties and the 40 EUR indemnity when the formal notice goes
    #[arg(long, value_name = "true|false")]
    penalty_fees_business: Option<bool>,
    /// Charge consumers the penalties when the formal notice goes
    #[arg(long, value_name = "true|false")]
    penalty_fees_consumer: Option<bool>,
    #[command(flatten)]
    when: When,
}

pub fn run(ctx: &Ctx, cmd: ShopCmd) -> Result<(), Failure> {
    match cmd {
        ShopCmd::Show => {
            let store = ctx.store()?;
            print(ctx, &store.settings())
        }
        ShopCmd::Set(a) => set(ctx, *a),
    }
}

fn set(ctx: &Ctx, a: SetArgs) -> Result<(), Failure> {
    let (_, now) = a.when.resolve()?;
    let existing = ctx.db_path().exists();
    let current = if existing { (*ctx.store()?.settings()).clone() } else { ShopSettings::default() };
    let mut s = current;
    if let Some(v) = a.name {
        s.shop_name = v.trim().to_owned();
    }
    if let Some(v) = a.phone {
        s.shop_phone = v.trim().to_owned();
    }
    if let Some(v) = a.email {
        s.shop_email = v.trim().to_owned();
    }
    if let Some(v) = a.address {
        s.shop_address = v.trim().to_owned();
    }
    if let Some(v) = a.payment_url {
        s.payment_url = Some(v.trim().to_owned()).filter(|u| !u.is_empty());
    }
    let id = &mut s.identity;
    for (value, field) in [
        (a.legal_name, &mut id.legal_name),
        (a.legal_form, &mut id.legal_form),
        (a.siret, &mut id.siret),
        (a.vat_number, &mut id.vat_number),
        (a.rcs_city, &mut id.rcs_city),
        (a.legal_address.map(|v| v.replace("\\n", "\n")), &mut id.address),
        (a.representative, &mut id.representative),
        (a.representative_role, &mut id.representative_role),
        (a.iban, &mut id.iban),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    s.identity = std::mem::take(&mut s.identity).normalised();
    if let Some(v) = a.min_gap_days {
        s.dunning.min_gap_days = v;
    }
    if let Some(v) = a.plan_grace_days {
        s.dunning.plan_grace_days = v;
    }
    if let Some(v) = a.penalty_fees_business {
        s.dunning.penalty_fees_business = v;
    }
    if let Some(v) = a.penalty_fees_consumer {
        s.dunning.penalty_fees_consumer = v;
    }
    if !existing {
        // As for a first customer: settings the core refuses must not leave an empty file behind.
        Store::open_in_memory()?.set_settings(s.clone(), now)?;
    }
    let store = ctx.create_store()?;
    store.set_settings(s, now)?;
    if !ctx.json {
        say!("Shop settings saved.");
    }
    print(ctx, &store.settings())
}

fn print(ctx: &Ctx, s: &ShopSettings) -> Result<(), Failure> {
    if ctx.json {
        return output::print_json(s);
    }
    let d = &s.dunning;
    let id = &s.identity;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut rows = vec![
        ("name", s.shop_name.clone()),
        ("phone", s.shop_phone.clone()),
        ("email", s.shop_email.clone()),
        ("address", s.shop_address.clone()),
        ("payment link", s.payment_url.clone().unwrap_or_else(|| "none (pay at the shop)".into())),
        ("legal name", or_unset(&id.legal_name)),
        ("legal form", or_unset(&id.legal_form)),
        ("SIRET", or_unset(&id.siret)),
        ("VAT number", or_unset(&id.vat_number)),
        ("RCS", or_unset(&id.rcs_city)),
        ("registered address", or_unset(&id.address.replace('\n', ", "))),
        ("representative", or_unset(&format!("{} {}", id.representative, paren(&id.representative_role)))),
        ("IBAN", or_unset(&ardoise_core::identity::iban_grouped(&id.iban))),
        ("ready for formal notices", ready(id, LegalDocument::FormalNotice)),
        ("ready for court files", ready(id, LegalDocument::CourtFile)),
        ("days between reminders", d.min_gap_days.to_string()),
        ("SMS hours", format!("{}:00 to {}:00, not on Sunday", d.sms_from_hour, d.sms_until_hour)),
        ("plan grace days", d.plan_grace_days.to_string()),
        ("penalty fees, businesses", yes_no(d.penalty_fees_business).to_owned()),
        ("penalty fees, consumers", yes_no(d.penalty_fees_consumer).to_owned()),
        ("warn when overdue for", output::count(s.checkout.warn_overdue_days as usize, "day", "days")),
        ("refuse when overdue for", output::count(s.checkout.refuse_overdue_days as usize, "day", "days")),
        ("default credit limit", output::limit_text(s.checkout.default_credit_limit)),
    ];
    rows.extend(crate::sync::offline_rows(&s.checkout));
    say!("{}", output::fields(&rows));
    Ok(())
}

fn or_unset(v: &str) -> String {
    if v.trim().is_empty() { "not set".to_owned() } else { v.trim().to_owned() }
}

fn paren(v: &str) -> String {
    if v.trim().is_empty() { String::new() } else { format!("({})", v.trim()) }
}

fn ready(id: &ShopIdentity, document: LegalDocument) -> String {
    let missing = id.missing_for(document);
    if missing.is_empty() { "yes".to_owned() } else { format!("no: set {}", missing.join(", ")) }
}
