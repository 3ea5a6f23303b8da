// JVM tests of reminders through the Kotlin library: the ladder over days, the queue kept true
// to the ledger, disputes, promises, plans, follow-ups, templates, ladders, penalties. Fixed
// dates in 2024 (the shipped rate tables cover them), so nothing depends on today.
package app.ardoise

// The core's records, enums, values and error (its own uniffi namespace and Kotlin package).
import app.ardoise.core.*
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import java.time.OffsetDateTime
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Before
import org.junit.Test

/** Noon at the till (summer time in France), the business date being `date`. */
fun noon(date: String) = "${date}T12:00:00+02:00"

fun sameInstant(expected: String, actual: String) =
    assertEquals(OffsetDateTime.parse(expected).toInstant(), OffsetDateTime.parse(actual).toInstant(), "$actual is not $expected")

class RemindersTest {
    private lateinit var dir: File
    private lateinit var till: Till
    private val start = "2024-01-01T12:00:00+01:00"

    @Before
    fun setUp() {
        dir = Files.createTempDirectory("ardoise-reminders").toFile()
        till = Till.open(File(dir, "till.db").path)
        till.setShopSettings(
            till.shopSettings().copy(
                shopName = "Épicerie du Marché",
                shopPhone = "04 12 34 56 78",
                shopEmail = "bonjour@epicerie.fr",
                shopAddress = "2 place du Marché, 13210 Saint-Rémy",
                paymentUrl = "https://pay.example.fr/{customer_ref}?amount={amount}",
            ),
            start,
        )
        till.addCustomer(
            NewCustomer(reference = "B1", name = "Boulangerie Martin", email = "b1@example.fr", phone = "+33 6 11 22 33 44",
                kind = CustomerKind.BUSINESS, terms = "30", consentEmail = true, address = "5 rue des Lilas, 13210 Saint-Rémy"),
            start,
        )
        till.addCustomer(
            NewCustomer(reference = "P1", name = "Hélène Dupré", email = "p1@example.fr", phone = "+33 6 55 44 33 22",
                kind = CustomerKind.CONSUMER, terms = "30", consentEmail = true, consentSms = true),
            start,
        )
        till.addCustomer(
            NewCustomer(reference = "E1", name = "John Smith", phone = "+44 7700 900123", kind = CustomerKind.CONSUMER,
                terms = "30", consentSms = true, language = Language.EN),
            start,
        )
    }

    @After
    fun tearDown() {
        till.closeDatabase()
        till.close()
        dir.deleteRecursively()
    }

    private fun sale(customer: String, amount: String, date: String): String =
        till.sellOnAccount(customer, amount, null, null, WriteContext("anna", noon(date))).entry.reference!!

    private fun pay(customer: String, amount: String, date: String) =
        till.pay(customer, amount, PaymentMethod.CASH, null, WriteContext("anna", noon(date)))

    private fun skipped(report: RunReport) = report.skipped.associate { it.reason to it.count.toInt() }

    @Test
    fun theLadderClimbsToAFormalNoticeWithPenaltiesAndAPaymentCancelsIt() {
        val invoice = sale("B1", "1000", "2024-05-16") // due 2024-06-15
        val queued = mutableListOf<Reminder>()
        var day = LocalDate.parse("2024-06-16")
        while (day <= LocalDate.parse("2024-07-25")) {
            val report = till.runDunning(noon(day.toString()))
            assertEquals(day.toString(), report.asOf)
            assertEquals(1u, report.customersChecked)
            for (r in report.queued) {
                queued += r
                // Sent by the back office, except the last one (kept queued below).
                if (r.kind != StepKind.FORMAL_NOTICE) {
                    assertEquals(ReminderState.SENT, till.setReminderState(r.id, ReminderState.SENT, "sent by email", noon(day.toString())).state)
                }
            }
            if (day.toString() == "2024-06-20") {
                // The same day again: nothing new.
                val again = till.runDunning("2024-06-20T18:00:00+02:00")
                assertTrue(again.queued.isEmpty())
                assertEquals(mapOf("already_at_level" to 1), skipped(again))
            }
            day = day.plusDays(1)
        }
        assertEquals(listOf(0u, 1u, 2u, 3u), queued.map { it.level })
        assertEquals(listOf("2024-06-20", "2024-06-30", "2024-07-10", "2024-07-25"), queued.map { it.createdOn })
        assertEquals(listOf(Channel.EMAIL, Channel.EMAIL, Channel.PHONE_CALL, Channel.LETTER), queued.map { it.channel })

        val first = queued[0]
        assertEquals("Rappel courtois", first.step)
        assertEquals(StepKind.REMINDER, first.kind)
        assertEquals("b1@example.fr", first.recipient)
        assertEquals(Language.FR, first.language)
        assertEquals(ReminderState.QUEUED, first.state)
        assertEquals("1000.00", first.amountDue)
        assertEquals(listOf(invoice), first.invoices)
        assertEquals("B1", first.customerRef)
        assertEquals("Boulangerie Martin", first.customerName)
        sameInstant(noon("2024-06-20"), first.notBefore) // an email may go at once
        assertContains(first.subject, "Épicerie du Marché")
        assertContains(first.body, "Bonjour Boulangerie Martin")
        assertContains(first.body, "1 000,00 EUR")
        assertContains(first.body, "https://pay.example.fr/B1?amount=1000.00")
        assertEquals("+33 6 11 22 33 44", queued[2].recipient)

        // The formal notice: 15 days of June at 14.50 % = 5.96, 25 days of July at 14.25 % = 9.76.
        val notice = queued[3]
        assertEquals(StepKind.FORMAL_NOTICE, notice.kind)
        assertEquals("5 rue des Lilas, 13210 Saint-Rémy", notice.recipient)
        assertEquals("15.72", notice.penalties)
        assertEquals("40.00", notice.indemnity)
        assertContains(notice.subject, "1 055,72")
        assertContains(notice.body, "mettons en demeure")
        assertContains(notice.body, "Pénalités de retard : 15,72 EUR")
        assertContains(notice.body, "40,00 EUR")
        assertContains(notice.body, "Rappel courtois") // the reminders already sent
        // The same numbers from the calculator.
        assertEquals("15.72", till.penalty("1000", "2024-06-15", "2024-07-25", CustomerKind.BUSINESS, null).interest)
        // Business penalty fees go on the account with the notice.
        assertEquals("1055.72", till.account("B1", "2024-07-25").balance)
        assertEquals(3, till.reminders(ReminderState.SENT, "B1", 10u).size)
        assertEquals(notice, till.reminders(ReminderState.QUEUED, null, 10u).single())
        // Newest first.
        assertEquals(queued.reversed().map { it.id }, till.reminders(null, "B1", 10u).map { it.id })
        // A sent reminder stays sent.
        assertFailsWith<ArdoiseException.InvalidInput> { till.setReminderState(first.id, ReminderState.CANCELLED, null, noon("2024-07-25")) }

        // Paid at the till an hour later: the queued notice is cancelled, never sent.
        val paid = pay("B1", "1055.72", "2024-07-25")
        assertEquals("0.00", paid.balance)
        assertTrue(till.reminders(ReminderState.QUEUED, "B1", 10u).isEmpty())
        val cancelled = till.reminders(ReminderState.CANCELLED, "B1", 10u).single()
        assertEquals(notice.id, cancelled.id)
        assertContains(cancelled.stateNote!!, "nothing overdue")
        assertTrue(till.runDunning(noon("2024-07-26")).queued.isEmpty())
    }

    @Test
    fun aDisputeLeavesTheReminderShowsAtTheTillAndIsResolved() {
        val a = sale("P1", "40", "2024-05-01")
        val b = sale("P1", "10", "2024-05-02")
        val r = till.runDunning(noon("2024-06-10")).queued.single()
        assertEquals("50.00", r.amountDue)
        assertEquals(listOf(a, b), r.invoices) // oldest due first

        val d = till.openDispute(a, "cake was not the one ordered", "anna", noon("2024-06-11"))
        assertEquals("open", d.state)
        assertEquals("P1", d.customerRef)
        assertEquals(a, d.invoice)
        assertEquals("2024-06-11", d.openedOn)
        assertNull(d.resolution)
        // Out of the queued reminder at once.
        val q = till.reminders(ReminderState.QUEUED, "P1", 10u).single()
        assertEquals("10.00", q.amountDue)
        assertEquals(listOf(b), q.invoices)
        // Shown at the till, not held against the customer.
        val v = till.check("P1", "5", noon("2024-06-11"))
        assertEquals("10.00", v.overdue)
        assertEquals(Reason.Disputed(invoices = 1u, amount = "40.00"), v.reasons.filterIsInstance<Reason.Disputed>().single())
        assertTrue(v.messages.any { it.contains("under dispute") })
        assertFailsWith<ArdoiseException.InvalidInput> { till.openDispute(a, "again", "anna", noon("2024-06-11")) }

        till.noteDispute(d.id, "customer sent a photo", "anna", noon("2024-06-12"))
        val rejected = till.resolveDispute(d.id, false, null, "photo shows the right cake", "marc", noon("2024-06-13"))
        assertEquals("rejected", rejected.dispute.state)
        assertNull(rejected.creditNote)
        assertEquals("50.00", till.reminders(ReminderState.QUEUED, "P1", 10u).single().amountDue)

        // Upheld in part: a credit note of 15 in the same transaction.
        val d2 = till.openDispute(a, "second look: half the cake", "anna", noon("2024-06-14"))
        assertFailsWith<ArdoiseException.InvalidInput> { till.resolveDispute(d2.id, false, "5", "no", "marc", noon("2024-06-15")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.resolveDispute(d2.id, true, "1,5", "no", "marc", noon("2024-06-15")) }
        val upheld = till.resolveDispute(d2.id, true, "15", "we were wrong", "marc", noon("2024-06-15"))
        assertEquals("upheld", upheld.dispute.state)
        assertEquals("we were wrong", upheld.dispute.resolution)
        val credit = assertNotNull(upheld.creditNote)
        assertEquals("credit_note", credit.entry.kind)
        assertEquals("15.00", credit.entry.amount)
        assertEquals("35.00", credit.balance)
        assertEquals("35.00", till.reminders(ReminderState.QUEUED, "P1", 10u).single().amountDue)
        assertFailsWith<ArdoiseException.InvalidInput> { till.resolveDispute(d2.id, false, null, "again", "marc", noon("2024-06-15")) }

        assertEquals(listOf(d2.id, d.id), till.disputes("P1").map { it.id })
        assertEquals(listOf("upheld", "rejected"), till.disputes(null).map { it.state })
        assertTrue(till.disputes("B1").isEmpty())
        val kinds = till.customerTimeline("P1", 100u).map { it.kind }
        for (k in listOf("dispute_opened", "dispute_note", "dispute_rejected", "dispute_upheld", "reminder", "entry:credit_note")) {
            assertTrue(k in kinds, "$k missing from $kinds")
        }
        assertFailsWith<ArdoiseException.NotFound> { till.openDispute("F-404", "no such invoice", "anna", noon("2024-06-15")) }
        assertFailsWith<ArdoiseException.NotFound> { till.noteDispute(java.util.UUID.randomUUID().toString(), "x", "anna", noon("2024-06-15")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.noteDispute("not-an-id", "x", "anna", noon("2024-06-15")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.openDispute(b, "   ", "anna", noon("2024-06-15")) }
    }

    @Test
    fun promisesAndPlansPauseTheLadderUntilBroken() {
        sale("P1", "90", "2024-05-01") // due 2024-05-31
        val promise = till.promiseToPay("P1", "2024-06-15", "50", "anna", noon("2024-06-04"))
        assertEquals(Promise(promise.id, "P1", "2024-06-15", "50.00", "open"), promise)
        val paused = till.runDunning(noon("2024-06-10"))
        assertTrue(paused.queued.isEmpty())
        assertEquals(mapOf("promise" to 1), skipped(paused))
        // Not kept by its date: broken, the ladder resumes at the level due now.
        val resumed = till.runDunning(noon("2024-06-16"))
        assertEquals(1u, resumed.promisesBroken)
        assertEquals(1u, resumed.queued.single().level)
        till.setReminderState(resumed.queued.single().id, ReminderState.SENT, null, noon("2024-06-16"))

        val instalments = splitPlan("90", 3u, "2024-06-20", 30u)
        assertEquals(
            listOf(Instalment("2024-06-20", "30.00"), Instalment("2024-07-20", "30.00"), Instalment("2024-08-19", "30.00")),
            instalments,
        )
        assertEquals(listOf("33.34", "33.33", "33.33"), splitPlan("100", 3u, "2024-06-20", 7u).map { it.amount })
        assertNull(till.plan("P1", "2024-06-18"))
        val plan = till.createPlan("P1", instalments, "anna", noon("2024-06-18"))
        assertEquals("active", plan.state)
        assertEquals(5u, plan.graceDays)
        assertEquals("2024-06-18", plan.createdOn)
        assertEquals(instalments, plan.instalments)
        assertEquals(PlanStatus.Active(paid = "0.00", nextDue = "2024-06-20", nextAmount = "30.00"), plan.status)
        assertFailsWith<ArdoiseException.InvalidInput> { till.createPlan("P1", instalments, "anna", noon("2024-06-18")) } // one at a time
        pay("P1", "30", "2024-06-20")
        val shown = assertNotNull(till.plan("P1", "2024-07-10"))
        assertEquals("30.00", shown.paid)
        assertEquals(PlanStatus.Active(paid = "30.00", nextDue = "2024-07-20", nextAmount = "30.00"), shown.status)
        assertEquals(mapOf("plan" to 1), skipped(till.runDunning(noon("2024-07-10"))))
        // The second instalment is missed past the grace days: broken, the ladder resumes where it was.
        val broken = till.runDunning(noon("2024-07-26"))
        assertEquals(1u, broken.plansBroken)
        val notice = broken.queued.single()
        assertEquals(3u, notice.level)
        assertEquals(StepKind.FORMAL_NOTICE, notice.kind)
        assertEquals("0.00", notice.indemnity) // a consumer owes no indemnity
        val after = assertNotNull(till.plan("P1", "2024-07-26"))
        assertEquals("broken", after.state)
        assertEquals(PlanStatus.Broken(missedDue = "2024-07-20", missing = "30.00"), after.status)
        val kinds = till.customerTimeline("P1", 100u).map { it.kind }
        for (k in listOf("promise", "promise_broken", "plan", "plan_broken")) assertTrue(k in kinds, "$k missing from $kinds")

        // A plan paid in full is completed.
        sale("B1", "20", "2024-07-01")
        till.createPlan("B1", listOf(Instalment("2024-07-05", "20")), "anna", noon("2024-07-01"))
        pay("B1", "20", "2024-07-02")
        assertEquals(PlanStatus.Completed, till.plan("B1", "2024-07-03")!!.status)

        // Bad input.
        assertFailsWith<ArdoiseException.InvalidInput> { till.promiseToPay("P1", "2024-08-01", "1,50", "anna", noon("2024-07-26")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.promiseToPay("P1", "2024-07-01", "10", "anna", noon("2024-07-26")) } // in the past
        assertFailsWith<ArdoiseException.InvalidInput> { till.promiseToPay("P1", "01/08/2024", "10", "anna", noon("2024-07-26")) }
        assertFailsWith<ArdoiseException.NotFound> { till.promiseToPay("NOPE", "2024-08-01", "10", "anna", noon("2024-07-26")) }
        assertFailsWith<ArdoiseException.InvalidInput> { splitPlan("0", 3u, "2024-06-20", 30u) }
        assertFailsWith<ArdoiseException.InvalidInput> { splitPlan("90", 0u, "2024-06-20", 30u) }
        assertFailsWith<ArdoiseException.InvalidInput> { splitPlan("90", 3u, "2024-02-30", 30u) }
        assertFailsWith<ArdoiseException.InvalidInput> {
            till.createPlan("E1", listOf(Instalment("2024-08-01", "12,50")), "anna", noon("2024-07-26"))
        }
        assertFailsWith<ArdoiseException.InvalidInput> {
            till.createPlan("E1", listOf(Instalment("2024-08-02", "10"), Instalment("2024-08-01", "10")), "anna", noon("2024-07-26"))
        }
        assertFailsWith<ArdoiseException.NotFound> { till.plan("NOPE", "2024-07-26") }
        assertFailsWith<ArdoiseException.InvalidInput> { till.plan("P1", "yesterday") }
    }

    @Test
    fun notesCallsHoldsExclusionsAndStopsAppearInTheTimeline() {
        val inv = sale("P1", "20", "2024-05-01") // due 2024-05-31
        till.addNote("P1", "prefers to be called after 6pm", "anna", noon("2024-05-02"))
        till.holdReminders("P1", "2024-06-30", "in hospital", "marc", noon("2024-06-01"))
        assertEquals(mapOf("on_hold" to 1), skipped(till.runDunning(noon("2024-06-10"))))
        till.holdReminders("P1", null, null, "marc", noon("2024-06-11")) // released
        till.setCustomerLadder("P1", null, true, "marc", noon("2024-06-11"))
        assertEquals(mapOf("excluded" to 1), skipped(till.runDunning(noon("2024-06-12"))))
        till.setCustomerLadder("P1", null, false, "marc", noon("2024-06-12"))
        till.stopInvoice(inv, "goodwill: old friend", "marc", noon("2024-06-12"))
        assertEquals(mapOf("nothing_due" to 1), skipped(till.runDunning(noon("2024-06-13"))))
        till.stopInvoice(inv, null, "marc", noon("2024-06-14"))
        val reminder = till.runDunning(noon("2024-06-14")).queued.single()
        assertEquals(0u, reminder.level)

        till.recordCall("P1", CallOutcome.NoAnswer, "", "anna", noon("2024-06-15"))
        till.recordCall("P1", CallOutcome.Reached, "will pay on Friday", "anna", "2024-06-16T12:00:00+02:00")
        till.recordCall("P1", CallOutcome.Promise(on = "2024-06-21", amount = "20"), "promised", "anna", "2024-06-17T12:00:00+02:00")
        assertEquals(mapOf("promise" to 1), skipped(till.runDunning(noon("2024-06-20"))))

        val timeline = till.customerTimeline("P1", 100u)
        val kinds = timeline.map { it.kind }
        for (k in listOf("entry:sale", "note", "hold", "ladder", "invoice_stop", "reminder", "call", "promise")) {
            assertTrue(k in kinds, "$k missing from $kinds")
        }
        // Newest first, with real instants.
        assertEquals(timeline.map { it.date }.sortedDescending(), timeline.map { it.date })
        timeline.forEach { OffsetDateTime.parse(it.at) }
        assertEquals("entry:sale", timeline.last().kind)
        assertEquals("20.00", timeline.last().amount)
        assertEquals("2024-05-01", timeline.last().date)
        val note = timeline.single { it.kind == "note" }
        assertEquals("prefers to be called after 6pm", note.text)
        assertEquals("2024-05-02", note.date)
        val calls = timeline.filter { it.kind == "call" }.map { it.text }
        assertEquals(
            listOf("call: promise of 20.00 EUR by 2024-06-21 (promised)", "call: reached (will pay on Friday)", "call: no answer"),
            calls,
        )
        val r = timeline.single { it.kind == "reminder" }
        // The promise made on the 17th cancelled the reminder queued on the 14th.
        assertEquals("cancelled", r.state)
        assertEquals(reminder.id, r.id)
        assertEquals("20.00", r.amount)
        assertTrue(timeline.any { it.kind == "hold" && it.text.contains("in hospital") })
        assertTrue(timeline.any { it.kind == "invoice_stop" && it.text.contains("goodwill") })
        assertEquals(2, till.customerTimeline("P1", 2u).size)

        // Bad input.
        assertFailsWith<ArdoiseException.NotFound> { till.setCustomerLadder("P1", "nope", false, "marc", noon("2024-06-30")) }
        assertFailsWith<ArdoiseException.NotFound> { till.stopInvoice("F-404", "x", "marc", noon("2024-06-30")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.holdReminders("P1", "2024/07/01", "x", "marc", noon("2024-06-30")) }
        assertFailsWith<ArdoiseException.NotFound> { till.addNote("NOPE", "hello", "anna", noon("2024-06-30")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.addNote("P1", "   ", "anna", noon("2024-06-30")) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.addNote("P1", "x", "anna", "2024-06-30") }
        assertFailsWith<ArdoiseException.InvalidInput> {
            till.recordCall("P1", CallOutcome.Promise(on = "2024-07-01", amount = "ten"), "", "anna", noon("2024-06-30"))
        }
        assertFailsWith<ArdoiseException.NotFound> { till.customerTimeline("NOPE", 10u) }
    }

    @Test
    fun templatesAndLaddersAreCheckedAndSmsWaitsForMondayMorning() {
        val templates = till.templates()
        assertEquals(10, templates.size)
        val courteous = templates.single { it.name == "courteous" && it.language == Language.FR }
        assertContains(courteous.body, "{amount_due}")
        val e = assertFailsWith<ArdoiseException.InvalidInput> {
            till.setTemplate(courteous.copy(body = "Bonjour {customer_nmae}"), start)
        }
        assertContains(e.message!!, "unknown placeholder {customer_nmae}")
        assertFailsWith<ArdoiseException.InvalidInput> { till.setTemplate(courteous.copy(subject = "{amount_due"), start) }
        val mine = ReminderTemplate(
            name = "courteous",
            language = Language.EN,
            subject = "Reminder from {shop_name}",
            body = "Dear {customer_name}, {amount_due} EUR is overdue.",
            sms = "{shop_name}: {amount_due} EUR overdue, {days_late} days. {payment_link}",
        )
        till.setTemplate(mine, start)
        assertEquals(mine, till.templates().single { it.name == "courteous" && it.language == Language.EN })

        val standard = till.ladder("default")
        assertEquals(listOf(5, 15, 25, 40, 60), standard.steps.map { it.offsetDays })
        assertEquals(StepKind.FORMAL_NOTICE, standard.steps[3].kind)
        assertEquals(Tone.FORMAL, standard.steps[3].tone)
        assertEquals(Channel.DOCUMENT, standard.steps[4].channel)
        assertFailsWith<ArdoiseException.NotFound> { till.ladder("nope") }

        val sms = Ladder(
            "sms",
            listOf(
                LadderStep("Texto", 1, Channel.SMS, "courteous", Tone.COURTEOUS, StepKind.REMINDER),
                LadderStep("Relance", 10, Channel.EMAIL, "second", Tone.FIRM, StepKind.REMINDER, fee = "5.00"),
            ),
        )
        val swapped = sms.copy(steps = sms.steps.reversed())
        assertFailsWith<ArdoiseException.InvalidInput> { till.setLadder(swapped, start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setLadder(sms.copy(steps = listOf(sms.steps[0].copy(fee = "abc"))), start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setLadder(sms.copy(steps = listOf(sms.steps[0].copy(fee = "-1"))), start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setLadder(sms.copy(steps = listOf(sms.steps[0].copy(template = "nope"))), start) }
        till.setLadder(sms, start)
        assertEquals(sms, till.ladder("sms"))
        till.setCustomerLadder("P1", "sms", false, "marc", start)
        till.setCustomerLadder("E1", "sms", false, "marc", start)
        sale("P1", "10", "2024-05-01") // due 2024-05-31
        sale("E1", "10", "2024-05-01")

        // Sunday 9 June 2024, 22:00: SMS wait for Monday 09:00.
        val sunday = till.runDunning("2024-06-09T22:00:00+02:00")
        assertEquals(2, sunday.queued.size)
        val p1 = sunday.queued.single { it.customerRef == "P1" }
        assertEquals(Channel.SMS, p1.channel)
        assertEquals("+33 6 55 44 33 22", p1.recipient)
        sameInstant("2024-06-10T09:00:00+02:00", p1.notBefore)
        assertContains(p1.body, "petit rappel, 10,00 EUR")
        assertTrue(p1.body.length <= 480)
        val e1 = sunday.queued.single { it.customerRef == "E1" }
        assertEquals(Channel.SMS, e1.channel)
        assertEquals(Language.EN, e1.language)
        sameInstant("2024-06-10T09:00:00+02:00", e1.notBefore)
        assertEquals("Reminder from Épicerie du Marché", e1.subject)
        // The shop's template does not place the payment reference: it is added at the end.
        val e1Ref = till.account("E1", "2024-06-09").paymentReference
        assertEquals("Épicerie du Marché: 10.00 EUR overdue, 9 days. https://pay.example.fr/E1?amount=10.00 Payment ref: $e1Ref", e1.body)
        assertEquals("E1", till.customerByPaymentReference(e1Ref.lowercase().replace(" ", ""))!!.reference)
        assertFailsWith<ArdoiseException.InvalidInput> { till.customerByPaymentReference(e1Ref.replaceRange(5, 6, if (e1Ref[5] == '9') "0" else "9")) }
        for (r in sunday.queued) till.setReminderState(r.id, ReminderState.SENT, null, "2024-06-10T09:05:00+02:00")

        // The second step, 20 days late: an email to P1, an SMS to E1 (no email); its fee is never
        // charged to a consumer (Code des procédures civiles d'exécution L111-8).
        val second = till.runDunning(noon("2024-06-20"))
        assertEquals(Channel.EMAIL, second.queued.single { it.customerRef == "P1" }.channel)
        val e1Second = second.queued.single { it.customerRef == "E1" }
        assertEquals(Channel.SMS, e1Second.channel)
        assertContains(e1Second.body, "unpaid for 20 days")
        sameInstant(noon("2024-06-20"), e1Second.notBefore) // daytime on a Thursday
        assertEquals("10.00", till.account("P1", "2024-06-20").balance)
        assertEquals("10.00", till.account("E1", "2024-06-20").balance)
        till.setReminderState(e1Second.id, ReminderState.FAILED, "number unreachable", noon("2024-06-20"))
        val failed = till.reminders(ReminderState.FAILED, "E1", 10u).single()
        assertEquals("number unreachable", failed.stateNote)
        assertEquals(ReminderState.SENT, till.setReminderState(failed.id, ReminderState.SENT, "sent again", noon("2024-06-21")).state)

        assertFailsWith<ArdoiseException.InvalidInput> { till.setReminderState("not-an-id", ReminderState.SENT, null, noon("2024-06-21")) }
        assertFailsWith<ArdoiseException.NotFound> {
            till.setReminderState(java.util.UUID.randomUUID().toString(), ReminderState.SENT, null, noon("2024-06-21"))
        }
        assertFailsWith<ArdoiseException.InvalidInput> { till.runDunning("2024-06-21") }
    }

    @Test
    fun penaltiesMatchAHandComputedCaseAndFollowTheRateTables() {
        // 1000 EUR due 2024-06-15, until 2024-07-10, a business: 15 days at 14.50 % (ECB 4.50 + 10)
        // = 5.96, then 10 days at 14.25 % (ECB 4.25 on 1 July + 10) = 3.90; plus 40 EUR.
        val p = till.penalty("1000", "2024-06-15", "2024-07-10", CustomerKind.BUSINESS, null)
        assertEquals("9.86", p.interest)
        assertEquals("40.00", p.indemnity)
        assertEquals("49.86", p.total)
        assertEquals(
            listOf(
                PenaltyPeriod("2024-06-16", "2024-06-30", 15L, "1000.00", "14.50", "5.96"),
                PenaltyPeriod("2024-07-01", "2024-07-10", 10L, "1000.00", "14.25", "3.90"),
            ),
            p.periods,
        )
        // A consumer owes interest only from the formal notice, at the legal rate (4.92 % in 2024 H2), no indemnity.
        val none = till.penalty("1000", "2024-06-15", "2024-07-10", CustomerKind.CONSUMER, null)
        assertEquals(Penalty("0.00", "0.00", "0.00", emptyList()), none)
        val consumer = till.penalty("1000", "2024-06-15", "2024-07-10", CustomerKind.CONSUMER, "2024-06-30")
        assertEquals("1.35", consumer.total)
        assertEquals("4.92", consumer.periods.single().ratePct)
        assertEquals("0.00", till.penalty("100", "2024-06-15", "2024-06-15", CustomerKind.BUSINESS, null).total) // not late yet

        // A contract rate (floored at 3 x legal) replaces ECB + 10 for businesses.
        val settings = till.shopSettings()
        assertNull(settings.contractRatePct)
        till.setShopSettings(settings.copy(contractRatePct = "20"), start)
        assertEquals("20", till.shopSettings().contractRatePct)
        val contract = till.penalty("1000", "2024-06-15", "2024-07-10", CustomerKind.BUSINESS, null)
        assertEquals(listOf("20", "20"), contract.periods.map { it.ratePct })
        assertEquals("13.70", contract.interest) // 8.22 + 5.48
        till.setShopSettings(settings, start)

        // New rate tables without a release.
        val shipped = till.rateTables()
        assertEquals(null, till.ratesStaleOn("2026-12-31"))
        assertContains(till.ratesStaleOn("2027-01-01") ?: "", "does not cover 2027 H1")
        assertTrue(shipped.ecb.any { it.effectiveOn == "2024-06-12" && it.ratePct == "4.25" })
        assertTrue(shipped.legal.any { it.year == 2024 && it.half.toInt() == 2 && it.ratePct == "4.92" })
        val replaced = till.setRateTables(
            "# checked_through: 2026-12-20\neffective_date,rate\n2016-03-16,0.00\n2024-01-01,1.00\n",
            "# checked_through: 2026-12-20\nyear,half,individual,other\n2024,1,8.01,5.07\n2024,2,8.16,4.92\n",
            start,
        )
        assertEquals(listOf(EcbRate("2016-03-16", "0.00"), EcbRate("2024-01-01", "1.00")), replaced.ecb)
        assertEquals("2026-12-20", replaced.ecbCheckedThrough)
        assertFailsWith<ArdoiseException.NotFound> { till.setInsolvency("NOPE", "2024-01-01", start) }
        assertEquals(replaced, till.rateTables())
        val cheaper = till.penalty("1000", "2024-06-15", "2024-07-10", CustomerKind.BUSINESS, null)
        assertEquals(listOf("11.00", "11.00"), cheaper.periods.map { it.ratePct })
        assertEquals("7.53", cheaper.interest) // 4.52 + 3.01
        assertFailsWith<ArdoiseException.InvalidInput> { till.setRateTables("garbage", "year,half,a,b\n2024,1,8.01,5.07\n", start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setRateTables("effective_date,rate\n2024-01-01,1.00\n", "year,half,a,b\n2024,3,1,1\n", start) }
        // No legal rate for 2030 yet: no penalty on a guessed rate, the table is stale.
        val late = assertFailsWith<ArdoiseException.Conflict> { till.penalty("10", "2030-01-01", "2030-02-01", CustomerKind.CONSUMER, "2030-01-02") }
        assertContains(late.message ?: "", "does not cover 2030 H1")

        // Bad input.
        for (amount in listOf("1,5", "12.345", "", "abc")) {
            assertFailsWith<ArdoiseException.InvalidInput>(amount) { till.penalty(amount, "2024-06-15", "2024-07-10", CustomerKind.BUSINESS, null) }
        }
        assertFailsWith<ArdoiseException.InvalidInput> { till.penalty("0", "2024-06-15", "2024-07-10", CustomerKind.BUSINESS, null) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.penalty("10", "2024-02-30", "2024-07-10", CustomerKind.BUSINESS, null) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.penalty("10", "2024-06-15", "10/07/2024", CustomerKind.BUSINESS, null) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.penalty("10", "2024-06-15", "2024-07-10", CustomerKind.CONSUMER, "soon") }
    }

    @Test
    fun shopSettingsCustomersAddressAndLanguage() {
        val rules = till.checkoutRules()
        val s = till.shopSettings()
        assertEquals("Épicerie du Marché", s.shopName)
        assertEquals("https://pay.example.fr/{customer_ref}?amount={amount}", s.paymentUrl)
        assertEquals(7u, s.minGapDays)
        assertEquals(9u, s.smsFromHour)
        assertEquals(20u, s.smsUntilHour)
        assertEquals(5u, s.planGraceDays)
        assertTrue(s.penaltyFeesBusiness)
        assertFalse(s.penaltyFeesConsumer)
        till.setShopSettings(s.copy(minGapDays = 10u, penaltyFeesConsumer = true, contractRatePct = "12.5"), start)
        val saved = till.shopSettings()
        assertEquals(10u, saved.minGapDays)
        assertTrue(saved.penaltyFeesConsumer)
        assertEquals("12.5", saved.contractRatePct)
        assertEquals(rules, till.checkoutRules()) // untouched
        for (bad in listOf("abc", "9,5", "-1", "1e2", "12.", ".5", "12.34567", "1000")) {
            assertFailsWith<ArdoiseException.InvalidInput>(bad) { till.setShopSettings(s.copy(contractRatePct = bad), start) }
        }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setShopSettings(s.copy(smsFromHour = 21u), start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setShopSettings(s.copy(paymentUrl = "http://pay.example.fr"), start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setShopSettings(s.copy(paymentUrl = "https://pay.example.fr/{oops}"), start) }
        assertFailsWith<ArdoiseException.InvalidInput> { till.setShopSettings(s, "2024-01-01") }
        assertEquals(saved, till.shopSettings())

        val b1 = till.customer("B1")
        assertEquals("5 rue des Lilas, 13210 Saint-Rémy", b1.address)
        assertEquals(Language.FR, b1.language) // the default
        assertEquals(Language.EN, till.customer("E1").language)
        val moved = till.updateCustomer("B1", CustomerPatch(address = "1 quai du Port, Marseille", language = Language.EN), start)
        assertEquals("1 quai du Port, Marseille", moved.address)
        assertEquals(Language.EN, moved.language)
        val cleared = till.updateCustomer("B1", CustomerPatch(address = ""), start)
        assertNull(cleared.address)
        assertEquals(Language.EN, cleared.language) // unchanged
        assertFailsWith<ArdoiseException.InvalidInput> { till.updateCustomer("B1", CustomerPatch(address = "x".repeat(501)), start) }
    }
}
