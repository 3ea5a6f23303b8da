// XCTest suite of reminders, mirroring the Kotlin JVM tests (android/src/test/.../RemindersTest.kt):
// the ladder over days, the queue kept true to the ledger, disputes, promises, plans, follow-ups,
// templates, ladders, penalties. Fixed dates in 2024, so nothing depends on today.
import Foundation
import XCTest

@testable import Ardoise

/// Noon at the till (summer time in France), the business date being `date`.
func noon(_ date: String) -> String { "\(date)T12:00:00+02:00" }

let reminderStart = "2024-01-01T12:00:00+01:00"

func sameInstant(_ expected: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) {
    let f = ISO8601DateFormatter()
    XCTAssertEqual(f.date(from: expected), f.date(from: actual), "\(actual) is not \(expected)", file: file, line: line)
    XCTAssertNotNil(f.date(from: actual), "\(actual) is not RFC 3339", file: file, line: line)
}

/// Every date from `first` through `last`, as "YYYY-MM-DD".
func days(from first: String, through last: String) -> [String] {
    let f = DateFormatter()
    f.calendar = Calendar(identifier: .gregorian)
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd"
    var out: [String] = []
    var day = f.date(from: first)!
    let end = f.date(from: last)!
    while day <= end {
        out.append(f.string(from: day))
        day = day.addingTimeInterval(86_400)
    }
    return out
}

func assertInvalid<T>(_ expr: @autoclosure () throws -> T, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expr(), message, file: file, line: line) { error in
        guard case ArdoiseError.InvalidInput = error else { return XCTFail("\(message): \(error)", file: file, line: line) }
    }
}

func assertNotFound<T>(_ expr: @autoclosure () throws -> T, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expr(), message, file: file, line: line) { error in
        guard case ArdoiseError.NotFound = error else { return XCTFail("\(message): \(error)", file: file, line: line) }
    }
}

final class RemindersTests: XCTestCase {
    var dir: URL!
    var till: Till!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        till = try Till.open(path: dir.appendingPathComponent("till.db").path)
        var settings = try till.shopSettings()
        settings.shopName = "Épicerie du Marché"
        settings.shopPhone = "04 12 34 56 78"
        settings.shopEmail = "bonjour@epicerie.fr"
        settings.shopAddress = "2 place du Marché, 13210 Saint-Rémy"
        settings.paymentUrl = "https://pay.example.fr/{customer_ref}?amount={amount}"
        try till.setShopSettings(settings: settings, now: reminderStart)
        _ = try till.addCustomer(
            customer: NewCustomer(reference: "B1", name: "Boulangerie Martin", email: "b1@example.fr", phone: "+33 6 11 22 33 44",
                                  kind: .business, terms: "30", consentEmail: true, address: "5 rue des Lilas, 13210 Saint-Rémy"),
            now: reminderStart)
        _ = try till.addCustomer(
            customer: NewCustomer(reference: "P1", name: "Hélène Dupré", email: "p1@example.fr", phone: "+33 6 55 44 33 22",
                                  kind: .consumer, terms: "30", consentEmail: true, consentSms: true),
            now: reminderStart)
        _ = try till.addCustomer(
            customer: NewCustomer(reference: "E1", name: "John Smith", phone: "+44 7700 900123", kind: .consumer, terms: "30",
                                  consentSms: true, language: .en),
            now: reminderStart)
    }

    override func tearDownWithError() throws {
        till.closeDatabase()
        till = nil
        try? FileManager.default.removeItem(at: dir)
    }

    private func sale(_ customer: String, _ amount: String, _ date: String) throws -> String {
        try till.sellOnAccount(customer: customer, amount: amount, invoiceRef: nil, deposit: nil,
                               ctx: WriteContext(cashier: "anna", now: noon(date))).entry.reference!
    }

    @discardableResult
    private func pay(_ customer: String, _ amount: String, _ date: String) throws -> Recorded {
        try till.pay(customer: customer, amount: amount, method: .cash, invoice: nil, ctx: WriteContext(cashier: "anna", now: noon(date)))
    }

    private func skipped(_ report: RunReport) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: report.skipped.map { ($0.reason, Int($0.count)) })
    }

    func testTheLadderClimbsToAFormalNoticeWithPenaltiesAndAPaymentCancelsIt() throws {
        let invoice = try sale("B1", "1000", "2024-05-16") // due 2024-06-15
        var queued: [Reminder] = []
        for day in days(from: "2024-06-16", through: "2024-07-25") {
            let report = try till.runDunning(now: noon(day))
            XCTAssertEqual(report.asOf, day)
            XCTAssertEqual(report.customersChecked, 1)
            for r in report.queued {
                queued.append(r)
                // Sent by the back office, except the last one (kept queued below).
                if r.kind != .formalNotice {
                    XCTAssertEqual(try till.setReminderState(id: r.id, state: .sent, note: "sent by email", now: noon(day)).state, .sent)
                }
            }
            if day == "2024-06-20" {
                // The same day again: nothing new.
                let again = try till.runDunning(now: "2024-06-20T18:00:00+02:00")
                XCTAssertTrue(again.queued.isEmpty)
                XCTAssertEqual(skipped(again), ["already_at_level": 1])
            }
        }
        XCTAssertEqual(queued.map(\.level), [0, 1, 2, 3])
        XCTAssertEqual(queued.map(\.createdOn), ["2024-06-20", "2024-06-30", "2024-07-10", "2024-07-25"])
        XCTAssertEqual(queued.map(\.channel), [.email, .email, .phoneCall, .letter])

        let first = queued[0]
        XCTAssertEqual(first.step, "Rappel courtois")
        XCTAssertEqual(first.kind, .reminder)
        XCTAssertEqual(first.recipient, "b1@example.fr")
        XCTAssertEqual(first.language, .fr)
        XCTAssertEqual(first.state, .queued)
        XCTAssertEqual(first.amountDue, "1000.00")
        XCTAssertEqual(first.invoices, [invoice])
        XCTAssertEqual(first.customerRef, "B1")
        XCTAssertEqual(first.customerName, "Boulangerie Martin")
        sameInstant(noon("2024-06-20"), first.notBefore) // an email may go at once
        XCTAssertTrue(first.subject.contains("Épicerie du Marché"), first.subject)
        XCTAssertTrue(first.body.contains("Bonjour Boulangerie Martin"), first.body)
        XCTAssertTrue(first.body.contains("1 000,00 EUR"), first.body)
        XCTAssertTrue(first.body.contains("https://pay.example.fr/B1?amount=1000.00"), first.body)
        XCTAssertEqual(queued[2].recipient, "+33 6 11 22 33 44")

        // The formal notice: 15 days of June at 14.50 % = 5.96, 25 days of July at 14.25 % = 9.76.
        let notice = queued[3]
        XCTAssertEqual(notice.kind, .formalNotice)
        XCTAssertEqual(notice.recipient, "5 rue des Lilas, 13210 Saint-Rémy")
        XCTAssertEqual(notice.penalties, "15.72")
        XCTAssertEqual(notice.indemnity, "40.00")
        XCTAssertTrue(notice.subject.contains("1 055,72"), notice.subject)
        XCTAssertTrue(notice.body.contains("mettons en demeure"), notice.body)
        XCTAssertTrue(notice.body.contains("Pénalités de retard : 15,72 EUR"), notice.body)
        XCTAssertTrue(notice.body.contains("40,00 EUR"), notice.body)
        XCTAssertTrue(notice.body.contains("Rappel courtois"), notice.body)
        XCTAssertEqual(try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-25", debtor: .business, noticeOn: nil).interest, "15.72")
        XCTAssertEqual(try till.account(customer: "B1", today: "2024-07-25").balance, "1055.72")
        XCTAssertEqual(try till.reminders(state: .sent, customer: "B1", limit: 10).count, 3)
        XCTAssertEqual(try till.reminders(state: .queued, customer: nil, limit: 10), [notice])
        XCTAssertEqual(try till.reminders(state: nil, customer: "B1", limit: 10).map(\.id), queued.reversed().map(\.id))
        assertInvalid(try till.setReminderState(id: first.id, state: .cancelled, note: nil, now: noon("2024-07-25")))

        // Paid at the till an hour later: the queued notice is cancelled, never sent.
        XCTAssertEqual(try pay("B1", "1055.72", "2024-07-25").balance, "0.00")
        XCTAssertTrue(try till.reminders(state: .queued, customer: "B1", limit: 10).isEmpty)
        let cancelled = try till.reminders(state: .cancelled, customer: "B1", limit: 10)
        XCTAssertEqual(cancelled.map(\.id), [notice.id])
        XCTAssertTrue(cancelled[0].stateNote?.contains("nothing overdue") ?? false)
        XCTAssertTrue(try till.runDunning(now: noon("2024-07-26")).queued.isEmpty)
    }

    func testADisputeLeavesTheReminderShowsAtTheTillAndIsResolved() throws {
        let a = try sale("P1", "40", "2024-05-01")
        let b = try sale("P1", "10", "2024-05-02")
        let run = try till.runDunning(now: noon("2024-06-10"))
        XCTAssertEqual(run.queued.count, 1)
        XCTAssertEqual(run.queued[0].amountDue, "50.00")
        XCTAssertEqual(run.queued[0].invoices, [a, b]) // oldest due first

        let d = try till.openDispute(invoice: a, reason: "cake was not the one ordered", author: "anna", now: noon("2024-06-11"))
        XCTAssertEqual(d.state, "open")
        XCTAssertEqual(d.customerRef, "P1")
        XCTAssertEqual(d.invoice, a)
        XCTAssertEqual(d.openedOn, "2024-06-11")
        XCTAssertNil(d.resolution)
        let q = try till.reminders(state: .queued, customer: "P1", limit: 10)
        XCTAssertEqual(q.map(\.amountDue), ["10.00"])
        XCTAssertEqual(q.first?.invoices, [b])
        let v = try till.check(customer: "P1", cartTotal: "5", now: noon("2024-06-11"))
        XCTAssertEqual(v.overdue, "10.00")
        XCTAssertTrue(v.reasons.contains(.disputed(invoices: 1, amount: "40.00")), "\(v.reasons)")
        XCTAssertTrue(v.messages.contains { $0.contains("under dispute") })
        assertInvalid(try till.openDispute(invoice: a, reason: "again", author: "anna", now: noon("2024-06-11")))

        try till.noteDispute(id: d.id, note: "customer sent a photo", author: "anna", now: noon("2024-06-12"))
        let rejected = try till.resolveDispute(id: d.id, upheld: false, credit: nil, note: "photo shows the right cake", author: "marc", now: noon("2024-06-13"))
        XCTAssertEqual(rejected.dispute.state, "rejected")
        XCTAssertNil(rejected.creditNote)
        XCTAssertEqual(try till.reminders(state: .queued, customer: "P1", limit: 10).map(\.amountDue), ["50.00"])

        // Upheld in part: a credit note of 15 in the same transaction.
        let d2 = try till.openDispute(invoice: a, reason: "second look: half the cake", author: "anna", now: noon("2024-06-14"))
        assertInvalid(try till.resolveDispute(id: d2.id, upheld: false, credit: "5", note: "no", author: "marc", now: noon("2024-06-15")))
        assertInvalid(try till.resolveDispute(id: d2.id, upheld: true, credit: "1,5", note: "no", author: "marc", now: noon("2024-06-15")))
        let upheld = try till.resolveDispute(id: d2.id, upheld: true, credit: "15", note: "we were wrong", author: "marc", now: noon("2024-06-15"))
        XCTAssertEqual(upheld.dispute.state, "upheld")
        XCTAssertEqual(upheld.dispute.resolution, "we were wrong")
        let credit = try XCTUnwrap(upheld.creditNote)
        XCTAssertEqual(credit.entry.kind, "credit_note")
        XCTAssertEqual(credit.entry.amount, "15.00")
        XCTAssertEqual(credit.balance, "35.00")
        XCTAssertEqual(try till.reminders(state: .queued, customer: "P1", limit: 10).map(\.amountDue), ["35.00"])
        assertInvalid(try till.resolveDispute(id: d2.id, upheld: false, credit: nil, note: "again", author: "marc", now: noon("2024-06-15")))

        XCTAssertEqual(try till.disputes(customer: "P1").map(\.id), [d2.id, d.id])
        XCTAssertEqual(try till.disputes(customer: nil).map(\.state), ["upheld", "rejected"])
        XCTAssertTrue(try till.disputes(customer: "B1").isEmpty)
        let kinds = try till.customerTimeline(customer: "P1", limit: 100).map(\.kind)
        for k in ["dispute_opened", "dispute_note", "dispute_rejected", "dispute_upheld", "reminder", "entry:credit_note"] {
            XCTAssertTrue(kinds.contains(k), "\(k) missing from \(kinds)")
        }
        assertNotFound(try till.openDispute(invoice: "F-404", reason: "no such invoice", author: "anna", now: noon("2024-06-15")))
        assertNotFound(try till.noteDispute(id: UUID().uuidString, note: "x", author: "anna", now: noon("2024-06-15")))
        assertInvalid(try till.noteDispute(id: "not-an-id", note: "x", author: "anna", now: noon("2024-06-15")))
        assertInvalid(try till.openDispute(invoice: b, reason: "   ", author: "anna", now: noon("2024-06-15")))
    }

    func testPromisesAndPlansPauseTheLadderUntilBroken() throws {
        _ = try sale("P1", "90", "2024-05-01") // due 2024-05-31
        let promise = try till.promiseToPay(customer: "P1", on: "2024-06-15", amount: "50", author: "anna", now: noon("2024-06-04"))
        XCTAssertEqual(promise, Promise(id: promise.id, customerRef: "P1", promisedOn: "2024-06-15", amount: "50.00", state: "open"))
        let paused = try till.runDunning(now: noon("2024-06-10"))
        XCTAssertTrue(paused.queued.isEmpty)
        XCTAssertEqual(skipped(paused), ["promise": 1])
        // Not kept by its date: broken, the ladder resumes at the level due now.
        let resumed = try till.runDunning(now: noon("2024-06-16"))
        XCTAssertEqual(resumed.promisesBroken, 1)
        XCTAssertEqual(resumed.queued.map(\.level), [1])
        _ = try till.setReminderState(id: resumed.queued[0].id, state: .sent, note: nil, now: noon("2024-06-16"))

        let instalments = try splitPlan(total: "90", count: 3, first: "2024-06-20", everyDays: 30)
        XCTAssertEqual(instalments, [
            Instalment(dueOn: "2024-06-20", amount: "30.00"),
            Instalment(dueOn: "2024-07-20", amount: "30.00"),
            Instalment(dueOn: "2024-08-19", amount: "30.00"),
        ])
        XCTAssertEqual(try splitPlan(total: "100", count: 3, first: "2024-06-20", everyDays: 7).map(\.amount), ["33.34", "33.33", "33.33"])
        XCTAssertNil(try till.plan(customer: "P1", today: "2024-06-18"))
        let plan = try till.createPlan(customer: "P1", instalments: instalments, author: "anna", now: noon("2024-06-18"))
        XCTAssertEqual(plan.state, "active")
        XCTAssertEqual(plan.graceDays, 5)
        XCTAssertEqual(plan.createdOn, "2024-06-18")
        XCTAssertEqual(plan.instalments, instalments)
        XCTAssertEqual(plan.status, .active(paid: "0.00", nextDue: "2024-06-20", nextAmount: "30.00"))
        assertInvalid(try till.createPlan(customer: "P1", instalments: instalments, author: "anna", now: noon("2024-06-18")))
        try pay("P1", "30", "2024-06-20")
        let shown = try XCTUnwrap(try till.plan(customer: "P1", today: "2024-07-10"))
        XCTAssertEqual(shown.paid, "30.00")
        XCTAssertEqual(shown.status, .active(paid: "30.00", nextDue: "2024-07-20", nextAmount: "30.00"))
        XCTAssertEqual(skipped(try till.runDunning(now: noon("2024-07-10"))), ["plan": 1])
        // The second instalment is missed past the grace days: broken, the ladder resumes where it was.
        let broken = try till.runDunning(now: noon("2024-07-26"))
        XCTAssertEqual(broken.plansBroken, 1)
        XCTAssertEqual(broken.queued.count, 1)
        XCTAssertEqual(broken.queued[0].level, 3)
        XCTAssertEqual(broken.queued[0].kind, .formalNotice)
        XCTAssertEqual(broken.queued[0].indemnity, "0.00") // a consumer owes no indemnity
        let after = try XCTUnwrap(try till.plan(customer: "P1", today: "2024-07-26"))
        XCTAssertEqual(after.state, "broken")
        XCTAssertEqual(after.status, .broken(missedDue: "2024-07-20", missing: "30.00"))
        let kinds = try till.customerTimeline(customer: "P1", limit: 100).map(\.kind)
        for k in ["promise", "promise_broken", "plan", "plan_broken"] {
            XCTAssertTrue(kinds.contains(k), "\(k) missing from \(kinds)")
        }

        // A plan paid in full is completed.
        _ = try sale("B1", "20", "2024-07-01")
        _ = try till.createPlan(customer: "B1", instalments: [Instalment(dueOn: "2024-07-05", amount: "20")], author: "anna", now: noon("2024-07-01"))
        try pay("B1", "20", "2024-07-02")
        XCTAssertEqual(try till.plan(customer: "B1", today: "2024-07-03")?.status, .completed)

        // Bad input.
        assertInvalid(try till.promiseToPay(customer: "P1", on: "2024-08-01", amount: "1,50", author: "anna", now: noon("2024-07-26")))
        assertInvalid(try till.promiseToPay(customer: "P1", on: "2024-07-01", amount: "10", author: "anna", now: noon("2024-07-26")))
        assertInvalid(try till.promiseToPay(customer: "P1", on: "01/08/2024", amount: "10", author: "anna", now: noon("2024-07-26")))
        assertNotFound(try till.promiseToPay(customer: "NOPE", on: "2024-08-01", amount: "10", author: "anna", now: noon("2024-07-26")))
        assertInvalid(try splitPlan(total: "0", count: 3, first: "2024-06-20", everyDays: 30))
        assertInvalid(try splitPlan(total: "90", count: 0, first: "2024-06-20", everyDays: 30))
        assertInvalid(try splitPlan(total: "90", count: 3, first: "2024-02-30", everyDays: 30))
        assertInvalid(try till.createPlan(customer: "E1", instalments: [Instalment(dueOn: "2024-08-01", amount: "12,50")], author: "anna", now: noon("2024-07-26")))
        assertInvalid(try till.createPlan(customer: "E1", instalments: [Instalment(dueOn: "2024-08-02", amount: "10"), Instalment(dueOn: "2024-08-01", amount: "10")],
                                          author: "anna", now: noon("2024-07-26")))
        assertNotFound(try till.plan(customer: "NOPE", today: "2024-07-26"))
        assertInvalid(try till.plan(customer: "P1", today: "yesterday"))
    }

    func testNotesCallsHoldsExclusionsAndStopsAppearInTheTimeline() throws {
        let inv = try sale("P1", "20", "2024-05-01") // due 2024-05-31
        try till.addNote(customer: "P1", note: "prefers to be called after 6pm", author: "anna", now: noon("2024-05-02"))
        try till.holdReminders(customer: "P1", until: "2024-06-30", reason: "in hospital", author: "marc", now: noon("2024-06-01"))
        XCTAssertEqual(skipped(try till.runDunning(now: noon("2024-06-10"))), ["on_hold": 1])
        try till.holdReminders(customer: "P1", until: nil, reason: nil, author: "marc", now: noon("2024-06-11")) // released
        try till.setCustomerLadder(customer: "P1", ladder: nil, excluded: true, author: "marc", now: noon("2024-06-11"))
        XCTAssertEqual(skipped(try till.runDunning(now: noon("2024-06-12"))), ["excluded": 1])
        try till.setCustomerLadder(customer: "P1", ladder: nil, excluded: false, author: "marc", now: noon("2024-06-12"))
        try till.stopInvoice(invoice: inv, reason: "goodwill: old friend", author: "marc", now: noon("2024-06-12"))
        XCTAssertEqual(skipped(try till.runDunning(now: noon("2024-06-13"))), ["nothing_due": 1])
        try till.stopInvoice(invoice: inv, reason: nil, author: "marc", now: noon("2024-06-14"))
        let queued = try till.runDunning(now: noon("2024-06-14")).queued
        XCTAssertEqual(queued.map(\.level), [0])

        try till.recordCall(customer: "P1", outcome: .noAnswer, note: "", author: "anna", now: noon("2024-06-15"))
        try till.recordCall(customer: "P1", outcome: .reached, note: "will pay on Friday", author: "anna", now: "2024-06-16T12:00:00+02:00")
        try till.recordCall(customer: "P1", outcome: .promise(on: "2024-06-21", amount: "20"), note: "promised", author: "anna", now: "2024-06-17T12:00:00+02:00")
        XCTAssertEqual(skipped(try till.runDunning(now: noon("2024-06-20"))), ["promise": 1])

        let timeline = try till.customerTimeline(customer: "P1", limit: 100)
        let kinds = timeline.map(\.kind)
        for k in ["entry:sale", "note", "hold", "ladder", "invoice_stop", "reminder", "call", "promise"] {
            XCTAssertTrue(kinds.contains(k), "\(k) missing from \(kinds)")
        }
        XCTAssertEqual(timeline.map(\.date), timeline.map(\.date).sorted(by: >)) // newest first
        for item in timeline { XCTAssertNotNil(ISO8601DateFormatter().date(from: item.at), item.at) }
        XCTAssertEqual(timeline.last?.kind, "entry:sale")
        XCTAssertEqual(timeline.last?.amount, "20.00")
        XCTAssertEqual(timeline.last?.date, "2024-05-01")
        let notes = timeline.filter { $0.kind == "note" }
        XCTAssertEqual(notes.map(\.text), ["prefers to be called after 6pm"])
        XCTAssertEqual(notes.first?.date, "2024-05-02")
        XCTAssertEqual(timeline.filter { $0.kind == "call" }.map(\.text),
                       ["call: promise of 20.00 EUR by 2024-06-21 (promised)", "call: reached (will pay on Friday)", "call: no answer"])
        let reminders = timeline.filter { $0.kind == "reminder" }
        // The promise made on the 17th cancelled the reminder queued on the 14th.
        XCTAssertEqual(reminders.map(\.state), ["cancelled"])
        XCTAssertEqual(reminders.map(\.id), [queued[0].id])
        XCTAssertEqual(reminders.first?.amount, "20.00")
        XCTAssertTrue(timeline.contains { $0.kind == "hold" && $0.text.contains("in hospital") })
        XCTAssertTrue(timeline.contains { $0.kind == "invoice_stop" && $0.text.contains("goodwill") })
        XCTAssertEqual(try till.customerTimeline(customer: "P1", limit: 2).count, 2)

        // Bad input.
        assertNotFound(try till.setCustomerLadder(customer: "P1", ladder: "nope", excluded: false, author: "marc", now: noon("2024-06-30")))
        assertNotFound(try till.stopInvoice(invoice: "F-404", reason: "x", author: "marc", now: noon("2024-06-30")))
        assertInvalid(try till.holdReminders(customer: "P1", until: "2024/07/01", reason: "x", author: "marc", now: noon("2024-06-30")))
        assertNotFound(try till.addNote(customer: "NOPE", note: "hello", author: "anna", now: noon("2024-06-30")))
        assertInvalid(try till.addNote(customer: "P1", note: "   ", author: "anna", now: noon("2024-06-30")))
        assertInvalid(try till.addNote(customer: "P1", note: "x", author: "anna", now: "2024-06-30"))
        assertInvalid(try till.recordCall(customer: "P1", outcome: .promise(on: "2024-07-01", amount: "ten"), note: "", author: "anna", now: noon("2024-06-30")))
        assertNotFound(try till.customerTimeline(customer: "NOPE", limit: 10))
    }

    func testTemplatesAndLaddersAreCheckedAndSmsWaitsForMondayMorning() throws {
        let templates = try till.templates()
        XCTAssertEqual(templates.count, 10)
        let courteous = try XCTUnwrap(templates.first { $0.name == "courteous" && $0.language == .fr })
        XCTAssertTrue(courteous.body.contains("{amount_due}"))
        var typo = courteous
        typo.body = "Bonjour {customer_nmae}"
        XCTAssertThrowsError(try till.setTemplate(template: typo, now: reminderStart)) { error in
            guard case let ArdoiseError.InvalidInput(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("unknown placeholder {customer_nmae}"), message)
        }
        var unclosed = courteous
        unclosed.subject = "{amount_due"
        assertInvalid(try till.setTemplate(template: unclosed, now: reminderStart))
        let mine = ReminderTemplate(name: "courteous", language: .en, subject: "Reminder from {shop_name}",
                                    body: "Dear {customer_name}, {amount_due} EUR is overdue.",
                                    sms: "{shop_name}: {amount_due} EUR overdue, {days_late} days. {payment_link}")
        try till.setTemplate(template: mine, now: reminderStart)
        XCTAssertEqual(try till.templates().first { $0.name == "courteous" && $0.language == .en }, mine)

        let standard = try till.ladder(name: "default")
        XCTAssertEqual(standard.steps.map(\.offsetDays), [5, 15, 25, 40, 60])
        XCTAssertEqual(standard.steps[3].kind, .formalNotice)
        XCTAssertEqual(standard.steps[3].tone, .formal)
        XCTAssertEqual(standard.steps[4].channel, .document)
        assertNotFound(try till.ladder(name: "nope"))

        let sms = Ladder(name: "sms", steps: [
            LadderStep(name: "Texto", offsetDays: 1, channel: .sms, template: "courteous", tone: .courteous, kind: .reminder),
            LadderStep(name: "Relance", offsetDays: 10, channel: .email, template: "second", tone: .firm, kind: .reminder, fee: "5.00"),
        ])
        func oneStep(_ change: (inout LadderStep) -> Void) -> Ladder {
            var step = sms.steps[0]
            change(&step)
            return Ladder(name: "sms", steps: [step])
        }
        assertInvalid(try till.setLadder(ladder: Ladder(name: "sms", steps: sms.steps.reversed()), now: reminderStart))
        assertInvalid(try till.setLadder(ladder: oneStep { $0.fee = "abc" }, now: reminderStart))
        assertInvalid(try till.setLadder(ladder: oneStep { $0.fee = "-1" }, now: reminderStart))
        assertInvalid(try till.setLadder(ladder: oneStep { $0.template = "nope" }, now: reminderStart))
        try till.setLadder(ladder: sms, now: reminderStart)
        XCTAssertEqual(try till.ladder(name: "sms"), sms)
        try till.setCustomerLadder(customer: "P1", ladder: "sms", excluded: false, author: "marc", now: reminderStart)
        try till.setCustomerLadder(customer: "E1", ladder: "sms", excluded: false, author: "marc", now: reminderStart)
        _ = try sale("P1", "10", "2024-05-01") // due 2024-05-31
        _ = try sale("E1", "10", "2024-05-01")

        // Sunday 9 June 2024, 22:00: SMS wait for Monday 09:00.
        let sunday = try till.runDunning(now: "2024-06-09T22:00:00+02:00")
        XCTAssertEqual(sunday.queued.count, 2)
        let p1 = try XCTUnwrap(sunday.queued.first { $0.customerRef == "P1" })
        XCTAssertEqual(p1.channel, .sms)
        XCTAssertEqual(p1.recipient, "+33 6 55 44 33 22")
        sameInstant("2024-06-10T09:00:00+02:00", p1.notBefore)
        XCTAssertTrue(p1.body.contains("petit rappel, 10,00 EUR"), p1.body)
        XCTAssertLessThanOrEqual(p1.body.count, 480)
        let e1 = try XCTUnwrap(sunday.queued.first { $0.customerRef == "E1" })
        XCTAssertEqual(e1.channel, .sms)
        XCTAssertEqual(e1.language, .en)
        sameInstant("2024-06-10T09:00:00+02:00", e1.notBefore)
        XCTAssertEqual(e1.subject, "Reminder from Épicerie du Marché")
        // The shop's template does not place the payment reference: it is added at the end.
        let e1Ref = try till.account(customer: "E1", today: "2024-06-09").paymentReference
        XCTAssertEqual(e1.body, "Épicerie du Marché: 10.00 EUR overdue, 9 days. https://pay.example.fr/E1?amount=10.00 Payment ref: \(e1Ref)")
        XCTAssertEqual(try till.customerByPaymentReference(reference: e1Ref)?.reference, "E1")
        for r in sunday.queued {
            _ = try till.setReminderState(id: r.id, state: .sent, note: nil, now: "2024-06-10T09:05:00+02:00")
        }

        // The second step, 20 days late: an email to P1, an SMS to E1 (no email); its fee is never
        // charged to a consumer (Code des procédures civiles d'exécution L111-8).
        let second = try till.runDunning(now: noon("2024-06-20"))
        XCTAssertEqual(second.queued.first { $0.customerRef == "P1" }?.channel, .email)
        let e1Second = try XCTUnwrap(second.queued.first { $0.customerRef == "E1" })
        XCTAssertEqual(e1Second.channel, .sms)
        XCTAssertTrue(e1Second.body.contains("unpaid for 20 days"), e1Second.body)
        sameInstant(noon("2024-06-20"), e1Second.notBefore) // daytime on a Thursday
        XCTAssertEqual(try till.account(customer: "P1", today: "2024-06-20").balance, "10.00")
        XCTAssertEqual(try till.account(customer: "E1", today: "2024-06-20").balance, "10.00")
        _ = try till.setReminderState(id: e1Second.id, state: .failed, note: "number unreachable", now: noon("2024-06-20"))
        let failed = try till.reminders(state: .failed, customer: "E1", limit: 10)
        XCTAssertEqual(failed.map(\.stateNote), ["number unreachable"])
        XCTAssertEqual(try till.setReminderState(id: failed[0].id, state: .sent, note: "sent again", now: noon("2024-06-21")).state, .sent)

        assertInvalid(try till.setReminderState(id: "not-an-id", state: .sent, note: nil, now: noon("2024-06-21")))
        assertNotFound(try till.setReminderState(id: UUID().uuidString, state: .sent, note: nil, now: noon("2024-06-21")))
        assertInvalid(try till.runDunning(now: "2024-06-21"))
    }

    func testPenaltiesMatchAHandComputedCaseAndFollowTheRateTables() throws {
        // 1000 EUR due 2024-06-15, until 2024-07-10, a business: 15 days at 14.50 % (ECB 4.50 + 10)
        // = 5.96, then 10 days at 14.25 % (ECB 4.25 on 1 July + 10) = 3.90; plus 40 EUR.
        let p = try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-10", debtor: .business, noticeOn: nil)
        XCTAssertEqual(p.interest, "9.86")
        XCTAssertEqual(p.indemnity, "40.00")
        XCTAssertEqual(p.total, "49.86")
        XCTAssertEqual(p.periods, [
            PenaltyPeriod(from: "2024-06-16", to: "2024-06-30", days: 15, base: "1000.00", ratePct: "14.50", interest: "5.96"),
            PenaltyPeriod(from: "2024-07-01", to: "2024-07-10", days: 10, base: "1000.00", ratePct: "14.25", interest: "3.90"),
        ])
        // A consumer owes interest only from the formal notice, at the legal rate (4.92 % in 2024 H2), no indemnity.
        XCTAssertEqual(try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-10", debtor: .consumer, noticeOn: nil),
                       Penalty(interest: "0.00", indemnity: "0.00", total: "0.00", periods: []))
        let consumer = try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-10", debtor: .consumer, noticeOn: "2024-06-30")
        XCTAssertEqual(consumer.total, "1.35")
        XCTAssertEqual(consumer.periods.map(\.ratePct), ["4.92"])
        XCTAssertEqual(try till.penalty(amount: "100", dueOn: "2024-06-15", until: "2024-06-15", debtor: .business, noticeOn: nil).total, "0.00")

        // A contract rate (floored at 3 x legal) replaces ECB + 10 for businesses.
        let settings = try till.shopSettings()
        XCTAssertNil(settings.contractRatePct)
        var withContract = settings
        withContract.contractRatePct = "20"
        try till.setShopSettings(settings: withContract, now: reminderStart)
        XCTAssertEqual(try till.shopSettings().contractRatePct, "20")
        let contract = try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-10", debtor: .business, noticeOn: nil)
        XCTAssertEqual(contract.periods.map(\.ratePct), ["20", "20"])
        XCTAssertEqual(contract.interest, "13.70") // 8.22 + 5.48
        try till.setShopSettings(settings: settings, now: reminderStart)

        // New rate tables without a release.
        let shipped = try till.rateTables()
        XCTAssertNil(try till.ratesStaleOn(day: "2026-12-31"))
        XCTAssertTrue(try till.ratesStaleOn(day: "2027-01-01")?.contains("does not cover 2027 H1") ?? false)
        XCTAssertTrue(shipped.ecb.contains(EcbRate(effectiveOn: "2024-06-12", ratePct: "4.25")))
        XCTAssertTrue(shipped.legal.contains(LegalRate(year: 2024, half: 2, ratePct: "4.92")))
        let replaced = try till.setRateTables(ecbCsv: "# checked_through: 2026-12-20\neffective_date,rate\n2016-03-16,0.00\n2024-01-01,1.00\n",
                                              legalCsv: "# checked_through: 2026-12-20\nyear,half,individual,other\n2024,1,8.01,5.07\n2024,2,8.16,4.92\n",
                                              now: reminderStart)
        XCTAssertEqual(replaced.ecbCheckedThrough, "2026-12-20")
        assertNotFound(try till.setInsolvency(customer: "NOPE", since: "2024-01-01", now: reminderStart))
        XCTAssertEqual(replaced.ecb, [EcbRate(effectiveOn: "2016-03-16", ratePct: "0.00"), EcbRate(effectiveOn: "2024-01-01", ratePct: "1.00")])
        XCTAssertEqual(try till.rateTables(), replaced)
        let cheaper = try till.penalty(amount: "1000", dueOn: "2024-06-15", until: "2024-07-10", debtor: .business, noticeOn: nil)
        XCTAssertEqual(cheaper.periods.map(\.ratePct), ["11.00", "11.00"])
        XCTAssertEqual(cheaper.interest, "7.53") // 4.52 + 3.01
        assertInvalid(try till.setRateTables(ecbCsv: "garbage", legalCsv: "year,half,a,b\n2024,1,8.01,5.07\n", now: reminderStart))
        assertInvalid(try till.setRateTables(ecbCsv: "effective_date,rate\n2024-01-01,1.00\n", legalCsv: "year,half,a,b\n2024,3,1,1\n", now: reminderStart))
        // No legal rate for 2030 yet: no penalty on a guessed rate, the table is stale.
        XCTAssertThrowsError(try till.penalty(amount: "10", dueOn: "2030-01-01", until: "2030-02-01", debtor: .consumer, noticeOn: "2030-01-02")) { error in
            guard case let ArdoiseError.Conflict(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("does not cover 2030 H1"), message)
        }

        // Bad input.
        for amount in ["1,5", "12.345", "", "abc", "0"] {
            assertInvalid(try till.penalty(amount: amount, dueOn: "2024-06-15", until: "2024-07-10", debtor: .business, noticeOn: nil), amount)
        }
        assertInvalid(try till.penalty(amount: "10", dueOn: "2024-02-30", until: "2024-07-10", debtor: .business, noticeOn: nil))
        assertInvalid(try till.penalty(amount: "10", dueOn: "2024-06-15", until: "10/07/2024", debtor: .business, noticeOn: nil))
        assertInvalid(try till.penalty(amount: "10", dueOn: "2024-06-15", until: "2024-07-10", debtor: .consumer, noticeOn: "soon"))
    }

    func testShopSettingsCustomersAddressAndLanguage() throws {
        let rules = try till.checkoutRules()
        let s = try till.shopSettings()
        XCTAssertEqual(s.shopName, "Épicerie du Marché")
        XCTAssertEqual(s.paymentUrl, "https://pay.example.fr/{customer_ref}?amount={amount}")
        XCTAssertEqual(s.minGapDays, 7)
        XCTAssertEqual(s.smsFromHour, 9)
        XCTAssertEqual(s.smsUntilHour, 20)
        XCTAssertEqual(s.planGraceDays, 5)
        XCTAssertTrue(s.penaltyFeesBusiness)
        XCTAssertFalse(s.penaltyFeesConsumer)
        var changed = s
        changed.minGapDays = 10
        changed.penaltyFeesConsumer = true
        changed.contractRatePct = "12.5"
        try till.setShopSettings(settings: changed, now: reminderStart)
        let saved = try till.shopSettings()
        XCTAssertEqual(saved, changed)
        XCTAssertEqual(try till.checkoutRules(), rules) // untouched
        for bad in ["abc", "9,5", "-1", "1e2", "12.", ".5", "12.34567", "1000"] {
            var b = s
            b.contractRatePct = bad
            assertInvalid(try till.setShopSettings(settings: b, now: reminderStart), bad)
        }
        var hours = s
        hours.smsFromHour = 21
        assertInvalid(try till.setShopSettings(settings: hours, now: reminderStart))
        var url = s
        url.paymentUrl = "http://pay.example.fr"
        assertInvalid(try till.setShopSettings(settings: url, now: reminderStart))
        url.paymentUrl = "https://pay.example.fr/{oops}"
        assertInvalid(try till.setShopSettings(settings: url, now: reminderStart))
        assertInvalid(try till.setShopSettings(settings: s, now: "2024-01-01"))
        XCTAssertEqual(try till.shopSettings(), saved)

        let b1 = try till.customer(reference: "B1")
        XCTAssertEqual(b1.address, "5 rue des Lilas, 13210 Saint-Rémy")
        XCTAssertEqual(b1.language, .fr) // the default
        XCTAssertEqual(try till.customer(reference: "E1").language, .en)
        let moved = try till.updateCustomer(reference: "B1", patch: CustomerPatch(address: "1 quai du Port, Marseille", language: .en), now: reminderStart)
        XCTAssertEqual(moved.address, "1 quai du Port, Marseille")
        XCTAssertEqual(moved.language, .en)
        let cleared = try till.updateCustomer(reference: "B1", patch: CustomerPatch(address: ""), now: reminderStart)
        XCTAssertNil(cleared.address)
        XCTAssertEqual(cleared.language, .en) // unchanged
        assertInvalid(try till.updateCustomer(reference: "B1", patch: CustomerPatch(address: String(repeating: "x", count: 501)), now: reminderStart))
    }
}
