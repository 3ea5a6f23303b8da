// Guards the checked-in generated code: the bindings regenerated from the current native
// library (by run-jvm-tests.sh) must equal what is committed for Kotlin and Swift.
package app.ardoise

import java.io.File
import kotlin.test.assertTrue
import kotlin.test.fail
import org.junit.Test

class GeneratedBindingsTest {
    private val fresh = File(System.getProperty("ardoise.fresh.bindings") ?: fail("run through android/run-jvm-tests.sh"))
    private val root = File(System.getProperty("ardoise.root") ?: fail("run through android/run-jvm-tests.sh"))

    private fun same(generated: String, committed: String) {
        val g = File(fresh, generated)
        val c = File(root, committed)
        assertTrue(g.isFile, "bindgen did not produce $generated")
        assertTrue(c.isFile, "$committed is missing: run android/run-jvm-tests.sh --update")
        if (g.readText() != c.readText()) {
            fail("$committed differs from the bindings generated from the current library: run android/run-jvm-tests.sh --update and commit")
        }
    }

    // Two namespaces, two files: the till's calls (app.ardoise) and the core's types (app.ardoise.core).
    @Test
    fun kotlinBindingsAreUpToDate() {
        same("app/ardoise/ardoise.kt", "android/src/main/kotlin/app/ardoise/ardoise.kt")
        same("app/ardoise/core/ardoise_core.kt", "android/src/main/kotlin/app/ardoise/core/ardoise_core.kt")
    }

    @Test
    fun swiftBindingsAreUpToDate() {
        same("Ardoise.swift", "ios/Sources/Ardoise/Ardoise.swift")
        same("ArdoiseCore.swift", "ios/Sources/Ardoise/ArdoiseCore.swift")
        same("ArdoiseFFI.h", "ios/Headers/ArdoiseFFI.h")
        same("ArdoiseCoreFFI.h", "ios/Headers/ArdoiseCoreFFI.h")
        same("ArdoiseFFI.modulemap", "ios/Headers/module.modulemap")
    }
}
