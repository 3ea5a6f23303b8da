// The checkout lane (CheckoutLane.kt over bindings/src/lane.rs) against Till.checkMinor: the
// same verdicts, the same exceptions, and its own lifecycle.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.nio.charset.CharacterCodingException
import java.nio.file.Files
import java.time.OffsetDateTime
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Before
import org.junit.Test

class CheckoutLaneTest {
    private lateinit var dir: File
    private lateinit var till: Till

    private fun ms(date: String) = OffsetDateTime.parse(at(date)).toInstant().toEpochMilli()

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-lane-test").toFile()
        till = Till.open(File(dir, "till.db").path)
        till.addCustomer(NewCustomer(reference = "C1", name = "Hélène Dupré", kind = CustomerKind.CONSUMER, creditLimit = "200", terms = "30"), NOW)
        till.addCustomer(NewCustomer(reference = "C2", name = "Boulangerie Martin", kind = CustomerKind.BUSINESS, terms = "45eom"), NOW)
        till.addCustomer(NewCustomer(reference = "Ç3-é", name = "Zoë Ñúñez ".repeat(18).trim(), kind = CustomerKind.CONSUMER, creditLimit = "100", terms = "30"), NOW)
    }

    @After
    fun tearDown() {
        till.closeDatabase()
        till.close()
        dir.deleteRecursively()
    }

    /** The lane and `checkMinor` give the same verdict, or throw the same exception. */
    private fun sameAsCheckMinor(lane: CheckoutLane, customer: String, cents: Long, nowMs: Long, offset: Int): Verdict? {
        val expected = runCatching { till.checkMinor(customer, cents, nowMs, offset) }
        val actual = runCatching { lane.check(customer, cents, nowMs, offset) }
        val what = "$customer $cents $nowMs $offset"
        if (expected.isSuccess) {
            assertEquals(expected.getOrThrow(), actual.getOrElse { throw AssertionError("$what: lane threw $it", it) }, what)
        } else {
            val e = expected.exceptionOrNull()!!
            val a = actual.exceptionOrNull() ?: throw AssertionError("$what: lane answered, checkMinor threw $e")
            assertEquals(e.javaClass, a.javaClass, what)
            assertEquals(e.message, a.message, what)
        }
        return expected.getOrNull()
    }

    @Test
    fun theLaneGivesCheckMinorsVerdictEveryTime() {
        till.sellOnAccount("C1", "50", null, null, ctx("2026-03-01"))
        till.sellOnAccount("C2", "80", null, null, ctx("2026-03-01"))
        till.sellOnAccount("Ç3-é", "90", null, null, ctx("2026-03-01"))
        till.updateCustomer("C2", CustomerPatch(blocked = "cheque bounced"), NOW)
        till.takeDeposit("C1", "15", PaymentMethod.CASH, null, ctx("2026-03-02"))
        val verdicts = mutableListOf<Verdict>()
        till.checkoutLane().use { lane ->
            for (customer in listOf("C1", "C2", "Ç3-é")) {
                for (date in listOf("2026-03-02", "2026-03-31", "2026-04-02", "2026-04-30", "2027-01-15")) {
                    for (cents in listOf(0L, 1L, 1_000L, 9_999L, 15_000L, 100_000_000L)) {
                        for (offset in listOf(-720, 0, 60, 840)) {
                            sameAsCheckMinor(lane, customer, cents, ms(date), offset)?.let { verdicts += it }
                        }
                    }
                }
            }
        }
        // The cases above cover every decision and the reasons with their numbers.
        assertEquals(Decision.entries.toSet(), verdicts.map { it.decision }.toSet())
        val reasons = verdicts.flatMap { it.reasons }
        assertTrue(reasons.any { it is Reason.Overdue && it.amount == "50.00" }, "overdue")
        assertTrue(reasons.any { it is Reason.Blocked && it.reason == "cheque bounced" }, "blocked")
        assertTrue(reasons.any { it is Reason.OverLimit }, "over limit")
        assertTrue(verdicts.any { it.customerRef == "Ç3-é" && it.customerName.startsWith("Zoë Ñúñez") }, "name")
        assertTrue(verdicts.any { it.customerRef == "C1" && it.depositsAvailable == "15.00" }, "deposits")
    }

    @Test
    fun errorsAreTheSameExceptionsAsCheckMinors() {
        till.checkoutLane().use { lane ->
            val now = ms("2026-03-02")
            assertFailsWith<ArdoiseException.NotFound> { lane.check("NOPE", 100L, now, 60) }
            assertFailsWith<ArdoiseException.InvalidInput> { lane.check("C1", -1L, now, 60) }
            assertFailsWith<ArdoiseException.InvalidInput> { lane.check("C1", 1L, now, 100_000) }
            for ((customer, cents, nowMs, offset) in listOf(
                Quad("NOPE", 100L, now, 60), Quad("C1", -1L, now, 60), Quad("C1", 1L, now, 100_000),
                Quad("C1", 1L, Long.MAX_VALUE, 60), Quad("C1", 1L, Long.MIN_VALUE, 60), Quad("C1", Long.MAX_VALUE, now, 60),
                Quad("C1", Long.MIN_VALUE, now, 60), Quad("", 100L, now, 60), Quad("C 1", 100L, now, 60),
            )) {
                sameAsCheckMinor(lane, customer, cents, nowMs, offset)
            }
            // Not UTF-16 that UTF-8 can carry: refused before the call, as the generated code does.
            assertFailsWith<CharacterCodingException> { lane.check("C\uD800", 100L, now, 60) }
            assertFailsWith<CharacterCodingException> { till.checkMinor("C\uD800", 100L, now, 60) }
            // After an error the lane still answers.
            assertEquals(till.checkMinor("C1", 100L, now, 60), lane.check("C1", 100L, now, 60))
        }
    }

    private data class Quad(val customer: String, val cents: Long, val nowMs: Long, val offset: Int)

    @Test
    fun theBufferGrowsForLongReferencesAndLongAnswers() {
        // A tiny buffer: the reference does not fit going in, nor the verdict coming back.
        CheckoutLane(till, 8).use { lane ->
            val now = ms("2026-03-02")
            assertEquals(till.checkMinor("Ç3-é", 100L, now, 60), lane.check("Ç3-é", 100L, now, 60))
            assertEquals(till.checkMinor("C1", 100L, now, 60), lane.check("C1", 100L, now, 60))
            sameAsCheckMinor(lane, "X".repeat(100_000), 100L, now, 60)
            sameAsCheckMinor(lane, "é".repeat(40_000), 100L, now, 60)
        }
    }

    @Test
    fun aClosedLaneOrTillThrows() {
        val now = ms("2026-03-02")
        val lane = till.checkoutLane()
        till.suspend()
        assertFailsWith<ArdoiseException.Closed> { lane.check("C1", 100L, now, 60) }
        till.resume()
        assertEquals(Decision.ALLOW, lane.check("C1", 100L, now, 60).decision)
        lane.close()
        lane.close()
        assertFailsWith<IllegalStateException> { lane.check("C1", 100L, now, 60) }

        val other = Till.open(File(dir, "other.db").path)
        other.addCustomer(NewCustomer(reference = "C1", name = "Anne", kind = CustomerKind.CONSUMER, terms = "30"), NOW)
        val otherLane = other.checkoutLane()
        assertEquals(Decision.ALLOW, otherLane.check("C1", 100L, now, 60).decision)
        other.closeDatabase()
        assertFailsWith<ArdoiseException.Closed> { otherLane.check("C1", 100L, now, 60) }
        other.close()
        assertFailsWith<IllegalStateException> { otherLane.check("C1", 100L, now, 60) }
        otherLane.close()
    }

    @Test
    fun oneLaneServesSeveralThreads() {
        till.sellOnAccount("C1", "50", null, null, ctx("2026-03-01"))
        val now = ms("2026-04-02")
        val expected = listOf("C1", "C2", "Ç3-é").associateWith { till.checkMinor(it, 2_500L, now, 60) }
        till.checkoutLane().use { lane ->
            val pool = Executors.newFixedThreadPool(4)
            try {
                val results = (0 until 4).map { t ->
                    pool.submit<Int> {
                        var same = 0
                        repeat(300) { i ->
                            val customer = expected.keys.elementAt((i + t) % expected.size)
                            if (lane.check(customer, 2_500L, now, 60) == expected[customer]) same++
                        }
                        same
                    }
                }
                // The timeout only guards against a deadlock; it is not a measurement.
                assertEquals(List(4) { 300 }, results.map { it.get(5, TimeUnit.MINUTES) })
            } finally {
                pool.shutdownNow()
            }
        }
    }
}
