// Runs the JUnit 4 suites on a plain JVM (no Gradle here) and ends with "N passed, N failed".
package app.ardoise

import org.junit.runner.JUnitCore
import org.junit.runner.Description
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener
import kotlin.system.exitProcess

fun main() {
    val core = JUnitCore()
    var failed = 0
    core.addListener(object : RunListener() {
        private var current: Failure? = null
        override fun testStarted(description: Description) { current = null }
        override fun testFailure(failure: Failure) {
            current = failure
            failed++
            println("FAIL ${failure.description.methodName}: ${failure.message}")
            failure.exception.stackTrace.take(6).forEach { println("       at $it") }
        }
        override fun testFinished(description: Description) {
            if (current == null) println("ok   ${description.methodName}")
        }
    })
    val result = core.run(
        TillTest::class.java, CheckoutLaneTest::class.java, RemindersTest::class.java, SyncTest::class.java,
        OwnerTest::class.java, BankTest::class.java, GeneratedBindingsTest::class.java, ReadmeTest::class.java,
    )
    val passed = result.runCount - result.failureCount
    println("$passed passed, ${result.failureCount} failed")
    exitProcess(if (result.wasSuccessful() && failed == 0) 0 else 1)
}
