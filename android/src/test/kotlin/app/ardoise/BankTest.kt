// JVM tests of the owner's bank reconciliation through the Kotlin library: a statement imported
// on the phone, a credit applied by its payment reference, one suggested by the payer's name and
// amount, confirmed, undone, and the same file again for nothing; a bad file writes nothing.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.nio.file.Files
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Before
import org.junit.Test

class BankTest {
    private lateinit var dir: File
    private lateinit var till: Till
    private val now = "2026-11-24T10:00:00+01:00"

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-bank").toFile()
        till = Till.open(File(dir, "till.db").path)
        till.importCustomers(
            "ref,name,email,phone,kind,credit_limit,terms\n" +
                "C1,Hélène Dupré,,,consumer,,30\nC2,Boulangerie Martin,,,business,,30\n",
            now,
        )
        till.importInvoices(
            "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n" +
                "C1,F1,2026-09-01,2026-10-01,290,,\nC2,B1,2026-09-15,2026-10-15,80,,\n",
            DateStyle.ISO,
            now,
        )
    }

    @After
    fun tearDown() {
        till.closeDatabase()
        dir.deleteRecursively()
    }

    private fun entry(id: String, amount: String, credit: Boolean, details: String) =
        "<Ntry><Amt Ccy=\"EUR\">$amount</Amt><CdtDbtInd>${if (credit) "CRDT" else "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>" +
            "<BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>$id</AcctSvcrRef>" +
            "<NtryDtls><TxDtls>$details</TxDtls></NtryDtls></Ntry>"

    private fun statement(closing: String, entries: String) =
        "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>" +
            "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>" +
            "<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>" +
            "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-19</Dt></Dt></Bal>" +
            "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">$closing</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>" +
            entries + "</Stmt></BkToCstmrStmt></Document>"

    private fun file(): ByteArray {
        val rf = till.account("C1", "2026-11-24").paymentReference
        return statement(
            "367.50",
            entry("T1", "290.00", true, "<RmtInf><Ustrd>VIR SEPA $rf</Ustrd></RmtInf>") +
                entry("T2", "80.00", true, "<RltdPties><Dbtr><Pty><Nm>BOULANGERIE MARTIN</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>VIREMENT</Ustrd></RmtInf>") +
                entry("T3", "2.50", false, "<RmtInf><Ustrd>FRAIS</Ustrd></RmtInf>"),
        ).toByteArray()
    }

    @Test
    fun aStatementIsAppliedSuggestedConfirmedAndUndone() {
        val r = till.importBankStatement(file(), null, "Anna", now)
        assertEquals(3u, r.imported)
        assertEquals(listOf("T1"), r.applied.map { it.transaction })
        assertEquals(BankMatchRule.REFERENCE, r.applied[0].rule)
        assertEquals(listOf("F1"), r.applied[0].invoices)
        assertEquals("0.00", till.account("C1", "2026-11-24").balance)

        val t2 = r.suggested.single()
        assertEquals("T2", t2.transaction)
        val best = t2.suggestions.first()
        assertEquals("C2", best.customer)
        assertTrue(best.reasons.any { it is BankReason.Name }, best.reasons.toString())
        assertContains(describeBankReason(best.reasons.first { it is BankReason.Name }), "BOULANGERIE MARTIN")
        assertEquals(listOf("T3"), r.unmatched.map { it.transaction })
        assertEquals("-2.50", r.unmatched[0].amount)
        // The owner's day lists the credit to confirm.
        assertEquals(listOf("T2"), till.today(now).bankToConfirm.map { it.transaction })

        // The owner confirms the suggestion on the phone, then changes their mind.
        val confirmed = till.confirmBankMatch("T2", "C2", "B1", "Marc", now)
        assertEquals(BankLineState.APPLIED, confirmed.state)
        assertEquals(BankMatchRule.CONFIRMED, confirmed.rule)
        assertEquals("Marc", confirmed.by)
        assertEquals("0.00", till.account("C2", "2026-11-24").balance)
        assertEquals(2, till.bankLines(BankLineState.APPLIED, 50u, 0u).size)
        assertFailsWith<ArdoiseException.InvalidInput> { till.confirmBankMatch("T3", "C2", null, "Marc", now) }
        val undone = till.undoBankMatch("T2", "Marc", now)
        assertEquals(BankLineState.SUGGESTED, undone.state)
        assertEquals("80.00", till.account("C2", "2026-11-24").balance)

        // The same file again: nothing twice, the undone match not reapplied.
        val again = till.importBankStatement(file(), null, "Anna", now)
        assertEquals(0u, again.imported)
        assertEquals(3u, again.duplicates)
        assertEquals("80.00", till.account("C2", "2026-11-24").balance)
    }

    @Test
    fun aFileThatDoesNotAddUpWritesNothing() {
        val bad = statement("999.00", entry("T1", "290.00", true, "<RmtInf><Ustrd>x</Ustrd></RmtInf>")).toByteArray()
        val e = assertFailsWith<ArdoiseException.InvalidInput> { till.importBankStatement(bad, null, "Anna", now) }
        assertContains(e.message ?: "", "is not the closing")
        assertFailsWith<ArdoiseException.InvalidInput> { till.importBankStatement("a;b\n1;2\n".toByteArray(), "{\"nope\": 1}", "Anna", now) }
        assertEquals(0, till.bankLines(null, 50u, 0u).size)
    }
}
