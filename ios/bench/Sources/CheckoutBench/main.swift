// Times `Till.check` called from Swift, one call at a time: p50, p99 and mean in microseconds,
// printed as one line that run-linux-bench.sh sets beside the Rust figure of the same run.
import Ardoise
import Foundation

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write("usage: CheckoutBench DB NOW [CALLS]\n".data(using: .utf8)!)
    exit(2)
}
let (db, now) = (args[1], args[2])
let calls = args.count > 3 ? Int(args[3])! : 100_000
let till = try Till.open(path: db)

// The first 5,000 customers in the store's order, as the Rust and Kotlin benches take them.
var refs: [String] = []
while refs.count < 5_000 {
    let page = try till.listCustomers(limit: 1_000, offset: UInt32(refs.count))
    if page.isEmpty { break }
    refs += page.map(\.reference)
}
precondition(!refs.isEmpty, "the shop has no customer")
// Customer (i * 7919) mod n, the same picks as bindings/examples/verdict_bench.rs.
let customers = refs
let pick = { (i: Int) -> String in customers[(i * 7919) % customers.count] }

// Warms up, then times `calls` single calls of `f(i)`: p50, p99 and the mean, in µs. It uses
// only its arguments, so Swift 6 lets top-level code call it.
func time(_ name: String, _ calls: Int, _ customers: Int, _ f: (Int) throws -> Verdict) rethrows {
    for i in 0..<20_000 {
        _ = try f(i)
    }
    var times = [Double]()
    times.reserveCapacity(calls)
    for i in 0..<calls {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try f(i)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
    }
    times.sort()
    let at = { (q: Double) -> Double in times[Int(Double(times.count - 1) * q)] }
    let mean = times.reduce(0, +) / Double(times.count)
    print(name + String(format: " calls=%d customers=%d p50_us=%.2f p99_us=%.2f mean_us=%.2f", calls, customers, at(0.5), at(0.99), mean))
}

// `now` as Unix milliseconds and minutes east of UTC for the integer form of the call.
let nowMs = Int64((ISO8601DateFormatter().date(from: now)!.timeIntervalSince1970 * 1000).rounded())
let zone = now.hasSuffix("Z") ? "+00:00" : String(now.suffix(6))  // "+01:00"
let offset = Int32(Int(zone.prefix(3))! * 60 + (zone.hasPrefix("-") ? -1 : 1) * Int(zone.suffix(2))!)
try time("swift_till_check", calls, customers.count) { i in
    try till.check(customer: pick(i), cartTotal: "25.00", now: now)
}
try time("swift_till_check_minor", calls, customers.count) { i in
    try till.checkMinor(customer: pick(i), cartTotalMinor: 2500, nowUnixMs: nowMs, utcOffsetMinutes: offset)
}
