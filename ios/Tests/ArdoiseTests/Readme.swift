import Ardoise
import Foundation

/// Open the till's database once, at start-up (in the app's Application Support folder).
func openTill(at url: URL) throws -> Till {
    try Till.open(path: url.path)
}

/// At checkout: may this customer buy on account now, and if not, why?
func sayAtCheckout(_ till: Till, customer: String, cartTotal: String) throws -> String {
    let now = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime])
    let verdict = try till.check(customer: customer, cartTotal: cartTotal, now: now)
    switch verdict.decision {
    case .allow: return "on account OK, \(verdict.availableCredit ?? "no limit") EUR left"
    case .warn: return "OK, but: \(verdict.messages.joined(separator: "; "))"
    case .refuse: return "refused: \(verdict.messages.joined(separator: "; ")); deposits usable: \(verdict.depositsAvailable)"
    }
}

/// Sync (async): enrol once with the admin's one-time code, then sync now and then.
func syncNow(_ till: Till, server: String, code: String) async throws -> String {
    if try !till.syncStatus().enrolled {
        _ = try await till.enrol(serverUrl: server, code: code, deviceName: "Till 2")
    }
    do {
        let report = try await till.sync()
        return "pushed \(report.pushed), applied \(report.applied), \(report.status.waiting) waiting"
    } catch ArdoiseError.Unreachable {
        return "offline, \(try till.syncStatus().waiting) events wait for the next sync"
    }
}
