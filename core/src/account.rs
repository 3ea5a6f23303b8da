//! The account fold: how each entry changes what a customer owes, invoice by invoice.
//!
//! Pure and deterministic, so every device folding the same entries in the same order gets the
//! same open invoices. The store loads the part of an account an entry touches, applies the
//! entry here, and writes the changed rows back in the entry's transaction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entry::{Entry, EntryBody, OrderKey};
use crate::money::Money;

/// Something the customer owes: an invoice from a sale, or a charge from an adjustment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub entry: Uuid,
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    /// Paid, credited or written off so far.
    pub settled: Money,
    pub cancelled: bool,
    /// A charge from an adjustment (a fee), not a sale: owed, but not a credit sale.
    #[serde(default)]
    pub charge: bool,
    /// The business date it stopped being open (paid off or cancelled); `None` while open.
    /// Reports as of a past date use it to find what was open then without replaying.
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    pub key: OrderKey,
    #[serde(skip)]
    pub dirty: bool,
}

impl Item {
    pub fn remaining(&self) -> Money {
        if self.cancelled { Money::ZERO } else { self.amount - self.settled }
    }

    pub fn is_open(&self) -> bool {
        self.remaining().is_positive()
    }
}

/// Money in the customer's favour waiting to settle items: a payment, credit note, write-off,
/// deposit applied or downward adjustment, with what is not yet allocated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLot {
    pub entry: Uuid,
    pub amount: Money,
    pub remaining: Money,
    pub cancelled: bool,
    pub key: OrderKey,
    #[serde(skip)]
    pub dirty: bool,
}

/// A deposit (acompte) held for the customer, used first in, first out. A lot can go negative
/// only when two offline devices spend the same deposit; the total then shows the overdraft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositLot {
    pub entry: Uuid,
    pub order_ref: Option<String>,
    pub amount: Money,
    pub remaining: Money,
    pub key: OrderKey,
    #[serde(skip)]
    pub dirty: bool,
}

/// `amount` of credit lot `source` settles item `item`, decided by entry `by`. A reversal
/// releases an allocation by adding a negative one: allocations are never rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub source: Uuid,
    pub item: Uuid,
    pub amount: Money,
    pub by: Uuid,
    /// The business date of `by`: when the money reached the item, for reports as of a date.
    pub on: NaiveDate,
}

/// The part of one customer's account that an entry needs (or all of it, for a full fold).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    /// What the customer owes; negative when they hold credit.
    pub balance: Money,
    /// Deposits held for them.
    pub deposits: Money,
    pub items: Vec<Item>,
    pub credits: Vec<CreditLot>,
    pub deposit_lots: Vec<DepositLot>,
    /// Allocations already stored that a reversal may release.
    pub allocations: Vec<Allocation>,
    /// Allocations made since loading, for the store to append.
    pub new_allocations: Vec<Allocation>,
    /// The business date of the entry being applied.
    pub(crate) on: NaiveDate,
}

impl AccountState {
    /// Applies one entry. `reversed` is the entry a reversal undoes; the caller has validated
    /// the entry, so the fold never fails: every device must reach the same state.
    pub fn apply(&mut self, entry: &Entry, reversed: Option<&Entry>) {
        let effect = entry.body.effect(reversed.map(|r| &r.body));
        self.on = entry.business_date;
        self.balance += effect.balance;
        self.deposits += effect.deposits;
        let key = entry.order_key();
        match &entry.body {
            EntryBody::Sale { amount, invoice_ref, due_on, .. } => {
                self.push_item(entry, invoice_ref, *due_on, *amount, false, key);
            }
            EntryBody::Adjustment { amount, reference, .. } if amount.is_positive() => {
                self.push_item(entry, reference, entry.business_date, *amount, true, key);
            }
            EntryBody::Adjustment { amount, .. } => self.add_credit(entry.id, amount.abs(), None, key),
            EntryBody::Payment { amount, invoice, .. }
            | EntryBody::CreditNote { amount, invoice, .. }
            | EntryBody::WriteOff { amount, invoice, .. } => self.add_credit(entry.id, *amount, *invoice, key),
            EntryBody::DepositApplied { amount, invoice } => {
                self.consume_deposits(entry.id, *amount, None, &key);
                self.add_credit(entry.id, *amount, *invoice, key);
            }
            EntryBody::DepositReceived { amount, order_ref, .. } => {
                self.deposit_lots.push(DepositLot {
                    entry: entry.id,
                    order_ref: order_ref.clone(),
                    amount: *amount,
                    remaining: *amount,
                    key,
                    dirty: true,
                });
            }
            EntryBody::DepositRefunded { amount, .. } => self.consume_deposits(entry.id, *amount, None, &key),
            EntryBody::Reversal { of, .. } => {
                let Some(original) = reversed else { return };
                match &original.body {
                    EntryBody::Sale { .. } => self.cancel_item(*of, entry.id),
                    EntryBody::Adjustment { amount, .. } if amount.is_positive() => self.cancel_item(*of, entry.id),
                    EntryBody::Adjustment { .. }
                    | EntryBody::Payment { .. }
                    | EntryBody::CreditNote { .. }
                    | EntryBody::WriteOff { .. } => self.cancel_credit(*of, entry.id),
                    EntryBody::DepositApplied { amount, .. } => {
                        self.cancel_credit(*of, entry.id);
                        self.restore_deposit(entry.id, *amount, key);
                    }
                    EntryBody::DepositReceived { amount, .. } => {
                        self.consume_deposits(entry.id, *amount, Some(*of), &key)
                    }
                    EntryBody::DepositRefunded { amount, .. } => self.restore_deposit(entry.id, *amount, key),
                    EntryBody::Reversal { .. } => {}
                }
            }
        }
    }

    /// Credit not yet allocated to any item (money the customer has on account).
    pub fn unallocated_credit(&self) -> Money {
        self.credits.iter().map(|c| c.remaining).sum()
    }

    pub fn open_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.is_open())
    }

    #[allow(clippy::too_many_arguments)]
    fn push_item(
        &mut self,
        entry: &Entry,
        reference: &str,
        due_on: NaiveDate,
        amount: Money,
        charge: bool,
        key: OrderKey,
    ) {
        self.items.push(Item {
            entry: entry.id,
            reference: reference.to_owned(),
            issued_on: entry.business_date,
            due_on,
            amount,
            settled: Money::ZERO,
            cancelled: false,
            charge,
            closed_on: None,
            key,
            dirty: true,
        });
        self.settle(entry.id);
    }

    fn add_credit(&mut self, entry: Uuid, amount: Money, aimed: Option<Uuid>, key: OrderKey) {
        self.credits.push(CreditLot { entry, amount, remaining: amount, cancelled: false, key, dirty: true });
        if let Some(target) = aimed {
            let lot = self.credits.len() - 1;
            if let Some(item) = self.items.iter().position(|i| i.entry == target && i.is_open()) {
                self.allocate(lot, item, entry);
            }
        }
        self.settle(entry);
    }

    /// Moves every unallocated credit onto open items: oldest credit first, oldest due item first.
    fn settle(&mut self, by: Uuid) {
        let mut lots: Vec<usize> =
            (0..self.credits.len()).filter(|&i| self.credits[i].remaining.is_positive()).collect();
        if lots.is_empty() {
            return;
        }
        lots.sort_by(|&a, &b| self.credits[a].key.cmp(&self.credits[b].key));
        let mut items: Vec<usize> = (0..self.items.len()).filter(|&i| self.items[i].is_open()).collect();
        items.sort_by(|&a, &b| {
            let (x, y) = (&self.items[a], &self.items[b]);
            (x.due_on, x.issued_on, &x.key).cmp(&(y.due_on, y.issued_on, &y.key))
        });
        let (mut li, mut ii) = (0, 0);
        while li < lots.len() && ii < items.len() {
            self.allocate(lots[li], items[ii], by);
            if !self.credits[lots[li]].remaining.is_positive() {
                li += 1;
            }
            if !self.items[items[ii]].is_open() {
                ii += 1;
            }
        }
    }

    fn allocate(&mut self, lot: usize, item: usize, by: Uuid) {
        let amount = self.credits[lot].remaining.min(self.items[item].remaining());
        if !amount.is_positive() {
            return;
        }
        self.credits[lot].remaining -= amount;
        self.credits[lot].dirty = true;
        self.items[item].settled += amount;
        self.items[item].dirty = true;
        if !self.items[item].is_open() {
            self.items[item].closed_on = Some(self.on);
        }
        let a = Allocation { source: self.credits[lot].entry, item: self.items[item].entry, amount, by, on: self.on };
        self.allocations.push(a.clone());
        self.new_allocations.push(a);
    }

    /// Net amount each (source, item) pair still has allocated, for the pairs matching `pred`.
    fn net_allocations(&self, pred: impl Fn(&Allocation) -> bool) -> Vec<(Uuid, Uuid, Money)> {
        let mut net: Vec<(Uuid, Uuid, Money)> = Vec::new();
        for a in self.allocations.iter().filter(|a| pred(a)) {
            match net.iter_mut().find(|(s, i, _)| *s == a.source && *i == a.item) {
                Some(n) => n.2 += a.amount,
                None => net.push((a.source, a.item, a.amount)),
            }
        }
        net.retain(|n| n.2.is_positive());
        net
    }

    fn release(&mut self, source: Uuid, item: Uuid, amount: Money, by: Uuid) {
        let a = Allocation { source, item, amount: -amount, by, on: self.on };
        self.allocations.push(a.clone());
        self.new_allocations.push(a);
    }

    fn cancel_item(&mut self, item_id: Uuid, by: Uuid) {
        let Some(idx) = self.items.iter().position(|i| i.entry == item_id) else { return };
        self.items[idx].cancelled = true;
        self.items[idx].dirty = true;
        // Cancelling ends an item for good, whether it was open or already paid.
        self.items[idx].closed_on = Some(self.on);
        for (source, item, amount) in self.net_allocations(|a| a.item == item_id) {
            self.release(source, item, amount, by);
            self.items[idx].settled -= amount;
            if let Some(lot) = self.credits.iter_mut().find(|c| c.entry == source) {
                lot.remaining += amount;
                lot.dirty = true;
            }
        }
        self.settle(by);
    }

    fn cancel_credit(&mut self, lot_id: Uuid, by: Uuid) {
        let Some(idx) = self.credits.iter().position(|c| c.entry == lot_id) else { return };
        for (source, item, amount) in self.net_allocations(|a| a.source == lot_id) {
            self.release(source, item, amount, by);
            if let Some(it) = self.items.iter_mut().find(|i| i.entry == item) {
                it.settled -= amount;
                it.dirty = true;
                if it.is_open() {
                    it.closed_on = None;
                }
            }
        }
        let lot = &mut self.credits[idx];
        lot.remaining = Money::ZERO;
        lot.cancelled = true;
        lot.dirty = true;
        self.settle(by);
    }

    /// Takes `amount` out of the deposits, from `first` if named, then oldest first; what no
    /// lot covers becomes a negative lot so the lots always add up to the total.
    fn consume_deposits(&mut self, by: Uuid, amount: Money, first: Option<Uuid>, key: &OrderKey) {
        let mut left = amount;
        let mut order: Vec<usize> =
            (0..self.deposit_lots.len()).filter(|&i| self.deposit_lots[i].remaining.is_positive()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.deposit_lots[a], &self.deposit_lots[b]);
            (Some(x.entry) != first, &x.key).cmp(&(Some(y.entry) != first, &y.key))
        });
        for i in order {
            let lot = &mut self.deposit_lots[i];
            let take = lot.remaining.min(left);
            lot.remaining -= take;
            lot.dirty = true;
            left -= take;
            if left.is_zero() {
                return;
            }
        }
        self.deposit_lots.push(DepositLot {
            entry: by,
            order_ref: None,
            amount: -left,
            remaining: -left,
            key: key.clone(),
            dirty: true,
        });
    }

    fn restore_deposit(&mut self, by: Uuid, amount: Money, key: OrderKey) {
        self.deposit_lots.push(DepositLot { entry: by, order_ref: None, amount, remaining: amount, key, dirty: true });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::PaymentMethod;
    use chrono::{TimeZone, Utc};

    struct Fold {
        state: AccountState,
        entries: Vec<Entry>,
    }

    impl Fold {
        fn new() -> Self {
            Fold { state: AccountState::default(), entries: Vec::new() }
        }

        fn add(&mut self, day: u32, body: EntryBody) -> Uuid {
            let seq = self.entries.len() as u64 + 1;
            let e = Entry {
                id: Uuid::from_u128(seq.into()),
                device_id: Uuid::nil(),
                device_seq: seq,
                customer: Uuid::nil(),
                business_date: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
                recorded_at: Utc.timestamp_opt(1_700_000_000 + seq as i64, 0).unwrap(),
                cashier: "t".into(),
                body,
            };
            let reversed = match &e.body {
                EntryBody::Reversal { of, .. } => self.entries.iter().find(|x| x.id == *of).cloned(),
                _ => None,
            };
            self.state.apply(&e, reversed.as_ref());
            self.entries.push(e);
            Uuid::from_u128(seq.into())
        }

        fn remaining(&self, id: Uuid) -> i64 {
            self.state.items.iter().find(|i| i.entry == id).unwrap().remaining().minor()
        }

        fn check(&self) {
            let open: Money = self.state.items.iter().map(Item::remaining).sum();
            assert_eq!(self.state.balance, open - self.state.unallocated_credit());
            let lots: Money = self.state.deposit_lots.iter().map(|l| l.remaining).sum();
            assert_eq!(self.state.deposits, lots);
        }
    }

    fn m(minor: i64) -> Money {
        Money::from_minor(minor)
    }

    fn sale(amount: i64, due_day: u32) -> EntryBody {
        EntryBody::Sale {
            amount: m(amount),
            invoice_ref: format!("F{amount}"),
            due_on: NaiveDate::from_ymd_opt(2026, 3, due_day).unwrap(),
            override_id: None,
        }
    }

    fn pay(amount: i64, invoice: Option<Uuid>) -> EntryBody {
        EntryBody::Payment { amount: m(amount), method: PaymentMethod::Cash, invoice }
    }

    #[test]
    fn payment_goes_to_the_oldest_due_invoice_then_becomes_credit() {
        let mut f = Fold::new();
        let late = f.add(1, sale(1000, 20));
        let early = f.add(2, sale(500, 10));
        f.add(3, pay(700, None));
        assert_eq!(f.remaining(early), 0);
        assert_eq!(f.remaining(late), 800);
        f.add(4, pay(1000, None));
        assert_eq!(f.remaining(late), 0);
        assert_eq!(f.state.balance, m(-200));
        assert_eq!(f.state.unallocated_credit(), m(200));
        // The credit settles the next sale at once.
        let next = f.add(5, sale(300, 25));
        assert_eq!(f.remaining(next), 100);
        f.check();
    }

    #[test]
    fn an_aimed_payment_settles_its_invoice_first() {
        let mut f = Fold::new();
        let a = f.add(1, sale(1000, 10));
        let b = f.add(2, sale(1000, 20));
        f.add(3, pay(1200, Some(b)));
        assert_eq!(f.remaining(b), 0);
        assert_eq!(f.remaining(a), 800);
        f.check();
    }

    #[test]
    fn reversing_a_payment_reopens_its_invoices_and_reversing_a_sale_frees_its_payments() {
        let mut f = Fold::new();
        let a = f.add(1, sale(1000, 10));
        let p = f.add(2, pay(600, None));
        f.add(3, EntryBody::Reversal { of: p, reason: "cheque bounced".into() });
        assert_eq!(f.remaining(a), 1000);
        assert_eq!(f.state.balance, m(1000));
        f.check();
        f.add(4, pay(400, None));
        let b = f.add(5, sale(250, 12));
        f.add(6, EntryBody::Reversal { of: a, reason: "wrong customer".into() });
        // The 400 paid on A now settles B; 150 stays as credit.
        assert_eq!(f.remaining(a), 0);
        assert_eq!(f.remaining(b), 0);
        assert_eq!(f.state.balance, m(-150));
        f.check();
    }

    #[test]
    fn deposits_are_held_apart_then_applied_or_refunded() {
        let mut f = Fold::new();
        f.add(
            1,
            EntryBody::DepositReceived {
                amount: m(2000),
                method: PaymentMethod::Card,
                order_ref: Some("CAKE-1".into()),
            },
        );
        let s = f.add(2, sale(5000, 2));
        assert_eq!(f.state.balance, m(5000));
        let ap = f.add(3, EntryBody::DepositApplied { amount: m(2000), invoice: Some(s) });
        assert_eq!(f.state.deposits, m(0));
        assert_eq!(f.remaining(s), 3000);
        f.add(4, EntryBody::Reversal { of: ap, reason: "applied by mistake".into() });
        assert_eq!(f.state.deposits, m(2000));
        assert_eq!(f.remaining(s), 5000);
        f.add(5, EntryBody::DepositRefunded { amount: m(500), method: PaymentMethod::Cash });
        assert_eq!(f.state.deposits, m(1500));
        f.check();
    }

    #[test]
    fn adjustments_and_write_offs_move_the_balance_both_ways() {
        let mut f = Fold::new();
        let fee = f.add(
            1,
            EntryBody::Adjustment { amount: m(300), reason: "delivery".into(), reference: "ADJ-1".into(), fee: false },
        );
        assert_eq!(f.remaining(fee), 300);
        f.add(
            2,
            EntryBody::Adjustment { amount: m(-100), reason: "goodwill".into(), reference: "ADJ-2".into(), fee: false },
        );
        assert_eq!(f.remaining(fee), 200);
        f.add(3, EntryBody::WriteOff { amount: m(200), reason: "uncollectable".into(), invoice: Some(fee) });
        assert_eq!(f.state.balance, m(0));
        f.check();
    }
}
