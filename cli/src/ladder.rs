//! `ardoise ladder ...`: the steps reminders climb, and which ladder (if any) a customer is on.

use ardoise_core::dunning::ladder::{Ladder, StepKind};
use clap::{ArgGroup, Args, Subcommand};

use crate::followup;
use crate::output::{self, Failure, say};
use crate::till::{Ctx, Recorder};

#[derive(Debug, Subcommand)]
pub enum LadderCmd {
    /// The steps of a ladder: when each comes after the due date, by which channel, with which text
    Show {
        /// The ladder's name
        #[arg(default_value = "default")]
        name: String,
    },
    /// Put a customer on another ladder, back on the default one, or out of reminders altogether
    SetCustomer(SetCustomerArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ladder", "exclude", "default"])))]
pub struct SetCustomerArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// The ladder to follow
    #[arg(long, value_name = "NAME")]
    ladder: Option<String>,
    /// No reminders at all for this customer
    #[arg(long)]
    exclude: bool,
    /// Back on the default ladder (and no longer excluded)
    #[arg(long)]
    default: bool,
    #[command(flatten)]
    by: Recorder,
}

pub fn run(ctx: &Ctx, cmd: LadderCmd) -> Result<(), Failure> {
    match cmd {
        LadderCmd::Show { name } => {
            let store = ctx.store()?;
            let ladder = store.ladder(&name)?;
            if ctx.json {
                return output::print_json(&ladder);
            }
            say!("{}", table(&ladder));
            Ok(())
        }
        LadderCmd::SetCustomer(a) => {
            let (author, now) = a.by.resolve(ctx)?;
            let store = ctx.store()?;
            store.set_customer_ladder(&a.customer, a.ladder.as_deref(), a.exclude, &author, now)?;
            followup::print_recorded(ctx, &store, &a.customer, now)
        }
    }
}

fn table(l: &Ladder) -> String {
    let mut t =
        output::table(&["#", "step", "days after due", "channel", "template", "tone", "kind", "fee"], &[0, 2, 7]);
    for (i, s) in l.steps.iter().enumerate() {
        let kind = match s.kind {
            StepKind::Reminder => "reminder",
            StepKind::FormalNotice => "formal notice",
            StepKind::CourtFile => "court file",
        };
        t.add_row(vec![
            i.to_string(),
            s.name.clone(),
            format!("{:+}", s.offset_days),
            s.channel.as_str().replace('_', " "),
            s.template.clone(),
            format!("{:?}", s.tone).to_lowercase(),
            kind.to_owned(),
            s.fee.map(|f| f.to_string()).unwrap_or_default(),
        ]);
    }
    format!("Ladder {:?}\n{t}", l.name)
}
