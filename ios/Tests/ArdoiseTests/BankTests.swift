// The owner's bank reconciliation, mirroring android/src/test/kotlin/app/ardoise/BankTest.kt:
// a statement applied by reference, suggested by name, confirmed, undone, imported again for
// nothing; a file that does not add up writes nothing.
import Foundation
import XCTest

@testable import Ardoise

final class BankTests: XCTestCase {
    var dir: URL!
    var till: Till!
    let now = "2026-11-24T10:00:00+01:00"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        till = try Till.open(path: dir.appendingPathComponent("till.db").path)
        _ = try till.importCustomers(
            csv: "ref,name,email,phone,kind,credit_limit,terms\n"
                + "C1,Hélène Dupré,,,consumer,,30\nC2,Boulangerie Martin,,,business,,30\n",
            now: now)
        _ = try till.importInvoices(
            csv: "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n"
                + "C1,F1,2026-09-01,2026-10-01,290,,\nC2,B1,2026-09-15,2026-10-15,80,,\n",
            dates: .iso, now: now)
    }

    override func tearDownWithError() throws {
        till.closeDatabase()
        till = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func entry(_ id: String, _ amount: String, _ credit: Bool, _ details: String) -> String {
        "<Ntry><Amt Ccy=\"EUR\">\(amount)</Amt><CdtDbtInd>\(credit ? "CRDT" : "DBIT")</CdtDbtInd><Sts>BOOK</Sts>"
            + "<BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>\(id)</AcctSvcrRef>"
            + "<NtryDtls><TxDtls>\(details)</TxDtls></NtryDtls></Ntry>"
    }

    func statement(_ closing: String, _ entries: String) -> String {
        "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>"
            + "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>"
            + "<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>"
            + "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-19</Dt></Dt></Bal>"
            + "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">\(closing)</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>"
            + entries + "</Stmt></BkToCstmrStmt></Document>"
    }

    func file() throws -> Data {
        let rf = try till.account(customer: "C1", today: "2026-11-24").paymentReference
        let xml = statement(
            "367.50",
            entry("T1", "290.00", true, "<RmtInf><Ustrd>VIR SEPA \(rf)</Ustrd></RmtInf>")
                + entry("T2", "80.00", true, "<RltdPties><Dbtr><Pty><Nm>BOULANGERIE MARTIN</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>VIREMENT</Ustrd></RmtInf>")
                + entry("T3", "2.50", false, "<RmtInf><Ustrd>FRAIS</Ustrd></RmtInf>"))
        return Data(xml.utf8)
    }

    func testAStatementIsAppliedSuggestedConfirmedAndUndone() throws {
        let r = try till.importBankStatement(file: try file(), csvMapping: nil, cashier: "Anna", now: now)
        XCTAssertEqual(r.imported, 3)
        XCTAssertEqual(r.applied.map(\.transaction), ["T1"])
        XCTAssertEqual(r.applied[0].rule, .reference)
        XCTAssertEqual(r.applied[0].invoices, ["F1"])
        XCTAssertEqual(try till.account(customer: "C1", today: "2026-11-24").balance, "0.00")

        XCTAssertEqual(r.suggested.map(\.transaction), ["T2"])
        let best = r.suggested[0].suggestions[0]
        XCTAssertEqual(best.customer, "C2")
        let byName = best.reasons.first { if case .name = $0 { return true } else { return false } }
        XCTAssertNotNil(byName)
        XCTAssertTrue(describeBankReason(reason: byName!).contains("BOULANGERIE MARTIN"))
        XCTAssertEqual(r.unmatched.map(\.transaction), ["T3"])
        XCTAssertEqual(r.unmatched[0].amount, "-2.50")
        XCTAssertEqual(try till.today(now: now).bankToConfirm.map(\.transaction), ["T2"])

        let confirmed = try till.confirmBankMatch(transaction: "T2", customer: "C2", invoice: "B1", by: "Marc", now: now)
        XCTAssertEqual(confirmed.state, .applied)
        XCTAssertEqual(confirmed.rule, .confirmed)
        XCTAssertEqual(confirmed.by, "Marc")
        XCTAssertEqual(try till.account(customer: "C2", today: "2026-11-24").balance, "0.00")
        XCTAssertEqual(try till.bankLines(state: .applied, limit: 50, offset: 0).count, 2)
        XCTAssertThrowsError(try till.confirmBankMatch(transaction: "T3", customer: "C2", invoice: nil, by: "Marc", now: now))
        let undone = try till.undoBankMatch(transaction: "T2", by: "Marc", now: now)
        XCTAssertEqual(undone.state, .suggested)
        XCTAssertEqual(try till.account(customer: "C2", today: "2026-11-24").balance, "80.00")

        let again = try till.importBankStatement(file: try file(), csvMapping: nil, cashier: "Anna", now: now)
        XCTAssertEqual(again.imported, 0)
        XCTAssertEqual(again.duplicates, 3)
        XCTAssertEqual(try till.account(customer: "C2", today: "2026-11-24").balance, "80.00")
    }

    func testAFileThatDoesNotAddUpWritesNothing() throws {
        let bad = Data(statement("999.00", entry("T1", "290.00", true, "<RmtInf><Ustrd>x</Ustrd></RmtInf>")).utf8)
        XCTAssertThrowsError(try till.importBankStatement(file: bad, csvMapping: nil, cashier: "Anna", now: now)) { error in
            guard case ArdoiseError.InvalidInput(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("is not the closing"), message)
        }
        XCTAssertEqual(try till.bankLines(state: nil, limit: 50, offset: 0).count, 0)
    }
}
