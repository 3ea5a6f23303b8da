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
// Customer (i * 7919) mod n, the same picks as bindings/benches/verdict.rs.
func pick(_ i: Int) -> String { refs[(i * 7919) % refs.count] }

for i in 0..<20_000 {
    _ = try till.check(customer: pick(i), cartTotal: "25.00", now: now)
}
var times = [Double]()
times.reserveCapacity(calls)
for i in 0..<calls {
    let customer = pick(i)
    let t0 = DispatchTime.now().uptimeNanoseconds
    _ = try till.check(customer: customer, cartTotal: "25.00", now: now)
    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
}
times.sort()
func at(_ q: Double) -> Double { times[Int(Double(times.count - 1) * q)] }
let mean = times.reduce(0, +) / Double(times.count)
print(String(format: "swift_till_check calls=%d customers=%d p50_us=%.2f p99_us=%.2f mean_us=%.2f", calls, refs.count, at(0.5), at(0.99), mean))
