// JVM tests of the owner's calls through the Kotlin library: import, aging and KPIs as of past
// dates, the overdue list, statements, exports and the GDPR calls, on a hand-made history and on
// the IBM accounts-receivable sample.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.nio.file.Files
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Before
import org.junit.Test

class OwnerTest {
    private lateinit var dir: File
    private lateinit var till: Till
    private val now = "2026-11-24T10:00:00+01:00"
    private val head = "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n"

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-owner").toFile()
        till = Till.open(File(dir, "till.db").path)
        val customers = "ref,name,email,phone,kind,credit_limit,terms\n" +
            "C1,Hélène Dupré,helene@example.fr,+33 6 12 34 56 78,consumer,500.00,30\n" +
            "C2,Boulangerie Martin,,,business,,30\n"
        val r = till.importCustomers(customers, now)
        assertEquals(2uL, r.customersCreated)
        val invoices = head +
            "C1,D1,2023-12-10,2024-01-09,700,2024-02-10,\n" +
            "C1,J1,2024-01-10,2024-02-09,300,2024-02-05,\n" +
            "C1,F1,2024-02-15,2024-03-16,290,,\n" +
            "C1,M1,2024-03-20,2024-04-19,310,,\n" +
            "C2,B1,2023-10-01,2023-10-31,80,,yes\n"
        val i = till.importInvoices(invoices, DateStyle.ISO, now)
        assertEquals(5uL, i.invoicesCreated)
        assertEquals(2uL, i.paymentsRecorded)
        assertEquals(1uL, i.disputesRecorded)
    }

    @After
    fun tearDown() {
        till.closeDatabase()
        dir.deleteRecursively()
    }

    @Test
    fun agingAsOfAPastDate() {
        val a = till.aging("2024-03-31")
        assertEquals("680.00", a.total)
        assertEquals("310.00", a.buckets.current)
        assertEquals("290.00", a.buckets.days1To30)
        assertEquals("80.00", a.buckets.days91Plus)
        assertEquals(listOf("C1", "C2"), a.customers.map { it.customerRef })
        assertEquals(152L, a.customers[1].oldestDays)
        // Before the February payments, D1 was still owed.
        assertEquals("1080.00", till.aging("2024-01-31").total)
    }

    @Test
    fun kpisOverALeapQuarter() {
        val k = till.kpis("2024-03-31", 3u)
        assertEquals("680.00", k.receivables)
        assertEquals("900.00", k.creditSales)
        assertEquals(91L, k.days)
        assertEquals(680.0 / 900.0 * 91.0, k.dsoSimple!!, 1e-5)
        assertEquals(31.0 + 29.0 + 80.0 / 300.0 * 31.0, k.dsoCountback!!, 1e-5)
        assertNotNull(k.ceiPct)
        assertFailsWith<ArdoiseException.InvalidInput> { till.kpis("2024-03-31", 0u) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.kpis("2024-02-30", 3u) }
        // The owner's first screen: both in one call, the same answers.
        val o = till.overview("2024-03-31", 3u)
        assertEquals(till.aging("2024-03-31"), o.aging)
        assertEquals(k, o.kpis)
        assertFailsWith<ArdoiseException.InvalidInput> { till.overview("2024-03-31", 0u) }
    }

    @Test
    fun overdueListAndStatement() {
        val byAge = till.overdueAccounts("2024-03-31", OverdueSort.AGE, 10u)
        assertEquals(listOf("C2", "C1"), byAge.map { it.customerRef })
        assertEquals("+33 6 12 34 56 78", byAge[1].phone)
        assertEquals("290.00", byAge[1].overdue)
        assertEquals("600.00", byAge[1].owed)
        val st = till.statement("C1", "2024-02-01", "2024-02-29")
        assertEquals("1000.00", st.openingBalance)
        assertEquals(listOf("700.00", "0.00", "290.00"), st.lines.map { it.balance })
        assertEquals("290.00", st.closingBalance)
        assertFailsWith<ArdoiseException.NotFound> { till.statement("NOPE", "2024-02-01", "2024-02-29") }
    }

    @Test
    fun importIsAllOrNothingAndIdempotent() {
        val bad = head + "C3,X1,2024-01-01,2024-01-31,10.00,,\nC3,X2,2024-01-01,2024-01-31,1.234,,\n"
        val e = assertFailsWith<ArdoiseException.InvalidInput> { till.importInvoices(bad, DateStyle.ISO, now) }
        assertContains(e.message!!, "line 3")
        assertFailsWith<ArdoiseException.NotFound> { till.customer("C3") }
        val again = till.importInvoices(head + "C1,J1,2024-01-10,2024-02-09,300,2024-02-05,\n", DateStyle.ISO, now)
        assertEquals(1uL, again.unchanged)
        assertEquals(0uL, again.invoicesCreated)
    }

    @Test
    fun exportsAndGdpr() {
        till.addNote("C1", "=HYPERLINK(\"http://evil\")", "owner", now)
        val csv = till.export(ExportKind.ACCOUNTS, ExportFormat.CSV)
        assertContains(csv, "C1,Hélène Dupré,helene@example.fr,'+33 6 12 34 56 78")
        assertContains(till.export(ExportKind.LEDGER, ExportFormat.JSON), "\"reference\": \"F1\"")
        val data = till.customerData("C1", now)
        assertContains(data, "helene@example.fr")
        assertContains(data, "HYPERLINK")
        val erased = till.eraseCustomer("C1", "owner", now)
        assertEquals(6uL, erased.entriesKept)
        val after = till.customerData("C1", now)
        assertFalse(after.contains("helene@example.fr"))
        assertFalse(after.contains("Hélène"))
        assertFalse(after.contains("HYPERLINK"))
        assertEquals("600.00", till.account("C1", "2026-11-24").balance)
        assertTrue(till.searchCustomers("Hélène", 10u).isEmpty())
    }

    @Test
    fun ibmSampleAsOfItsLastInvoice() {
        val root = System.getProperty("ardoise.root") ?: "."
        val raw = File(root, "../shared/datasets/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv").readText()
        // The sample's own columns and M/D/YYYY dates, mapped to the invoices file in Kotlin.
        val lines = raw.lines().filter { it.isNotBlank() }
        val cols = lines[0].split(",").map { it.trim() }
        fun col(row: List<String>, name: String) = row[cols.indexOf(name)].trim()
        val csv = StringBuilder("customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n")
        for (line in lines.drop(1)) {
            val r = line.split(",")
            csv.append(listOf(col(r, "customerID"), col(r, "invoiceNumber"), col(r, "InvoiceDate"), col(r, "DueDate"),
                col(r, "InvoiceAmount"), col(r, "SettledDate"), col(r, "Disputed")).joinToString(",")).append('\n')
        }
        val r = till.importInvoices(csv.toString(), DateStyle.MONTH_DAY_YEAR, now)
        assertEquals(2466uL, r.invoicesCreated)
        assertEquals(100uL, r.customersCreated)
        val a = till.aging("2013-12-02")
        assertTrue(a.customers.size > 10)
        assertEquals(a.total, till.kpis("2013-12-02", 3u).receivables)
        // Risk as of the sample's last issue date, kept for the till, shown at checkout.
        val risk = till.riskReport("2013-12-02")
        assertTrue(risk.size >= 100)
        assertTrue(risk.zipWithNext().all { (a, b) -> a.score >= b.score })
        assertTrue(risk.all { it.score in 0.0..1.0 && it.reasons.isNotEmpty() })
        assertTrue(till.refreshRisk("2013-12-03T10:00:00+01:00") >= 100uL)
        val top = till.riskReport("2013-12-03")[0]
        val v = till.check(top.customerRef, "1.00", "2013-12-03T10:00:00+01:00")
        assertEquals(Math.round(top.score * 100).toInt(), v.lateRiskPct!!.toInt())
        assertEquals(top.reasons, v.lateRiskReasons)
        // By the end of January 2014 the sample is all settled, and setUp's history (2023-2024) not yet begun.
        assertEquals("0.00", till.aging("2014-01-31").total)
        assertEquals("680.00", till.aging("2024-03-31").total)
    }
}
