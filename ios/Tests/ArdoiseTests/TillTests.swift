// XCTest suite of the Ardoise Swift package, mirroring the Kotlin JVM tests (android/src/test).
import Foundation
import XCTest

@testable import Ardoise

let now = "2026-03-02T10:00:00+01:00"

func at(_ date: String) -> String { "\(date)T10:00:00+01:00" }

func ctx(_ date: String = "2026-03-02", cashier: String = "anna") -> WriteContext {
    WriteContext(cashier: cashier, now: at(date))
}

final class TillTests: XCTestCase {
    var dir: URL!
    var till: Till!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        till = try Till.open(path: dir.appendingPathComponent("till.db").path)
        _ = try till.addCustomer(
            customer: NewCustomer(reference: "C1", name: "Hélène Dupré", email: "helene@example.fr", phone: "+33 6 12 34 56 78",
                                  kind: .consumer, creditLimit: "200", terms: "30", consentEmail: true),
            now: now)
        _ = try till.addCustomer(customer: NewCustomer(reference: "C2", name: "Boulangerie Martin", kind: .business, terms: "45eom"), now: now)
    }

    override func tearDownWithError() throws {
        till.closeDatabase()
        till = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func testCustomersAreAddedFoundUpdatedAndListed() throws {
        let c = try till.customer(reference: "C1")
        XCTAssertEqual(c.name, "Hélène Dupré")
        XCTAssertEqual(c.creditLimit, "200.00")
        XCTAssertEqual(try till.searchCustomers(query: "hel", limit: 10).map(\.reference), ["C1"])
        XCTAssertEqual(try till.searchCustomers(query: "DUPRE", limit: 10).map(\.reference), ["C1"])
        XCTAssertEqual(try till.searchCustomers(query: "06 12 34", limit: 10).map(\.reference), ["C1"])
        XCTAssertEqual(try till.listCustomers(limit: 10, offset: 0).map(\.reference), ["C2", "C1"])
        let updated = try till.updateCustomer(reference: "C1", patch: CustomerPatch(email: "", creditLimit: "300", blocked: "cheque bounced"), now: now)
        XCTAssertEqual(updated.creditLimit, "300.00")
        XCTAssertEqual(updated.blocked, "cheque bounced")
        XCTAssertNil(updated.email)
        // Bills by email from a day (the risk model reads it), back on paper, a bad day refused.
        XCTAssertEqual(try till.updateCustomer(reference: "C1", patch: CustomerPatch(paperlessFrom: "2026-03-01"), now: now).paperlessFrom, "2026-03-01")
        XCTAssertNil(try till.updateCustomer(reference: "C1", patch: CustomerPatch(paperlessFrom: ""), now: now).paperlessFrom)
        XCTAssertThrowsError(try till.updateCustomer(reference: "C1", patch: CustomerPatch(paperlessFrom: "2026-02-30"), now: now))
    }

    func testSalesPaymentsAndTheAccountSummary() throws {
        let sale = try till.sellOnAccount(customer: "C1", amount: "80.00", invoiceRef: nil, deposit: nil, ctx: ctx())
        XCTAssertEqual(sale.entry.dueOn, "2026-04-01")
        XCTAssertEqual(sale.balance, "80.00")
        XCTAssertEqual(sale.verdict?.decision, .allow)
        let acc = try till.account(customer: "C1", today: "2026-04-10")
        XCTAssertEqual(acc.overdue, "80.00")
        XCTAssertEqual(acc.oldestOverdueDays, 9)
        let paid = try till.pay(customer: "C1", amount: "100", method: .card, invoice: sale.entry.reference, ctx: ctx("2026-04-10"))
        XCTAssertEqual(paid.balance, "-20.00")
        XCTAssertEqual(try till.account(customer: "C1", today: "2026-04-10").creditOnAccount, "20.00")
        XCTAssertEqual(try till.timeline(customer: "C1", limit: 10).map(\.entry.kind), ["payment", "sale"])
    }

    func testCheckoutAllowsWarnsRefusesAndAManagerOverrides() throws {
        _ = try till.sellOnAccount(customer: "C1", amount: "50", invoiceRef: nil, deposit: nil, ctx: ctx("2026-03-01"))
        XCTAssertEqual(try till.check(customer: "C1", cartTotal: "10", now: at("2026-03-31")).decision, .allow)
        XCTAssertEqual(try till.check(customer: "C1", cartTotal: "10", now: at("2026-04-02")).decision, .warn)
        let refuse = try till.check(customer: "C1", cartTotal: "10", now: at("2026-04-30"))
        XCTAssertEqual(refuse.decision, .refuse)
        guard case let .overdue(amount, days, _, _, _) = refuse.reasons.first else { return XCTFail("no overdue reason") }
        XCTAssertEqual(amount, "50.00")
        XCTAssertEqual(days, 30)
        XCTAssertThrowsError(try till.sellOnAccount(customer: "C1", amount: "10", invoiceRef: nil, deposit: nil, ctx: ctx("2026-04-30"))) { error in
            guard case ArdoiseError.Refused = error else { return XCTFail("\(error)") }
        }
        let ov = try till.overrideCheckout(customer: "C1", cartTotal: "10", manager: "Marc", reason: "pays on Friday", now: at("2026-04-30"))
        let sale = try till.sellOnAccount(customer: "C1", amount: "10", invoiceRef: nil, deposit: nil, ctx: ctx("2026-04-30"))
        XCTAssertEqual(sale.entry.overrideId, ov.id)
    }

    func testDepositsCreditNotesAdjustmentsWriteOffsAndReversals() throws {
        _ = try till.takeDeposit(customer: "C2", amount: "30", method: .cash, orderRef: "CAKE-7", ctx: ctx())
        _ = try till.sellOnAccount(customer: "C2", amount: "100", invoiceRef: "F-100", deposit: nil, ctx: ctx())
        let applied = try till.applyDeposit(customer: "C2", amount: "20", invoice: "F-100", ctx: ctx())
        XCTAssertEqual(applied.balance, "80.00")
        XCTAssertEqual(applied.deposits, "10.00")
        XCTAssertEqual(try till.refundDeposit(customer: "C2", amount: "10", method: .cash, ctx: ctx()).deposits, "0.00")
        XCTAssertEqual(try till.creditNote(customer: "C2", amount: "10", reason: "damaged", invoice: "F-100", ctx: ctx()).balance, "70.00")
        XCTAssertEqual(try till.adjust(customer: "C2", amount: "5", reason: "delivery", ctx: ctx()).balance, "75.00")
        let off = try till.writeOff(customer: "C2", amount: "75", reason: "closing down", invoice: nil, ctx: ctx())
        let back = try till.reverse(customer: "C2", entryId: off.entry.id, reason: "by mistake", ctx: ctx())
        XCTAssertEqual(back.balance, "75.00")
        XCTAssertEqual(try till.timeline(customer: "C2", limit: 100).count, 8)
    }

    func testADepositPaysForTheSaleOfTheOrderItWasTakenFor() throws {
        _ = try till.updateCustomer(reference: "C1", patch: CustomerPatch(creditLimit: "0"), now: now)
        _ = try till.takeDeposit(customer: "C1", amount: "20", method: .card, orderRef: "CAKE-9", ctx: ctx())
        XCTAssertThrowsError(try till.sellOnAccount(customer: "C1", amount: "35", invoiceRef: nil, deposit: "20", ctx: ctx()))
        let sale = try till.sellOnAccount(customer: "C1", amount: "20", invoiceRef: nil, deposit: "20", ctx: ctx())
        XCTAssertEqual(sale.balance, "0.00")
        XCTAssertEqual(sale.depositApplied?.aimedAt, sale.entry.id)
    }

    func testSettingsAndOutbox() throws {
        var rules = try till.checkoutRules()
        XCTAssertEqual(rules.refuseOverdueDays, 30)
        var contradictory = rules
        contradictory.warnOverdueDays = 40
        XCTAssertThrowsError(try till.setCheckoutRules(rules: contradictory, now: now))
        rules.refuseOverdueDays = 5
        rules.defaultCreditLimit = "100"
        try till.setCheckoutRules(rules: rules, now: now)
        _ = try till.sellOnAccount(customer: "C2", amount: "80", invoiceRef: nil, deposit: nil, ctx: ctx())
        XCTAssertEqual(try till.check(customer: "C2", cartTotal: "30", now: now).decision, .refuse)
        XCTAssertEqual(try till.pendingEvents(), 4)
        XCTAssertEqual(try till.deviceId().count, 36)
        XCTAssertFalse(ardoiseVersion().isEmpty)
    }

    func testBadInputThrowsTypedErrorsAndWritesNothing() throws {
        let before = try till.pendingEvents()
        for amount in ["12.345", "1,50", "1e3", "", " 5", "-5", "0"] {
            XCTAssertThrowsError(try till.sellOnAccount(customer: "C1", amount: amount, invoiceRef: nil, deposit: nil, ctx: ctx()), amount) { error in
                guard case ArdoiseError.InvalidInput = error else { return XCTFail("\(amount): \(error)") }
            }
        }
        XCTAssertThrowsError(try till.check(customer: "C1", cartTotal: "10", now: "2026-03-02"))
        XCTAssertThrowsError(try till.account(customer: "C1", today: "2026-13-01"))
        XCTAssertThrowsError(try till.reverse(customer: "C1", entryId: "not-an-id", reason: "x", ctx: ctx()))
        XCTAssertThrowsError(try till.searchCustomers(query: String(repeating: "x", count: 1_000_000), limit: 10))
        XCTAssertThrowsError(try till.sellOnAccount(customer: "NOPE", amount: "1", invoiceRef: nil, deposit: nil, ctx: ctx())) { error in
            guard case ArdoiseError.NotFound = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try till.applyDeposit(customer: "C1", amount: "1", invoice: nil, ctx: ctx())) { error in
            guard case ArdoiseError.Conflict = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try till.pendingEvents(), before)
    }

    func testStorageErrorsLeaveTheFileAlone() throws {
        let junk = dir.appendingPathComponent("junk.db")
        try "not a database".write(to: junk, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Till.open(path: junk.path)) { error in
            guard case ArdoiseError.Storage = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try String(contentsOf: junk, encoding: .utf8), "not a database")
    }

    func testCloseSuspendResumeAndLifetimes() throws {
        _ = try till.sellOnAccount(customer: "C1", amount: "10", invoiceRef: nil, deposit: nil, ctx: ctx())
        try till.suspend()
        XCTAssertThrowsError(try till.check(customer: "C1", cartTotal: "1", now: now))
        try till.resume()
        XCTAssertEqual(try till.account(customer: "C1", today: "2026-03-02").balance, "10.00")
        let path = dir.appendingPathComponent("other.db").path
        do {
            let other = try Till.open(path: path)
            _ = try other.addCustomer(customer: NewCustomer(reference: "Z", name: "Zoé", kind: .consumer, terms: "receipt"), now: now)
            other.closeDatabase()
            XCTAssertThrowsError(try other.customer(reference: "Z"))
        }
        XCTAssertEqual(try Till.open(path: path).customer(reference: "Z").name, "Zoé")
    }

    func testCallsFromSeveralThreadsAtOnce() throws {
        let refs = (1...8).map { "T\($0)" }
        for r in refs {
            _ = try till.addCustomer(customer: NewCustomer(reference: r, name: "Thread \(r)", kind: .consumer, terms: "30"), now: now)
        }
        let till = self.till!
        DispatchQueue.concurrentPerform(iterations: refs.count) { i in
            for n in 0..<100 {
                _ = try? till.sellOnAccount(customer: refs[i], amount: "1.25", invoiceRef: nil, deposit: nil, ctx: ctx())
                _ = try? till.check(customer: refs[i], cartTotal: "1", now: now)
                if n % 4 == 3 { _ = try? till.pay(customer: refs[i], amount: "1", method: .cash, invoice: nil, ctx: ctx()) }
            }
        }
        for r in refs {
            XCTAssertEqual(try till.account(customer: r, today: "2026-03-02").balance, "100.00")
            XCTAssertEqual(try till.timeline(customer: r, limit: 1000).count, 125)
        }
    }

    func testTenThousandOperationsKeepMemoryFlat() throws {
        // The resident set size in bytes; a test that cannot measure fails rather than passes.
        func residentBytes() throws -> UInt64 {
            #if canImport(Darwin)
            var info = mach_task_basic_info()
            var count = mach_msg_type_number_t(MemoryLayout<mach_task_basic_info>.size) / 4
            let kr = withUnsafeMutablePointer(to: &info) {
                $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) { task_info(mach_task_self_, task_flavor_t(MACH_TASK_BASIC_INFO), $0, &count) }
            }
            guard kr == KERN_SUCCESS else { throw MeasureError("task_info failed: \(kr)") }
            return info.resident_size
            #else
            // Linux: /proc/self/statm's second field is the resident set, in pages.
            let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
            let fields = statm.split(separator: " ")
            guard fields.count > 1, let pages = UInt64(fields[1]) else { throw MeasureError("unreadable statm: \(statm)") }
            return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
            #endif
        }
        func batch(_ n: Int) throws {
            for i in 0..<n {
                switch i % 5 {
                case 0: _ = try till.sellOnAccount(customer: "C2", amount: "2.50", invoiceRef: nil, deposit: nil, ctx: ctx())
                case 1: _ = try till.pay(customer: "C2", amount: "2.50", method: .card, invoice: nil, ctx: ctx())
                case 2: _ = try till.check(customer: "C2", cartTotal: "3", now: now)
                case 3: _ = try till.searchCustomers(query: "boul", limit: 5)
                default: _ = try till.account(customer: "C2", today: "2026-03-02")
                }
            }
        }
        try batch(2_000)
        var samples = [try residentBytes()]
        for _ in 0..<4 {
            try batch(2_000)
            samples.append(try residentBytes())
        }
        // SQLite's page cache (16 MB) fills, then stays; a leak keeps growing window after window.
        let mb = { (a: UInt64, b: UInt64) in (Double(b) - Double(a)) / 1_048_576 }
        XCTAssertLessThan(mb(samples[3], samples[4]), 2, "still growing: \(samples)")
        XCTAssertLessThan(mb(samples[0], samples[4]), 16, "grew too much: \(samples)")
        XCTAssertEqual(try till.account(customer: "C2", today: "2026-03-02").balance, "0.00")
    }
}

private struct MeasureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
