// Sync against a real back office, mirroring android/src/test/kotlin/app/ardoise/SyncTest.kt.
// Run under bindings/with-sync-servers.sh (as .github/workflows/ios.yml does), which serves
// ardoise-server on loopback and passes its URL and one-time enrolment codes in the
// environment; without them these tests are skipped.
import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking  // URLSession and URLRequest live here on Linux
#endif

@testable import Ardoise

func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw XCTSkip("\(name) is not set: run the tests under bindings/with-sync-servers.sh")
    }
    return value
}

/// Codes no other test has used, and references no other test uses: every test syncs with
/// the same shop. A lock guards the counters, so the suite is data-race free in Swift 6 mode.
final class Shared: @unchecked Sendable {
    private static let one = Shared()
    private let lock = NSLock()
    private var used = 0
    private var unique = 0

    static func code() throws -> String {
        let codes = try env("ARDOISE_SYNC_CODES").split(separator: ",").map(String.init)
        return try one.locked {
            guard $0.used < codes.count else { throw XCTSkip("with-sync-servers.sh made too few codes") }
            $0.used += 1
            return codes[$0.used - 1]
        }
    }

    static func ref() -> String {
        let n = one.locked {
            $0.unique += 1
            return $0.unique
        }
        return "S\(UInt64(Date().timeIntervalSince1970 * 1000) % 100_000)-\(n)"
    }

    private func locked<T>(_ body: (Shared) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(self)
    }
}

/// `body` must throw an `ArdoiseError` that `matches` accepts.
private func assertThrows<T>(
    _ body: () async throws -> T, _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ matches: (ArdoiseError) -> Bool
) async -> ArdoiseError? {
    do {
        _ = try await body()
        XCTFail("expected \(what), got no error", file: file, line: line)
    } catch let e as ArdoiseError {
        XCTAssertTrue(matches(e), "expected \(what), got \(e)", file: file, line: line)
        return e
    } catch {
        XCTFail("expected \(what), got \(error)", file: file, line: line)
    }
    return nil
}

/// RFC 3339, with or without fractional seconds.
private func rfc3339(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return plain.date(from: text) ?? fractional.date(from: text)
}

private func message(_ e: ArdoiseError?) -> String { e.map { "\($0)" } ?? "" }

final class SyncTests: XCTestCase {
    var dir: URL!
    var tills: [Till] = []

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        tills.forEach { $0.closeDatabase() }
        tills = []
        try? FileManager.default.removeItem(at: dir)
    }

    private func till(_ name: String) throws -> Till {
        let t = try Till.open(path: dir.appendingPathComponent("\(name).db").path)
        tills.append(t)
        return t
    }

    private func customer(_ till: Till, _ reference: String) throws {
        _ = try till.addCustomer(
            customer: NewCustomer(reference: reference, name: "Client \(reference)", kind: .consumer, creditLimit: "500", terms: "30"),
            now: now)
    }

    func testTwoTillsShareCustomersSalesAndPayments() async throws {
        let url = try env("ARDOISE_SYNC_URL")
        let a = try till("a")
        let b = try till("b")
        let enrolled = try await a.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Till A")
        XCTAssertEqual(enrolled.serverUrl, url)
        let enrolledB = try await b.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Till B")
        XCTAssertEqual(enrolledB.shopId, enrolled.shopId)

        let c = Shared.ref()
        try customer(a, c)
        XCTAssertEqual(try a.sellOnAccount(customer: c, amount: "40.00", invoiceRef: nil, deposit: nil, ctx: ctx()).balance, "40.00")
        let pushed = try await a.sync()
        XCTAssertGreaterThanOrEqual(pushed.pushed, 2)
        XCTAssertEqual(pushed.status.waiting, 0)

        let pulled = try await b.sync()
        XCTAssertGreaterThanOrEqual(pulled.applied, 2)
        XCTAssertEqual(try b.customer(reference: c).name, "Client \(c)")
        XCTAssertEqual(try b.account(customer: c, today: "2026-03-02").balance, "40.00")
        XCTAssertEqual(try a.account(customer: c, today: "2026-03-02"), try b.account(customer: c, today: "2026-03-02"))
        // The payment reference is derived from the customer's id: both tills print the same one.
        XCTAssertTrue(try b.account(customer: c, today: "2026-03-02").paymentReference.hasPrefix("RF"))
        XCTAssertEqual(try a.account(customer: c, today: "2026-03-02").paymentReference, try b.account(customer: c, today: "2026-03-02").paymentReference)

        XCTAssertEqual(try b.pay(customer: c, amount: "15.00", method: .cash, invoice: nil, ctx: ctx()).balance, "25.00")
        let back = try await b.sync()
        XCTAssertEqual(back.status.waiting, 0)
        _ = try await a.sync()
        XCTAssertEqual(try a.account(customer: c, today: "2026-03-02").balance, "25.00")
        XCTAssertEqual(Set(try a.timeline(customer: c, limit: 10).map(\.entry.id)), Set(try b.timeline(customer: c, limit: 10).map(\.entry.id)))
    }

    func testAUsedCodeIsRefused() async throws {
        let url = try env("ARDOISE_SYNC_URL")
        let code = try Shared.code()
        _ = try await till("first").enrol(serverUrl: url, code: code, deviceName: "First till")
        let second = try till("second")
        let e = await assertThrows({ try await second.enrol(serverUrl: url, code: code, deviceName: "Second till") }, "SyncRefused") {
            if case .SyncRefused = $0 { return true } else { return false }
        }
        XCTAssertTrue(message(e).contains("code"), message(e))
        XCTAssertFalse(try second.syncStatus().enrolled)
    }

    func testATillMustBeEnrolledToSync() async throws {
        let t = try till("alone")
        try customer(t, Shared.ref())
        let e = await assertThrows({ try await t.sync() }, "NotEnrolled") {
            if case .NotEnrolled = $0 { return true } else { return false }
        }
        XCTAssertTrue(message(e).contains("not enrolled"), message(e))
        let status = try t.syncStatus()
        XCTAssertFalse(status.enrolled)
        XCTAssertNil(status.serverUrl)
        XCTAssertEqual(status.waiting, 1)
    }

    func testPlainHttpIsOnlyForThisMachine() async throws {
        let t = try till("plain")
        _ = await assertThrows({ try await t.enrol(serverUrl: "http://shop.example", code: "ABCDEFGHJK", deviceName: "Till") }, "InvalidInput") {
            if case .InvalidInput = $0 { return true } else { return false }
        }
        XCTAssertFalse(try t.syncStatus().enrolled)
    }

    func testTheStatusCountsWaitingEventsUntilASync() async throws {
        let url = try env("ARDOISE_SYNC_URL")
        let t = try till("status")
        let enrolled = try await t.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Status till")
        let before = try t.syncStatus()
        XCTAssertTrue(before.enrolled)
        XCTAssertEqual(before.serverUrl, url)
        XCTAssertEqual(before.shopId, enrolled.shopId)
        XCTAssertNil(before.lastSuccess)
        XCTAssertEqual(before.waiting, 0)

        let c = Shared.ref()
        try customer(t, c)
        _ = try t.sellOnAccount(customer: c, amount: "12.50", invoiceRef: nil, deposit: nil, ctx: ctx())
        let waiting = try t.syncStatus().waiting
        XCTAssertEqual(waiting, 2)
        XCTAssertEqual(try t.pendingEvents(), waiting)

        let report = try await t.sync()
        XCTAssertEqual(UInt64(report.pushed), waiting)
        let after = try t.syncStatus()
        XCTAssertEqual(after, report.status)
        XCTAssertEqual(after.waiting, 0)
        XCTAssertEqual(after.failures, 0)
        XCTAssertFalse(after.stuck)
        XCTAssertNil(after.lastError)
        XCTAssertGreaterThan(after.cursor, 0)
        let lastSuccess = try XCTUnwrap(after.lastSuccess)
        XCTAssertNotNil(rfc3339(lastSuccess), lastSuccess)
    }

    func testAStoppedServerLeavesTheEventsWaiting() async throws {
        let doomedUrl = try env("ARDOISE_SYNC_DOOMED_URL")
        guard let pid = Int32(try env("ARDOISE_SYNC_DOOMED_PID")) else { return XCTFail("bad ARDOISE_SYNC_DOOMED_PID") }
        let t = try till("offline")
        _ = try await t.enrol(serverUrl: doomedUrl, code: try env("ARDOISE_SYNC_DOOMED_CODE"), deviceName: "Offline till")
        let c = Shared.ref()
        try customer(t, c)
        _ = try t.sellOnAccount(customer: c, amount: "8.00", invoiceRef: nil, deposit: nil, ctx: ctx())
        try await stopServer(pid: pid, url: doomedUrl)

        let first = await assertThrows({ try await t.sync() }, "Unreachable") {
            if case .Unreachable = $0 { return true } else { return false }
        }
        XCTAssertTrue(message(first).contains("sync failed"), message(first))
        let status = try t.syncStatus()
        XCTAssertEqual(status.waiting, 2)
        XCTAssertEqual(status.failures, 1)
        XCTAssertNotNil(status.lastError)
        XCTAssertNil(status.lastSuccess)

        _ = await assertThrows({ try await t.sync() }, "Unreachable") {
            if case .Unreachable = $0 { return true } else { return false }
        }
        XCTAssertEqual(try t.syncStatus().failures, 2)
        XCTAssertEqual(try t.syncStatus().waiting, 2)
        // The till keeps selling while it cannot sync.
        _ = try t.pay(customer: c, amount: "3.00", method: .card, invoice: nil, ctx: ctx())
        XCTAssertEqual(try t.syncStatus().waiting, 3)
    }

    func testThePhoneConfirmsACreditTheBackOfficeImportedAndATillUndoesIt() async throws {
        // with-sync-servers.sh had the back office import a statement: one credit of 12.34
        // from a payer who was nobody's customer then.
        let url = try env("ARDOISE_SYNC_URL")
        let line = try env("ARDOISE_SYNC_BANK_LINE")
        let phone = try till("phone")
        _ = try await phone.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Owner's phone")
        let c = Shared.ref()
        try customer(phone, c)
        _ = try phone.sellOnAccount(customer: c, amount: "12.34", invoiceRef: nil, deposit: nil, ctx: ctx())
        _ = try await phone.sync()
        let listed = try XCTUnwrap(try phone.bankLines(state: nil, limit: 50, offset: 0).first { $0.transaction == line })
        XCTAssertEqual(listed.amount, "12.34")
        XCTAssertEqual(listed.date, "2026-03-01")
        XCTAssertEqual(listed.state, .unmatched)
        XCTAssertTrue(listed.label.contains("VIREMENT M TESTEUR"), listed.label)

        // The owner says whose it is, on the phone: paid there, then on every till.
        let confirmed = try phone.confirmBankMatch(transaction: line, customer: c, invoice: nil, by: "Owner", now: now)
        XCTAssertEqual(confirmed.state, .applied)
        XCTAssertEqual(try phone.account(customer: c, today: "2026-03-02").balance, "0.00")
        let pushed = try await phone.sync()
        XCTAssertEqual(pushed.status.waiting, 0)
        let counter = try till("counter")
        _ = try await counter.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Counter")
        _ = try await counter.sync()
        XCTAssertEqual(try counter.account(customer: c, today: "2026-03-02").balance, "0.00")
        let seen = try XCTUnwrap(try counter.bankLines(state: .applied, limit: 50, offset: 0).first { $0.transaction == line })
        XCTAssertEqual(seen.customer, c)
        XCTAssertEqual(seen.by, "Owner")
        XCTAssertEqual(seen.rule, .confirmed)

        // Undone at the counter: the customer owes it again on the phone, and it is to place.
        _ = try counter.undoBankMatch(transaction: line, by: "anna", now: now)
        _ = try await counter.sync()
        _ = try await phone.sync()
        XCTAssertEqual(try phone.account(customer: c, today: "2026-03-02").balance, "12.34")
        XCTAssertEqual(try phone.bankLines(state: nil, limit: 50, offset: 0).first { $0.transaction == line }?.state, .unmatched)
    }

    func testASuspendedTillDoesNotSync() async throws {
        let url = try env("ARDOISE_SYNC_URL")
        let t = try till("suspended")
        _ = try await t.enrol(serverUrl: url, code: try Shared.code(), deviceName: "Suspended till")
        try t.suspend()
        _ = await assertThrows({ try await t.sync() }, "Closed") {
            if case .Closed = $0 { return true } else { return false }
        }
        XCTAssertThrowsError(try t.syncStatus())
        try t.resume()
        let report = try await t.sync()
        XCTAssertEqual(report.status.waiting, 0)
    }

    /// Stops the server with-sync-servers.sh started for this test, and waits until it no
    /// longer answers.
    private func stopServer(pid: Int32, url: String) async throws {
        XCTAssertEqual(kill(pid, SIGTERM), 0, "could not stop the sync server (pid \(pid))")
        let status = try XCTUnwrap(URL(string: url + "/v1/status"))
        for _ in 0..<100 {
            var request = URLRequest(url: status)
            request.timeoutInterval = 0.5
            do {
                _ = try await URLSession.shared.data(for: request)
                try await Task.sleep(nanoseconds: 50_000_000)
            } catch {
                return // refused: stopped
            }
        }
        XCTFail("the server at \(url) still answers")
    }
}
