// Runs the README's Kotlin snippet (com/example/till/Readme.kt, which a Rust test holds equal to
// the README's code block) against a real database and a real back office.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import com.example.till.checkInCents
import com.example.till.openTill
import com.example.till.sayAtCheckout
import com.example.till.syncNow
import java.io.File
import java.nio.file.Files
import java.time.OffsetDateTime
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

class ReadmeTest {
    @Test
    fun theReadmeSnippetChecksSellsAndSyncs() {
        val dir = Files.createTempDirectory("ardoise-readme").toFile()
        try {
            openTill(File(dir, "ardoise.db").path).use { till ->
                val today = OffsetDateTime.now().toString()
                val ref = SyncTest.ref()
                till.addCustomer(NewCustomer(reference = ref, name = "Client $ref", kind = CustomerKind.CONSUMER, creditLimit = "100", terms = "30"), today)
                assertEquals("on account OK, 100.00 EUR left", sayAtCheckout(till, ref, "60.00"))

                till.sellOnAccount(ref, "80.00", null, null, WriteContext(cashier = "anna", now = today))
                val said = sayAtCheckout(till, ref, "60.00")
                assertTrue(said.startsWith("refused: ") && said.endsWith("; deposits usable: 0.00"), said)

                till.checkoutLane().use { lane -> assertEquals(Decision.REFUSE, checkInCents(lane, ref, 6_000L).decision) }

                val url = System.getenv("ARDOISE_SYNC_URL") ?: error("run through android/run-jvm-tests.sh")
                val synced = runBlocking { syncNow(till, url, SyncTest.code()) }
                assertTrue(synced.startsWith("pushed ") && synced.endsWith(", 0 waiting"), synced)
                assertEquals(0uL, till.syncStatus().waiting)
                till.closeDatabase()
            }
        } finally {
            dir.deleteRecursively()
        }
    }
}
