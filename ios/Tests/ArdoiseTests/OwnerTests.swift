// The owner's calls, mirroring android/src/test/kotlin/app/ardoise/OwnerTest.kt: import, aging
// and KPIs as of past dates, the overdue list, statements, risk, exports and the GDPR calls.
import Foundation
import XCTest

@testable import Ardoise

final class OwnerTests: XCTestCase {
    var dir: URL!
    var till: Till!
    let now = "2026-11-24T10:00:00+01:00"
    let head = "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        till = try Till.open(path: dir.appendingPathComponent("till.db").path)
        let customers = "ref,name,email,phone,kind,credit_limit,terms\n"
            + "C1,Hélène Dupré,helene@example.fr,+33 6 12 34 56 78,consumer,500.00,30\n"
            + "C2,Boulangerie Martin,,,business,,30\n"
        XCTAssertEqual(try till.importCustomers(csv: customers, now: now).customersCreated, 2)
        let invoices = head
            + "C1,D1,2023-12-10,2024-01-09,700,2024-02-10,\n"
            + "C1,J1,2024-01-10,2024-02-09,300,2024-02-05,\n"
            + "C1,F1,2024-02-15,2024-03-16,290,,\n"
            + "C1,M1,2024-03-20,2024-04-19,310,,\n"
            + "C2,B1,2023-10-01,2023-10-31,80,,yes\n"
        let r = try till.importInvoices(csv: invoices, dates: .iso, now: now)
        XCTAssertEqual(r.invoicesCreated, 5)
        XCTAssertEqual(r.paymentsRecorded, 2)
        XCTAssertEqual(r.disputesRecorded, 1)
    }

    override func tearDownWithError() throws {
        till.closeDatabase()
        till = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func testAgingAsOfAPastDate() throws {
        let a = try till.aging(asOf: "2024-03-31")
        XCTAssertEqual(a.total, "680.00")
        XCTAssertEqual(a.buckets.current, "310.00")
        XCTAssertEqual(a.buckets.days1To30, "290.00")
        XCTAssertEqual(a.buckets.days91Plus, "80.00")
        XCTAssertEqual(a.customers.map(\.customerRef), ["C1", "C2"])
        XCTAssertEqual(a.customers[1].oldestDays, 152)
        XCTAssertEqual(try till.aging(asOf: "2024-01-31").total, "1080.00")
    }

    func testKpisOverALeapQuarter() throws {
        let k = try till.kpis(asOf: "2024-03-31", months: 3)
        XCTAssertEqual(k.receivables, "680.00")
        XCTAssertEqual(k.creditSales, "900.00")
        XCTAssertEqual(k.days, 91)
        XCTAssertEqual(k.dsoSimple!, 680.0 / 900.0 * 91.0, accuracy: 1e-5)
        XCTAssertEqual(k.dsoCountback!, 31.0 + 29.0 + 80.0 / 300.0 * 31.0, accuracy: 1e-5)
        XCTAssertNotNil(k.ceiPct)
        XCTAssertThrowsError(try till.kpis(asOf: "2024-03-31", months: 0))
        XCTAssertThrowsError(try till.kpis(asOf: "2024-02-30", months: 3))
        // The owner's first screen: both in one call, the same answers.
        let o = try till.overview(asOf: "2024-03-31", months: 3)
        XCTAssertEqual(o.aging, try till.aging(asOf: "2024-03-31"))
        XCTAssertEqual(o.kpis, k)
        XCTAssertThrowsError(try till.overview(asOf: "2024-03-31", months: 0))
    }

    func testOverdueListAndStatement() throws {
        let byAge = try till.overdueAccounts(asOf: "2024-03-31", sort: .age, limit: 10)
        XCTAssertEqual(byAge.map(\.customerRef), ["C2", "C1"])
        XCTAssertEqual(byAge[1].overdue, "290.00")
        XCTAssertEqual(byAge[1].owed, "600.00")
        let st = try till.statement(customer: "C1", from: "2024-02-01", to: "2024-02-29")
        XCTAssertEqual(st.openingBalance, "1000.00")
        XCTAssertEqual(st.lines.map(\.balance), ["700.00", "0.00", "290.00"])
        XCTAssertEqual(st.closingBalance, "290.00")
        XCTAssertThrowsError(try till.statement(customer: "NOPE", from: "2024-02-01", to: "2024-02-29"))
    }

    func testImportIsAllOrNothingAndIdempotent() throws {
        let bad = head + "C3,X1,2024-01-01,2024-01-31,10.00,,\nC3,X2,2024-01-01,2024-01-31,1.234,,\n"
        XCTAssertThrowsError(try till.importInvoices(csv: bad, dates: .iso, now: now)) { error in
            XCTAssertTrue("\(error)".contains("line 3"))
        }
        XCTAssertThrowsError(try till.customer(reference: "C3"))
        let again = try till.importInvoices(csv: head + "C1,J1,2024-01-10,2024-02-09,300,2024-02-05,\n", dates: .iso, now: now)
        XCTAssertEqual(again.unchanged, 1)
        XCTAssertEqual(again.invoicesCreated, 0)
    }

    func testExportsAndGdpr() throws {
        try till.addNote(customer: "C1", note: "=HYPERLINK(\"http://evil\")", author: "owner", now: now)
        let csv = try till.export(kind: .accounts, format: .csv)
        XCTAssertTrue(csv.contains("C1,Hélène Dupré,helene@example.fr,'+33 6 12 34 56 78"))
        XCTAssertTrue(try till.customerData(customer: "C1", now: now).contains("helene@example.fr"))
        let erased = try till.eraseCustomer(customer: "C1", author: "owner", now: now)
        XCTAssertEqual(erased.entriesKept, 6)
        let after = try till.customerData(customer: "C1", now: now)
        XCTAssertFalse(after.contains("helene@example.fr"))
        XCTAssertFalse(after.contains("HYPERLINK"))
        XCTAssertEqual(try till.account(customer: "C1", today: "2026-11-24").balance, "600.00")
    }

    func testRiskReachesTheCheckout() throws {
        XCTAssertEqual(try till.refreshRisk(now: "2024-03-31T10:00:00+02:00"), 2)
        let risk = try till.riskReport(asOf: "2024-03-31")
        XCTAssertEqual(risk.count, 2)
        XCTAssertTrue(risk.allSatisfy { $0.score >= 0 && $0.score <= 1 && !$0.reasons.isEmpty })
        let v = try till.check(customer: risk[0].customerRef, cartTotal: "1.00", now: "2024-03-31T10:00:00+02:00")
        XCTAssertEqual(v.lateRiskPct.map(Int.init), Int((risk[0].score * 100).rounded()))
        XCTAssertEqual(v.lateRiskReasons, risk[0].reasons)
    }
}
