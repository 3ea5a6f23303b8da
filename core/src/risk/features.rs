//! What was known about one customer's payments on a given date, as numbers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// One invoice as recorded: what the risk model may learn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceFact {
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    /// Day the invoice was fully paid; a settlement after `as_of` counts as still open.
    pub settled_on: Option<NaiveDate>,
    /// Whether the customer disputed it. Only read once the invoice is settled: when a dispute was
    /// raised is not recorded, so an open invoice's flag could come from the future.
    pub disputed: bool,
    /// Sent to the customer by email rather than on paper: known the day it is issued.
    pub paperless: bool,
}

/// Late share a customer with no history is assumed to have, and how many invoices that guess is
/// worth. 0.35 is about the share of late invoices in the IBM sample; the model's intercept and
/// weights correct it for each shop.
const PRIOR_LATE_SHARE: f64 = 0.35;
const PRIOR_LATE_WEIGHT: f64 = 2.0;
/// Days between the due date and settlement assumed without history (a little early), worth one
/// invoice.
const PRIOR_DAYS_VS_DUE: f64 = -6.0;
/// A shop's settlement habits that the timing feature needs, estimated from the shop's own history
/// known on the training date ([`Habits::estimate`]) like the model's weights, and kept in the
/// [`Model`](super::Model): nothing in them is read from a fixed data set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Habits {
    /// How much later a disputed invoice is settled than the same customer's undisputed ones, in
    /// days (about 14 on the IBM sample before 2013-06-09).
    pub dispute_delay_days: f64,
    /// Standard deviation of an undisputed settlement around the customer's own mean, in days
    /// (about 5.3 on the IBM sample before 2013-06-09).
    pub settle_spread_days: f64,
    /// How much later an invoice sent on paper is settled than the same customer's invoices sent
    /// by email, in days.
    #[serde(default)]
    pub paper_delay_days: f64,
}

/// How many disputed invoices, and how many degrees of freedom of the spread, the prior's habits
/// are worth when [`Habits::estimate`] shrinks the shop's figures toward them.
const HABITS_PRIOR_WEIGHT: f64 = 5.0;

impl Habits {
    /// Habits assumed knowing nothing about any shop: no dispute delay, a week's spread. The flat
    /// prior that [`Model::default_prior`](super::Model::default_prior) was fitted from.
    pub const AGNOSTIC: Habits = Habits { dispute_delay_days: 0.0, settle_spread_days: 7.0, paper_delay_days: 0.0 };

    /// The habits of the shop whose customers' invoices are `histories`, from what was settled by
    /// the end of `as_of`, each figure shrunk toward `prior`'s with the weight of five
    /// observations. Dispute delay: a disputed invoice's settlement day minus the mean of the same
    /// customer's undisputed ones, averaged over the disputed invoices of customers who have both.
    /// Spread: the pooled within-customer standard deviation of undisputed settlement days.
    /// Linear in the number of invoices.
    pub fn estimate(histories: &[&[InvoiceFact]], as_of: NaiveDate, prior: &Habits) -> Habits {
        let (mut delay_sum, mut delay_n) = (0.0, 0.0);
        let (mut paper_sum, mut paper_n) = (0.0, 0.0);
        let (mut squares, mut dof) = (0.0, 0.0);
        for history in histories {
            // Undisputed settlements by channel (paper, email): count, sum, sum of squares.
            let mut und = [(0.0, 0.0, 0.0); 2];
            let (mut dis_n, mut dis_sum) = (0.0, 0.0);
            for fact in history.iter().filter(|x| x.issued_on <= as_of) {
                let Some(settled) = fact.settled_on.filter(|s| *s <= as_of) else { continue };
                let vs_due = (settled - fact.due_on).num_days() as f64;
                if fact.disputed {
                    dis_n += 1.0;
                    dis_sum += vs_due;
                } else {
                    let c = &mut und[usize::from(fact.paperless)];
                    c.0 += 1.0;
                    c.1 += vs_due;
                    c.2 += vs_due * vs_due;
                }
            }
            let (und_n, und_sum) = (und[0].0 + und[1].0, und[0].1 + und[1].1);
            if und_n >= 1.0 && dis_n >= 1.0 {
                delay_sum += dis_sum - dis_n * und_sum / und_n;
                delay_n += dis_n;
            }
            let [(pn, ps, _), (en, es, _)] = und;
            if pn >= 1.0 && en >= 1.0 {
                // Weighted by the precision of the difference of the two means.
                let w = pn * en / (pn + en);
                paper_sum += w * (ps / pn - es / en);
                paper_n += w;
            }
            for (n, sum, sq) in und {
                if n >= 2.0 {
                    squares += (sq - sum * sum / n).max(0.0);
                    dof += n - 1.0;
                }
            }
        }
        let w = HABITS_PRIOR_WEIGHT;
        Habits {
            dispute_delay_days: (delay_sum + w * prior.dispute_delay_days) / (delay_n + w),
            settle_spread_days: ((squares + w * prior.settle_spread_days.powi(2)) / (dof + w)).sqrt(),
            paper_delay_days: (paper_sum + w * prior.paper_delay_days) / (paper_n + w),
        }
    }
}

/// What is known of the invoice about to be issued: its amount if given, and whether it will be
/// sent by email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Next {
    pub amount: Option<Money>,
    pub paperless: bool,
}

impl Next {
    /// The invoice `fact`, as it was known the day it was issued.
    pub fn of(fact: &InvoiceFact) -> Next {
        Next { amount: Some(fact.amount), paperless: fact.paperless }
    }
}

/// Invoices counted as "recent" in the reasons.
pub(crate) const RECENT: usize = 6;

/// One customer's history summarised as of a date. All amounts are in currency units (not cents).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Invoices whose outcome (on time or late) was known: settled, or open and past due.
    pub history_count: f64,
    pub late_count: f64,
    /// Late share smoothed toward 0.35 with the weight of two invoices, so that one late
    /// invoice out of one is not a certainty.
    pub late_share: f64,
    /// Among the last [`RECENT`] known outcomes by issue date.
    pub recent_count: f64,
    pub recent_late: f64,
    pub settled_count: f64,
    /// Mean of (settlement - due date) in days over settled invoices: negative = early.
    pub mean_days_vs_due: f64,
    pub disputed_count: f64,
    /// Log-odds of a late payment implied by the customer's settlement timing and dispute habit:
    /// the customer's usual settlement day (disputed invoices taken back by the dispute delay), a
    /// normal spread around it, and the chance of a dispute pushing it later. It lets a customer
    /// who always pays a day before the due date look riskier than one who pays three weeks early,
    /// which a late share of zero for both cannot.
    pub timing_risk: f64,
    /// Days the next invoice's settlement is expected later because it goes on paper, not by
    /// email (the shop's paper delay; 0 by email).
    pub paper_shift_days: f64,
    pub open_count: f64,
    pub open_amount: f64,
    /// Age in days of the oldest invoice still open (0 if none).
    pub oldest_open_days: f64,
    pub overdue_count: f64,
    pub overdue_amount: f64,
    /// Days past due of the most overdue open invoice (0 if none).
    pub overdue_days: f64,
    /// Mean amount of the customer's invoices so far (0 if none).
    pub usual_amount: f64,
    /// Amount of the invoice being scored; the usual amount when not given.
    pub next_amount: f64,
}

fn units(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// What [`Features`] are computed from: counts and sums in whole days and cents (so that the
/// order in which invoices are added does not change a bit of the result), the open invoices'
/// extreme dates, and the last known outcomes. Filled by [`features`] from scratch, or kept up to
/// date by a [`Sweep`].
#[derive(Clone, Debug, Default)]
struct Summary {
    known: i64,
    amount_cents: i64,
    settled: i64,
    disputed: i64,
    /// Settled invoices that were sent on paper.
    paper: i64,
    /// Sum of (settlement - due date) in days over settled invoices.
    days_vs_due: i64,
    history: i64,
    late: i64,
    /// Late or not, of the last [`RECENT`] known outcomes in issue order, oldest first.
    recent: Vec<bool>,
    open: i64,
    open_cents: i64,
    oldest_open_issue: Option<NaiveDate>,
    overdue: i64,
    overdue_cents: i64,
    oldest_overdue_due: Option<NaiveDate>,
}

impl Summary {
    fn finish(&self, as_of: NaiveDate, next: Next, habits: &Habits) -> Features {
        let Habits { dispute_delay_days: delay, settle_spread_days: spread, paper_delay_days: paper_delay } = *habits;
        let mut f = Features {
            history_count: self.history as f64,
            late_count: self.late as f64,
            recent_count: self.recent.len() as f64,
            recent_late: self.recent.iter().filter(|late| **late).count() as f64,
            settled_count: self.settled as f64,
            disputed_count: self.disputed as f64,
            open_count: self.open as f64,
            open_amount: units(self.open_cents),
            oldest_open_days: self.oldest_open_issue.map_or(0.0, |d| (as_of - d).num_days() as f64),
            overdue_count: self.overdue as f64,
            overdue_amount: units(self.overdue_cents),
            overdue_days: self.oldest_overdue_due.map_or(0.0, |d| (as_of - d).num_days() as f64),
            ..Features::default()
        };
        f.late_share = (f.late_count + PRIOR_LATE_WEIGHT * PRIOR_LATE_SHARE) / (f.history_count + PRIOR_LATE_WEIGHT);
        let days = self.days_vs_due as f64;
        f.mean_days_vs_due = if self.settled > 0 { days / f.settled_count } else { 0.0 };

        // Disputed invoices taken back by the dispute delay, paper ones by the paper delay: the
        // usual settlement day of an undisputed invoice sent by email.
        let habit = (days - delay * f.disputed_count - paper_delay * self.paper as f64 + PRIOR_DAYS_VS_DUE)
            / (f.settled_count + 1.0);
        f.paper_shift_days = if next.paperless { 0.0 } else { paper_delay };
        let habit = habit + f.paper_shift_days;
        let dispute_chance = (f.disputed_count + 0.5) / (f.settled_count + 2.0);
        // Settled on due date + 1 or later is late; 0.5 is the continuity correction for whole days.
        let late_if = |shift: f64| normal_cdf((habit + shift - 0.5) / spread);
        let p = dispute_chance * late_if(delay) + (1.0 - dispute_chance) * late_if(0.0);
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        f.timing_risk = (p / (1.0 - p)).ln();

        f.usual_amount = if self.known > 0 { units(self.amount_cents) / self.known as f64 } else { 0.0 };
        f.next_amount = next.amount.map_or(f.usual_amount, |m| units(m.minor()));
        f
    }
}

/// Summarises `history` as it stood at the end of `as_of`: invoices issued after it are ignored,
/// settlements after it count as not yet happened. `next` is what is known of the invoice about
/// to be issued. O(n log n) in the history's length (one sort of the outcomes).
/// For many dates of one history, the crate's `Sweep` (used by training) gives the same features
/// in one pass.
pub fn features(history: &[InvoiceFact], as_of: NaiveDate, next: Next, habits: &Habits) -> Features {
    let mut s = Summary::default();
    // (issue date, position in `history`, late): the position breaks ties as a sweep does.
    let mut outcomes: Vec<(NaiveDate, usize, bool)> = Vec::new();
    for (i, fact) in history.iter().enumerate().filter(|(_, x)| x.issued_on <= as_of) {
        s.known += 1;
        s.amount_cents += fact.amount.minor();
        match fact.settled_on.filter(|d| *d <= as_of) {
            Some(settled) => {
                s.settled += 1;
                s.days_vs_due += (settled - fact.due_on).num_days();
                s.disputed += i64::from(fact.disputed);
                s.paper += i64::from(!fact.paperless);
                outcomes.push((fact.issued_on, i, settled > fact.due_on));
            }
            None => {
                s.open += 1;
                s.open_cents += fact.amount.minor();
                s.oldest_open_issue = Some(s.oldest_open_issue.map_or(fact.issued_on, |d| d.min(fact.issued_on)));
                // Unpaid after its due date: late for sure, whatever happens next.
                if fact.due_on < as_of {
                    s.overdue += 1;
                    s.overdue_cents += fact.amount.minor();
                    s.oldest_overdue_due = Some(s.oldest_overdue_due.map_or(fact.due_on, |d| d.min(fact.due_on)));
                    outcomes.push((fact.issued_on, i, true));
                }
            }
        }
    }
    outcomes.sort_unstable();
    s.history = outcomes.len() as i64;
    s.late = outcomes.iter().filter(|o| o.2).count() as i64;
    s.recent = outcomes[outcomes.len().saturating_sub(RECENT)..].iter().map(|o| o.2).collect();
    s.finish(as_of, next, habits)
}

/// What happens to an invoice on a date, in the order applied on the same date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Issued,
    /// Still unpaid the day after its due date: overdue, and late whatever happens next.
    Overdue,
    Settled,
}

/// One customer's [`features`] at a series of dates in increasing order, in one chronological
/// sweep: each invoice's issue, due date passing and settlement update a running summary, so
/// featurising every invoice of a history costs O(n log n) instead of O(n²). Gives exactly what
/// [`features`] gives on the same dates (the `sweep_equals_features` test).
pub(crate) struct Sweep<'a> {
    history: &'a [InvoiceFact],
    /// (date, event, invoice's position), sorted; `next` is the first not yet applied.
    events: Vec<(NaiveDate, Event, usize)>,
    next: usize,
    summary: Summary,
    /// Known outcomes by (issue date, position): late or not.
    outcomes: BTreeMap<(NaiveDate, usize), bool>,
    open: BTreeSet<(NaiveDate, usize)>,
    /// Open and past due, by (due date, position).
    overdue: BTreeSet<(NaiveDate, usize)>,
    last: Option<NaiveDate>,
}

impl<'a> Sweep<'a> {
    pub(crate) fn new(history: &'a [InvoiceFact]) -> Self {
        let mut events = Vec::with_capacity(history.len() * 2);
        for (i, fact) in history.iter().enumerate() {
            events.push((fact.issued_on, Event::Issued, i));
            // As `features` reads it: settled once both issued and paid.
            let settled = fact.settled_on.map(|d| d.max(fact.issued_on));
            let overdue = fact.due_on.succ_opt().map(|d| d.max(fact.issued_on));
            if let Some(o) = overdue.filter(|o| settled.is_none_or(|s| *o < s)) {
                events.push((o, Event::Overdue, i));
            }
            if let Some(s) = settled {
                events.push((s, Event::Settled, i));
            }
        }
        events.sort_unstable();
        Sweep {
            history,
            events,
            next: 0,
            summary: Summary::default(),
            outcomes: BTreeMap::new(),
            open: BTreeSet::new(),
            overdue: BTreeSet::new(),
            last: None,
        }
    }

    /// [`features`]`(history, as_of, next, habits)`. Dates must not go backwards.
    pub(crate) fn at(&mut self, as_of: NaiveDate, next: Next, habits: &Habits) -> Features {
        assert!(self.last.is_none_or(|l| l <= as_of), "a sweep goes forward in time");
        self.last = Some(as_of);
        while let Some(&(_, event, i)) = self.events.get(self.next).filter(|e| e.0 <= as_of) {
            self.apply(event, i);
            self.next += 1;
        }
        let s = &mut self.summary;
        s.oldest_open_issue = self.open.first().map(|o| o.0);
        s.oldest_overdue_due = self.overdue.first().map(|o| o.0);
        s.recent.clear();
        s.recent.extend(self.outcomes.values().rev().take(RECENT).rev());
        s.finish(as_of, next, habits)
    }

    fn apply(&mut self, event: Event, i: usize) {
        let history = self.history;
        let fact = &history[i];
        let s = &mut self.summary;
        let cents = fact.amount.minor();
        match event {
            Event::Issued => {
                s.known += 1;
                s.amount_cents += cents;
                s.open += 1;
                s.open_cents += cents;
                self.open.insert((fact.issued_on, i));
            }
            Event::Overdue => {
                s.overdue += 1;
                s.overdue_cents += cents;
                self.overdue.insert((fact.due_on, i));
                self.known_outcome(i, true);
            }
            Event::Settled => {
                let settled = fact.settled_on.expect("a settlement event has a date");
                let s = &mut self.summary;
                s.open -= 1;
                s.open_cents -= cents;
                self.open.remove(&(fact.issued_on, i));
                s.settled += 1;
                s.days_vs_due += (settled - fact.due_on).num_days();
                s.disputed += i64::from(fact.disputed);
                s.paper += i64::from(!fact.paperless);
                if self.overdue.remove(&(fact.due_on, i)) {
                    // Already known late since its due date passed.
                    s.overdue -= 1;
                    s.overdue_cents -= cents;
                } else {
                    self.known_outcome(i, settled > fact.due_on);
                }
            }
        }
    }

    fn known_outcome(&mut self, i: usize, late: bool) {
        self.outcomes.insert((self.history[i].issued_on, i), late);
        self.summary.history += 1;
        self.summary.late += i64::from(late);
    }
}

/// Standard normal distribution function (Abramowitz & Stegun 7.1.26, error below 1.5e-7): no
/// crate for one formula.
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
pub(crate) fn normal_cdf_for_tests(z: f64) -> f64 {
    normal_cdf(z)
}
