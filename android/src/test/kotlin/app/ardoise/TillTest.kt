// JVM tests of the Ardoise Kotlin library: the generated bindings calling the real native library.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.nio.file.Files
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Before
import org.junit.Test

const val NOW = "2026-03-02T10:00:00+01:00"

fun at(date: String) = "${date}T10:00:00+01:00"

fun ctx(date: String = "2026-03-02", cashier: String = "anna") = WriteContext(cashier = cashier, now = at(date))

class TillTest {
    private lateinit var dir: File
    private lateinit var till: Till

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-test").toFile()
        till = Till.open(File(dir, "till.db").path)
        till.addCustomer(
            NewCustomer(reference = "C1", name = "Hélène Dupré", kind = CustomerKind.CONSUMER, creditLimit = "200", terms = "30",
                phone = "+33 6 12 34 56 78", email = "helene@example.fr", consentEmail = true),
            NOW,
        )
        till.addCustomer(NewCustomer(reference = "C2", name = "Boulangerie Martin", kind = CustomerKind.BUSINESS, terms = "45eom"), NOW)
    }

    @After
    fun tearDown() {
        till.closeDatabase()
        till.close()
        dir.deleteRecursively()
    }

    @Test
    fun customersAreAddedFoundUpdatedAndListed() {
        val c = till.customer("C1")
        assertEquals("Hélène Dupré", c.name)
        assertEquals("200.00", c.creditLimit)
        assertEquals(CustomerKind.CONSUMER, c.kind)
        assertEquals(listOf("C1"), till.searchCustomers("hel", 10u).map { it.reference })
        assertEquals(listOf("C1"), till.searchCustomers("DUPRE", 10u).map { it.reference })
        assertEquals(listOf("C1"), till.searchCustomers("06 12 34", 10u).map { it.reference })
        assertEquals(listOf("C2"), till.searchCustomers("c2", 10u).map { it.reference })
        assertEquals(listOf("C2", "C1"), till.listCustomers(10u, 0u).map { it.reference })
        val updated = till.updateCustomer("C1", CustomerPatch(creditLimit = "300", blocked = "cheque bounced", email = ""), NOW)
        assertEquals("300.00", updated.creditLimit)
        assertEquals("cheque bounced", updated.blocked)
        assertNull(updated.email)
        assertEquals(null, till.updateCustomer("C1", CustomerPatch(blocked = ""), NOW).blocked)
        // Bills by email from a day (the risk model reads it), back on paper, a bad day refused.
        assertEquals("2026-03-01", till.updateCustomer("C1", CustomerPatch(paperlessFrom = "2026-03-01"), NOW).paperlessFrom)
        assertNull(till.updateCustomer("C1", CustomerPatch(paperlessFrom = ""), NOW).paperlessFrom)
        assertFailsWith<ArdoiseException.InvalidInput> { till.updateCustomer("C1", CustomerPatch(paperlessFrom = "2026-02-30"), NOW) }
        assertFailsWith<ArdoiseException.InvalidInput> {
            till.addCustomer(NewCustomer("C8", "X", kind = CustomerKind.CONSUMER, terms = "30", paperlessFrom = "1/3/2026"), NOW)
        }
        assertEquals("2026-03-02", till.addCustomer(NewCustomer("C8", "X", kind = CustomerKind.CONSUMER, terms = "30", paperlessFrom = "2026-03-02"), NOW).paperlessFrom)
    }

    @Test
    fun salesPaymentsAndTheAccountSummary() {
        val sale = till.sellOnAccount("C1", "80.00", null, null, ctx())
        assertEquals("sale", sale.entry.kind)
        assertEquals("2026-04-01", sale.entry.dueOn)
        assertEquals("80.00", sale.balance)
        assertEquals(Decision.ALLOW, sale.verdict!!.decision)
        val invoice = sale.entry.reference!!
        val acc = till.account("C1", "2026-04-10")
        assertEquals("80.00", acc.overdue)
        assertEquals(9u, acc.oldestOverdueDays)
        assertEquals(invoice, acc.openInvoices.single().reference)
        // Printed in groups of four: "RF" + check digits + 16 digits.
        assertTrue(Regex("RF\\d{2}( \\d{4}){4}").matches(acc.paymentReference), acc.paymentReference)
        val paid = till.pay("C1", "100", PaymentMethod.CARD, invoice, ctx("2026-04-10"))
        assertEquals("-20.00", paid.balance)
        val after = till.account("C1", "2026-04-10")
        assertEquals("20.00", after.creditOnAccount)
        assertTrue(after.openInvoices.isEmpty())
        assertEquals(listOf("payment", "sale"), till.timeline("C1", 10u).map { it.entry.kind })
        assertEquals("-100.00", till.timeline("C1", 10u).first().balanceEffect)
    }

    @Test
    fun checkoutAllowsWarnsRefusesAndAManagerOverrides() {
        till.sellOnAccount("C1", "50", null, null, ctx("2026-03-01"))
        assertEquals(Decision.ALLOW, till.check("C1", "10", at("2026-03-31")).decision)
        val warn = till.check("C1", "10", at("2026-04-02"))
        assertEquals(Decision.WARN, warn.decision)
        assertEquals(2u, warn.oldestOverdueDays)
        val refuse = till.check("C1", "10", at("2026-04-30"))
        assertEquals(Decision.REFUSE, refuse.decision)
        val overdue = refuse.reasons.single() as Reason.Overdue
        assertEquals("50.00", overdue.amount)
        assertEquals(30u, overdue.days)
        assertContains(refuse.messages.single(), "50.00 EUR overdue")
        assertEquals("150.00", refuse.availableCredit)
        val e = assertFailsWith<ArdoiseException.Refused> { till.sellOnAccount("C1", "10", null, null, ctx("2026-04-30")) }
        assertContains(e.message!!, "overdue")
        val ov = till.overrideCheckout("C1", "10", "Marc", "pays on Friday", at("2026-04-30"))
        assertEquals(Decision.REFUSE, ov.verdict.decision)
        val sale = till.sellOnAccount("C1", "10", null, null, ctx("2026-04-30"))
        assertEquals(ov.id, sale.entry.overrideId)
        assertTrue(sale.verdict!!.reasons.any { it is Reason.ManagerOverride })
        // The hot-path variant with integers gives the very same verdict.
        val nowMs = java.time.OffsetDateTime.parse(at("2026-04-30")).toInstant().toEpochMilli()
        assertEquals(till.check("C1", "10", at("2026-04-30")), till.checkMinor("C1", 1_000L, nowMs, 60))
        assertFailsWith<ArdoiseException.InvalidInput> { till.checkMinor("C1", -1L, nowMs, 60) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.checkMinor("C1", 1L, nowMs, 100_000) }
        val over = till.check("C1", "500", at("2026-03-01"))
        assertTrue(over.reasons.any { it is Reason.OverLimit && it.overBy == "360.00" })
    }

    @Test
    fun depositsCreditNotesAdjustmentsWriteOffsAndReversals() {
        till.takeDeposit("C2", "30", PaymentMethod.CASH, "CAKE-7", ctx())
        val sale = till.sellOnAccount("C2", "100", "F-100", null, ctx())
        assertEquals("F-100", sale.entry.reference)
        val applied = till.applyDeposit("C2", "20", "F-100", ctx())
        assertEquals("80.00", applied.balance)
        assertEquals("10.00", applied.deposits)
        val refunded = till.refundDeposit("C2", "10", PaymentMethod.CASH, ctx())
        assertEquals("80.00", refunded.balance)
        assertEquals("0.00", refunded.deposits)
        assertEquals("70.00", till.creditNote("C2", "10", "damaged", "F-100", ctx()).balance)
        assertEquals("75.00", till.adjust("C2", "5", "delivery", ctx()).balance)
        val off = till.writeOff("C2", "75", "closing down", null, ctx())
        assertEquals("0.00", off.balance)
        val back = till.reverse("C2", off.entry.id, "wrote off by mistake", ctx())
        assertEquals("75.00", back.balance)
        assertEquals(off.entry.id, back.entry.reverses)
        assertEquals(8, till.timeline("C2", 100u).size)
    }

    @Test
    fun aDepositPaysForTheSaleOfTheOrderItWasTakenFor() {
        till.updateCustomer("C1", CustomerPatch(creditLimit = "0"), NOW) // deposits and cash only
        till.takeDeposit("C1", "20", PaymentMethod.CARD, "CAKE-9", ctx())
        assertFailsWith<ArdoiseException.Refused> { till.sellOnAccount("C1", "35", null, "20", ctx()) }
        val sale = till.sellOnAccount("C1", "20", null, "20", ctx())
        assertEquals("0.00", sale.balance)
        assertEquals("0.00", sale.deposits)
        assertEquals("deposit_applied", sale.depositApplied!!.kind)
        assertEquals(sale.entry.id, sale.depositApplied!!.aimedAt)
        assertFailsWith<ArdoiseException.Conflict> { till.sellOnAccount("C1", "5", null, "5", ctx()) }
    }

    @Test
    fun settingsAndOutbox() {
        val rules = till.checkoutRules()
        assertEquals(30u, rules.refuseOverdueDays)
        assertFailsWith<ArdoiseException.InvalidInput> { till.setCheckoutRules(rules.copy(warnOverdueDays = 40u), NOW) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setCheckoutRules(rules.copy(defaultCreditLimit = "-5"), NOW) }
        till.setCheckoutRules(rules.copy(refuseOverdueDays = 5u, defaultCreditLimit = "100"), NOW)
        assertEquals(5u, till.checkoutRules().refuseOverdueDays)
        till.sellOnAccount("C2", "80", null, null, ctx())
        assertEquals(Decision.REFUSE, till.check("C2", "30", NOW).decision) // over the new default limit
        assertEquals(Decision.REFUSE, till.check("C2", "1", at("2026-05-20")).decision)
        // Two customers, one settings change and one sale: four events to push.
        assertEquals(4uL, till.pendingEvents())
        assertTrue(till.deviceId().length == 36)
        assertTrue(ardoiseVersion().isNotEmpty())
    }

    @Test
    fun badInputArrivesAsTypedExceptionsAndWritesNothing() {
        val before = till.pendingEvents()
        for (amount in listOf("12.345", "1,50", "1e3", "", " 5", "abc")) {
            val e = assertFailsWith<ArdoiseException.InvalidInput>(amount) { till.sellOnAccount("C1", amount, null, null, ctx()) }
            assertContains(e.message!!, "amount")
        }
        assertFailsWith<ArdoiseException.InvalidInput> { till.sellOnAccount("C1", "-5", null, null, ctx()) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.sellOnAccount("C1", "0", null, null, ctx()) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.check("C1", "10", "2026-03-02") }
        assertFailsWith<ArdoiseException.InvalidInput> { till.account("C1", "2026-13-01") }
        assertFailsWith<ArdoiseException.InvalidInput> { till.pay("C1", "1", PaymentMethod.CASH, null, WriteContext("a", NOW, "02/03/2026")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.reverse("C1", "not-an-id", "x", ctx()) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.updateCustomer("C1", CustomerPatch(creditLimit = "-1"), NOW) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.addCustomer(NewCustomer("C9", "X", kind = CustomerKind.CONSUMER, terms = "soon"), NOW) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.addCustomer(NewCustomer("C9", "x".repeat(100_000), kind = CustomerKind.CONSUMER, terms = "30"), NOW) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.searchCustomers("x".repeat(1_000_000), 10u) }
        val nf = assertFailsWith<ArdoiseException.NotFound> { till.sellOnAccount("NOPE", "1", null, null, ctx()) }
        assertContains(nf.message!!, "NOPE")
        assertFailsWith<ArdoiseException.NotFound> { till.pay("C1", "1", PaymentMethod.CASH, "F-404", ctx()) }
        assertFailsWith<ArdoiseException.Conflict> { till.applyDeposit("C1", "1", null, ctx()) }
        assertFailsWith<ArdoiseException.Conflict> { till.addCustomer(NewCustomer("C1", "Again", kind = CustomerKind.CONSUMER, terms = "30"), NOW) }
        assertEquals(before, till.pendingEvents())
        assertEquals("0.00", till.account("C1", "2026-03-02").balance)
    }

    @Test
    fun textThatIsNotValidUnicodeIsRefusedBeforeItCrosses() {
        // A lone surrogate has no UTF-8 form: the generated encoder refuses it on the Kotlin side
        // with a CharacterCodingException, nothing reaches Rust, nothing is written.
        val before = till.pendingEvents()
        assertFailsWith<java.nio.charset.CharacterCodingException> {
            till.addCustomer(NewCustomer("C7", "Ren\uD800e", kind = CustomerKind.CONSUMER, terms = "30"), NOW)
        }
        assertFailsWith<java.nio.charset.CharacterCodingException> { till.searchCustomers("\uDC00", 5u) }
        assertEquals(before, till.pendingEvents())
        assertFailsWith<ArdoiseException.NotFound> { till.customer("C7") }
    }

    @Test
    fun storageErrorsAreReportedAndTheFileIsLeftAlone() {
        val junk = File(dir, "junk.db")
        junk.writeText("not a database, maybe someone's money")
        val e = assertFailsWith<ArdoiseException.Storage> { Till.open(junk.path) }
        assertContains(e.message!!, "left untouched")
        assertEquals("not a database, maybe someone's money", junk.readText())
        assertFailsWith<ArdoiseException.Storage> { Till.open(File(dir, "no/such/dir/x.db").path) }
    }

    @Test
    fun closeSuspendResumeAndObjectLifetimes() {
        till.sellOnAccount("C1", "10", null, null, ctx())
        till.suspend()
        assertFailsWith<ArdoiseException.Closed> { till.check("C1", "1", NOW) }
        till.resume()
        assertEquals("10.00", till.account("C1", "2026-03-02").balance)
        till.resume() // resuming an open till is harmless
        val path = File(dir, "other.db").path
        Till.open(path).use { other ->
            other.addCustomer(NewCustomer("Z", "Zoé", kind = CustomerKind.CONSUMER, terms = "receipt"), NOW)
            other.closeDatabase()
            assertFailsWith<ArdoiseException.Closed> { other.customer("Z") }
            assertFailsWith<ArdoiseException.Closed> { other.resume() }
            other.closeDatabase() // twice is fine
        }
        // The data outlived the object.
        Till.open(path).use { assertEquals("Zoé", it.customer("Z").name) }
        val gone = Till.open(path)
        gone.close()
        assertFailsWith<IllegalStateException> { gone.customer("Z") }
    }

    @Test
    fun callsFromSeveralThreadsAtOnce() {
        val refs = (1..8).map { "T$it" }
        refs.forEach { till.addCustomer(NewCustomer(it, "Thread $it", kind = CustomerKind.CONSUMER, terms = "30"), NOW) }
        val pool = Executors.newFixedThreadPool(8)
        val futures = refs.map { ref ->
            pool.submit<Unit> {
                repeat(100) {
                    till.sellOnAccount(ref, "1.25", null, null, ctx())
                    till.check(ref, "1", NOW)
                    if (it % 4 == 3) till.pay(ref, "1", PaymentMethod.CASH, null, ctx())
                }
            }
        }
        // The bound only catches a deadlock: on a loaded machine 2,000 durable writes can be slow.
        futures.forEach { it.get(600, TimeUnit.SECONDS) }
        pool.shutdown()
        for (ref in refs) {
            // 100 sales of 1.25, 25 payments of 1.00.
            assertEquals("100.00", till.account(ref, "2026-03-02").balance)
            assertEquals(125, till.timeline(ref, 1000u).size)
        }
    }

    @Test
    fun tenThousandOperationsKeepMemoryFlat() {
        // The heap is committed and touched up front (-Xms = -Xmx, AlwaysPreTouch in
        // run-jvm-tests.sh), so resident memory growth is native memory: Rust, SQLite, JNA.
        fun rssKb(): Long = File("/proc/self/status").readLines().first { it.startsWith("VmRSS") }.split(Regex("\\s+"))[1].toLong()
        fun batch(n: Int) {
            repeat(n) { i ->
                when (i % 5) {
                    0 -> till.sellOnAccount("C2", "2.50", null, null, ctx())
                    1 -> till.pay("C2", "2.50", PaymentMethod.CARD, null, ctx())
                    2 -> till.check("C2", "3", NOW)
                    3 -> till.searchCustomers("boul", 5u)
                    else -> till.account("C2", "2026-03-02")
                }
            }
        }
        // Reads are memory-mapped: pages of the growing database file become resident as they
        // are read. That is the file, not a leak, so it is taken out of the growth.
        fun fileKb(): Long = listOf("till.db", "till.db-wal").sumOf { File(dir, it).length() } / 1024
        batch(2_000) // warm up: JIT, SQLite page cache, statement cache
        val samples = mutableListOf(rssKb())
        val files = mutableListOf(fileKb())
        repeat(4) {
            batch(2_000)
            System.gc()
            samples += rssKb()
            files += fileKb()
        }
        val growthMb = (samples.last() - samples.first()) / 1024.0
        val fileGrowthMb = (files.last() - files[files.size - 2]).coerceAtLeast(0) / 1024.0
        val lastWindowMb = (samples.last() - samples[samples.size - 2]) / 1024.0 - fileGrowthMb
        println("    resident memory every 2,000 operations (MB): " + samples.joinToString { "%.1f".format(it / 1024.0) } +
            "; database file (MB): " + files.joinToString { "%.1f".format(it / 1024.0) })
        // SQLite's page cache (16 MB) fills as the database grows, then stays; a leak keeps
        // growing window after window, beyond what the file itself grew.
        assertTrue(lastWindowMb < 2.0, "resident memory still growing by $lastWindowMb MB per 2,000 operations beyond the file's growth: $samples, $files")
        assertTrue(growthMb < 16.0, "resident memory grew by $growthMb MB over 8,000 operations: $samples")
        assertEquals("0.00", till.account("C2", "2026-03-02").balance)
    }
}
