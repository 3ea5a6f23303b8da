// Sync against a real back office: run-jvm-tests.sh runs the JVM under
// bindings/with-sync-servers.sh, which serves ardoise-server on loopback with a temporary
// database and passes its URL and one-time enrolment codes in the environment.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.net.InetSocketAddress
import java.net.Socket
import java.net.URI
import java.nio.file.Files
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Before
import org.junit.Test

private fun env(name: String) = System.getenv(name) ?: fail("$name is not set: run through android/run-jvm-tests.sh")

class SyncTest {
    companion object {
        private val url by lazy { env("ARDOISE_SYNC_URL") }
        private val codes by lazy { env("ARDOISE_SYNC_CODES").split(",") }
        private val used = AtomicInteger()
        private val unique = AtomicInteger()

        /** A one-time code no other test has used. */
        fun code(): String = codes.getOrNull(used.getAndIncrement()) ?: fail("run-jvm-tests.sh made too few codes")

        /** A customer reference no other test uses: every test syncs with the same shop. */
        fun ref(): String = "S${System.nanoTime() % 100_000}-${unique.incrementAndGet()}"
    }

    private lateinit var dir: File
    private val tills = mutableListOf<Till>()

    private fun till(name: String): Till = Till.open(File(dir, "$name.db").path).also { tills += it }

    private fun customer(till: Till, reference: String) = till.addCustomer(
        NewCustomer(reference = reference, name = "Client $reference", kind = CustomerKind.CONSUMER, creditLimit = "500", terms = "30"),
        NOW,
    )

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-sync").toFile()
    }

    @After
    fun tearDown() {
        tills.forEach { it.closeDatabase(); it.close() }
        dir.deleteRecursively()
    }

    @Test
    fun twoTillsShareCustomersSalesAndPayments() = runBlocking<Unit> {
        val a = till("a")
        val b = till("b")
        val enrolled = a.enrol(url, code(), "Till A")
        assertEquals(url, enrolled.serverUrl)
        // By name: the host is resolved on the library's own runtime.
        assertEquals(enrolled.shopId, b.enrol(url.replace("127.0.0.1", "localhost"), code(), "Till B").shopId)

        val c = ref()
        customer(a, c)
        assertEquals("40.00", a.sellOnAccount(c, "40.00", null, null, ctx()).balance)
        val pushed = a.sync()
        assertTrue(pushed.pushed >= 2u, "the customer and the sale were pushed: $pushed")
        assertEquals(0uL, pushed.status.waiting)

        val pulled = b.sync()
        assertTrue(pulled.applied >= 2u, "B applied A's customer and sale: $pulled")
        assertEquals("Client $c", b.customer(c).name)
        assertEquals("40.00", b.account(c, "2026-03-02").balance)
        assertEquals(a.account(c, "2026-03-02"), b.account(c, "2026-03-02"))
        // The payment reference is derived from the customer's id: both tills print the same one.
        assertEquals(a.account(c, "2026-03-02").paymentReference, b.account(c, "2026-03-02").paymentReference)

        assertEquals("25.00", b.pay(c, "15.00", PaymentMethod.CASH, null, ctx()).balance)
        assertEquals(0uL, b.sync().status.waiting)
        a.sync()
        assertEquals("25.00", a.account(c, "2026-03-02").balance)
        assertEquals(b.timeline(c, 10u).map { it.entry.id }.toSet(), a.timeline(c, 10u).map { it.entry.id }.toSet())
    }

    @Test
    fun aUsedCodeIsRefused() = runBlocking<Unit> {
        val code = code()
        till("first").enrol(url, code, "First till")
        val second = till("second")
        val e = assertFailsWith<ArdoiseException.SyncRefused> { second.enrol(url, code, "Second till") }
        assertContains(e.message!!, "code")
        assertFalse(second.syncStatus().enrolled)
    }

    @Test
    fun aTillMustBeEnrolledToSync() = runBlocking<Unit> {
        val t = till("alone")
        customer(t, ref())
        val e = assertFailsWith<ArdoiseException.NotEnrolled> { t.sync() }
        assertContains(e.message!!, "not enrolled")
        val status = t.syncStatus()
        assertFalse(status.enrolled)
        assertNull(status.serverUrl)
        assertEquals(1uL, status.waiting)
    }

    @Test
    fun plainHttpIsOnlyForThisMachine() = runBlocking<Unit> {
        val t = till("plain")
        assertFailsWith<ArdoiseException.InvalidInput> { t.enrol("http://shop.example", "ABCDEFGHJK", "Till") }
        assertFalse(t.syncStatus().enrolled)
    }

    @Test
    fun theStatusCountsWaitingEventsUntilASync() = runBlocking<Unit> {
        val t = till("status")
        val enrolled = t.enrol(url, code(), "Status till")
        val before = t.syncStatus()
        assertTrue(before.enrolled)
        assertEquals(url, before.serverUrl)
        assertEquals(enrolled.shopId, before.shopId)
        assertNull(before.lastSuccess)
        assertEquals(0uL, before.waiting)

        val c = ref()
        customer(t, c)
        t.sellOnAccount(c, "12.50", null, null, ctx())
        val waiting = t.syncStatus().waiting
        assertEquals(2uL, waiting)
        assertEquals(t.pendingEvents(), waiting)

        val report = t.sync()
        assertEquals(waiting, report.pushed.toULong())
        val after = t.syncStatus()
        assertEquals(after, report.status)
        assertEquals(0uL, after.waiting)
        assertEquals(0u, after.failures)
        assertFalse(after.stuck)
        assertNull(after.lastError)
        assertTrue(after.cursor > 0uL)
        assertNotNull(after.lastSuccess).let { java.time.OffsetDateTime.parse(it) } // RFC 3339
    }

    @Test
    fun aStoppedServerLeavesTheEventsWaiting() = runBlocking<Unit> {
        val doomedUrl = env("ARDOISE_SYNC_DOOMED_URL")
        val t = till("offline")
        t.enrol(doomedUrl, env("ARDOISE_SYNC_DOOMED_CODE"), "Offline till")
        val c = ref()
        customer(t, c)
        t.sellOnAccount(c, "8.00", null, null, ctx())
        stopServer(env("ARDOISE_SYNC_DOOMED_PID").toLong(), URI(doomedUrl).port)

        val first = assertFailsWith<ArdoiseException.Unreachable> { t.sync() }
        assertContains(first.message!!, "sync failed")
        val status = t.syncStatus()
        assertEquals(2uL, status.waiting)
        assertEquals(1u, status.failures)
        assertNotNull(status.lastError)
        assertNull(status.lastSuccess)

        assertFailsWith<ArdoiseException.Unreachable> { t.sync() }
        assertEquals(2u, t.syncStatus().failures)
        assertEquals(2uL, t.syncStatus().waiting)
        // The till keeps selling while it cannot sync.
        t.pay(c, "3.00", PaymentMethod.CARD, null, ctx())
        assertEquals(3uL, t.syncStatus().waiting)
    }

    @Test
    fun thePhoneConfirmsACreditTheBackOfficeImportedAndATillUndoesIt() = runBlocking<Unit> {
        // with-sync-servers.sh had the back office import a statement: one credit of 12.34
        // from a payer who was nobody's customer then.
        val line = env("ARDOISE_SYNC_BANK_LINE")
        val phone = till("phone")
        phone.enrol(url, code(), "Owner's phone")
        val c = ref()
        customer(phone, c)
        phone.sellOnAccount(c, "12.34", null, null, ctx())
        phone.sync()
        val listed = phone.bankLines(null, 50u, 0u).single { it.transaction == line }
        assertEquals("12.34", listed.amount)
        assertEquals("2026-03-01", listed.date)
        assertEquals(BankLineState.UNMATCHED, listed.state)
        assertContains(listed.label, "VIREMENT M TESTEUR")

        // The owner says whose it is, on the phone: paid there, then on every till.
        val confirmed = phone.confirmBankMatch(line, c, null, "Owner", NOW)
        assertEquals(BankLineState.APPLIED, confirmed.state)
        assertEquals("0.00", phone.account(c, "2026-03-02").balance)
        assertEquals(0uL, phone.sync().status.waiting)
        val till = till("counter")
        till.enrol(url, code(), "Counter")
        till.sync()
        assertEquals("0.00", till.account(c, "2026-03-02").balance)
        val seen = till.bankLines(BankLineState.APPLIED, 50u, 0u).single { it.transaction == line }
        assertEquals(c, seen.customer)
        assertEquals("Owner", seen.by)
        assertEquals(BankMatchRule.CONFIRMED, seen.rule)

        // Undone at the counter: the customer owes it again on the phone, and it is to place.
        till.undoBankMatch(line, "anna", NOW)
        till.sync()
        phone.sync()
        assertEquals("12.34", phone.account(c, "2026-03-02").balance)
        assertEquals(BankLineState.UNMATCHED, phone.bankLines(null, 50u, 0u).single { it.transaction == line }.state)
    }

    @Test
    fun aSuspendedTillDoesNotSync() = runBlocking<Unit> {
        val t = till("suspended")
        t.enrol(url, code(), "Suspended till")
        t.suspend()
        assertFailsWith<ArdoiseException.Closed> { t.sync() }
        assertFailsWith<ArdoiseException.Closed> { t.syncStatus() }
        t.resume()
        assertEquals(0uL, t.sync().status.waiting)
    }

    /** Stops the server the script started for this test, and waits until its port refuses. */
    private fun stopServer(pid: Long, port: Int) {
        val process = ProcessHandle.of(pid).orElse(null) ?: fail("no sync server with pid $pid")
        process.destroy()
        repeat(100) {
            try {
                Socket().use { it.connect(InetSocketAddress("127.0.0.1", port), 200) }
                Thread.sleep(50)
            } catch (e: java.io.IOException) {
                return
            }
        }
        fail("the server on port $port is still listening")
    }
}
