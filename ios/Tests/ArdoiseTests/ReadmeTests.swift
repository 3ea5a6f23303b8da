// Runs the README's Swift snippet (Readme.swift, which a Rust test holds equal to the README's
// code block) against a real database and a real back office.
import Foundation
import XCTest

@testable import Ardoise

final class ReadmeTests: XCTestCase {
    func testTheReadmeSnippetChecksSellsAndSyncs() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let till = try openTill(at: dir.appendingPathComponent("ardoise.db"))
        defer { till.closeDatabase() }
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime])
        let ref = Shared.ref()
        _ = try till.addCustomer(customer: NewCustomer(reference: ref, name: "Client \(ref)", kind: .consumer, creditLimit: "100", terms: "30"), now: today)
        XCTAssertEqual(try sayAtCheckout(till, customer: ref, cartTotal: "60.00"), "on account OK, 100.00 EUR left")

        _ = try till.sellOnAccount(customer: ref, amount: "80.00", invoiceRef: nil, deposit: nil, ctx: WriteContext(cashier: "anna", now: today))
        let said = try sayAtCheckout(till, customer: ref, cartTotal: "60.00")
        XCTAssertTrue(said.hasPrefix("refused: ") && said.hasSuffix("; deposits usable: 0.00"), said)

        let synced = try await syncNow(till, server: try env("ARDOISE_SYNC_URL"), code: try Shared.code())
        XCTAssertTrue(synced.hasPrefix("pushed ") && synced.hasSuffix(", 0 waiting"), synced)
        XCTAssertEqual(try till.syncStatus().waiting, 0)
    }
}
