package com.example.till

import app.ardoise.*
import app.ardoise.core.*
import java.time.OffsetDateTime

// Open the till's database once, at start-up (on Android: "${context.filesDir}/ardoise.db"),
// and close it when the app ends: `till.close()`, or `Till.open(path).use { till -> ... }`.
fun openTill(path: String): Till = Till.open(path)

// At checkout: may this customer buy on account now, and if not, why?
fun sayAtCheckout(till: Till, customer: String, cartTotal: String): String {
    val verdict = till.check(customer, cartTotal, OffsetDateTime.now().toString())
    return when (verdict.decision) {
        Decision.ALLOW -> "on account OK, ${verdict.availableCredit} EUR left"
        Decision.WARN -> "OK, but: ${verdict.messages.joinToString()}"
        Decision.REFUSE -> "refused: ${verdict.messages.joinToString()}; deposits usable: ${verdict.depositsAvailable}"
    }
}

// The till's hot path: the same Verdict in one plain native call (CheckoutLane.kt, hand
// written beside the generated code), several times cheaper through JNA. Keep one per till
// (`till.checkoutLane()`) and close it with the till.
fun checkInCents(lane: CheckoutLane, customer: String, cartCents: Long): Verdict {
    val now = OffsetDateTime.now()
    return lane.check(customer, cartCents, now.toInstant().toEpochMilli(), now.offset.totalSeconds / 60)
}

// Sync, from a coroutine: enrol once with the admin's one-time code, then sync now and then.
suspend fun syncNow(till: Till, server: String, code: String): String {
    if (!till.syncStatus().enrolled) till.enrol(server, code, "Till 2")
    return try {
        val report = till.sync()
        "pushed ${report.pushed}, applied ${report.applied}, ${report.status.waiting} waiting"
    } catch (e: ArdoiseException.Unreachable) {
        "offline, ${till.syncStatus().waiting} events wait for the next sync"
    }
}
