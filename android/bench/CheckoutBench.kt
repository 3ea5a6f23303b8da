// Times the checkout verdict called from Kotlin through JNA, on a copy of the benchmark shop,
// the same way core/benches/shop.rs times it in Rust: individual calls, p50 and p99.
package app.ardoise.bench

import app.ardoise.Till
import app.ardoise.checkoutLane
import java.io.File
import kotlin.random.Random

/**
 * JIT warm-up: at least 20,000 calls and at least `ardoise.bench.warmup.s` seconds (10 by
 * default). A count alone was not enough on a loaded machine with 2 cores: the JVM has one C2
 * compiler thread there, and `-XX:+PrintCompilation` showed `Till.checkMinor` still in C1
 * code (tier 3, with profiling) after 20,000 calls; it reached C2 (tier 4) seconds later.
 */
fun warmUp(call: () -> Unit) {
    val seconds = System.getProperty("ardoise.bench.warmup.s")?.toDouble() ?: 10.0
    val end = System.nanoTime() + (seconds * 1e9).toLong()
    var n = 0
    while (n < 20_000 || System.nanoTime() < end) {
        call()
        n++
    }
}

fun main(args: Array<String>) {
    val db = args.getOrNull(0) ?: error("usage: CheckoutBench DB NOW [CALLS]")
    val now = args.getOrNull(1) ?: error("usage: CheckoutBench DB NOW [CALLS]")
    val calls = args.getOrNull(2)?.toInt() ?: 100_000
    Till.open(db).use { till ->
        val refs = ArrayList<String>()
        var offset = 0u
        while (refs.size < 5_000) {
            val page = till.listCustomers(1_000u, offset)
            if (page.isEmpty()) break
            refs += page.map { it.reference }
            offset += 1_000u
        }
        val rng = Random(42)
        warmUp { till.check(refs[rng.nextInt(refs.size)], "25.00", now) }
        val times = LongArray(calls)
        val picks = IntArray(calls) { rng.nextInt(refs.size) }
        for (i in 0 until calls) {
            val ref = refs[picks[i]]
            val t0 = System.nanoTime()
            till.check(ref, "25.00", now)
            times[i] = System.nanoTime() - t0
        }
        // The fixed cost of a call through JNA: a function returning a string, and a method
        // taking the till's lock and returning a string.
        fun floor(name: String, call: () -> Unit) {
            warmUp(call)
            val t = LongArray(50_000)
            for (i in t.indices) {
                val t0 = System.nanoTime()
                call()
                t[i] = System.nanoTime() - t0
            }
            t.sort()
            println("$name p50_us=%.2f p99_us=%.2f".format(t[t.size / 2] / 1000.0, t[(t.size * 99) / 100] / 1000.0))
        }
        val nowMs = java.time.OffsetDateTime.parse(now).toInstant().toEpochMilli()
        val offsetMin = java.time.OffsetDateTime.parse(now).offset.totalSeconds / 60
        floor("kotlin_jna_check_minor") { till.checkMinor(refs[rng.nextInt(refs.size)], 2_500L, nowMs, offsetMin) }
        // The hot path: the same verdict through a CheckoutLane (one plain native call).
        val laneTimes = LongArray(calls)
        till.checkoutLane().use { lane ->
            warmUp { lane.check(refs[rng.nextInt(refs.size)], 2_500L, nowMs, offsetMin) }
            for (i in 0 until calls) {
                val ref = refs[picks[i]]
                val t0 = System.nanoTime()
                lane.check(ref, 2_500L, nowMs, offsetMin)
                laneTimes[i] = System.nanoTime() - t0
            }
        }
        floor("ffi_version") { app.ardoise.ardoiseVersion() }
        floor("ffi_device_id") { till.deviceId() }
        times.sort()
        laneTimes.sort()
        fun us(t: LongArray, q: Double) = t[((t.size - 1) * q).toInt()] / 1000.0
        val mean = times.average() / 1000.0
        val laneMean = laneTimes.average() / 1000.0
        println("kotlin_jna_checkout calls=$calls p50_us=%.2f p99_us=%.2f mean_us=%.2f".format(us(times, 0.50), us(times, 0.99), mean))
        println("kotlin_lane_checkout calls=$calls p50_us=%.2f p99_us=%.2f mean_us=%.2f".format(us(laneTimes, 0.50), us(laneTimes, 0.99), laneMean))
        File(System.getProperty("ardoise.bench.out") ?: "/dev/null").writeText(
            """{"calls": $calls, "p50_us": ${us(times, 0.50)}, "p99_us": ${us(times, 0.99)}, "mean_us": $mean, """ +
                """"lane": {"p50_us": ${us(laneTimes, 0.50)}, "p99_us": ${us(laneTimes, 0.99)}, "mean_us": $laneMean}}""" + "\n"
        )
    }
}
