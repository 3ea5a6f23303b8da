// Hand-written, beside the generated ardoise.kt and core/ardoise_core.kt (which stay exactly what
// uniffi generates).
// The checkout verdict on the till's hot path in one plain native call: see CheckoutLane.
package app.ardoise

import app.ardoise.core.ArdoiseException
import app.ardoise.core.FfiConverterTypeArdoiseError
import app.ardoise.core.FfiConverterTypeVerdict
import app.ardoise.core.Verdict
import com.sun.jna.Native
import com.sun.jna.Pointer
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * The checkout verdict for the till's hot path: the same answer as [Till.checkMinor] (the
 * same [Verdict], every reason and number, and the same [ArdoiseException]s), for a fraction of
 * its cost on the JVM. Each uniffi call through JNA clones the till's handle, copies the
 * customer into a native buffer, frees the result, and allocates the structures JNA marshals
 * by reflection for each of those crossings; a lane makes one call with integers and pointers
 * only (`ardoise_lane_check_minor` in the native library) and reads the verdict from a buffer it
 * keeps, with the generated converters.
 *
 * One lane per till, opened once and reused: it holds its own reference to the till, so it
 * stays usable while the [Till] is open and throws [IllegalStateException] once the till or the
 * lane is closed. Close it with the till (`use {}`); a lane left to the garbage collector is
 * released then. Thread-safe: calls on one lane run one after the other, as they do on the till.
 */
class CheckoutLane internal constructor(private val till: Till, initialCapacity: Int) : AutoCloseable {
    constructor(till: Till) : this(till, INITIAL_CAPACITY)

    private val handle: Long = till.uniffiCloneHandle()
    private val cleanable = UniffiLib.CLEANER.register(this, Release(handle))
    // The customer's reference goes in at the start, the answer comes back over it. It grows
    // when either does not fit (a verdict is under 2 KB: names and reasons are bounded).
    private var buffer: ByteBuffer = allocate(initialCapacity)
    private var address: Pointer = Native.getDirectBufferPointer(buffer)
    private var closed = false

    /**
     * May this customer buy [cartTotalMinor] cents on account at [nowUnixMs] (Unix
     * milliseconds) in a till [utcOffsetMinutes] from UTC, and why not: [Till.checkMinor].
     */
    @Synchronized
    @Throws(ArdoiseException::class)
    fun check(customer: String, cartTotalMinor: Long, nowUnixMs: Long, utcOffsetMinutes: Int): Verdict {
        if (closed) throw IllegalStateException("CheckoutLane is closed")
        if (till.uniffiIsDestroyed) throw IllegalStateException("Till object has already been destroyed")
        val name = customer.encodeToByteArray(throwOnInvalidSequence = true)
        while (true) {
            if (name.size > buffer.capacity()) grow(name.size)
            buffer.clear()
            buffer.put(name)
            val result = LaneLib.ardoise_lane_check_minor(
                handle, address, name.size, cartTotalMinor, nowUnixMs, utcOffsetMinutes, address, buffer.capacity(),
            )
            val status = (result ushr 32).toInt()
            val length = result.toInt()
            if (status == TOO_SMALL) {
                grow(length)
                continue
            }
            buffer.clear()
            buffer.limit(length)
            when (status) {
                OK -> return read(FfiConverterTypeVerdict::read)
                ERROR -> throw read(FfiConverterTypeArdoiseError::read)
                PANIC -> throw InternalException(ByteArray(length).also { buffer.get(it) }.decodeToString())
                else -> throw InternalException("Unknown checkout lane status $status")
            }
        }
    }

    /** Releases the lane's reference to the till. Safe to call twice. */
    @Synchronized
    override fun close() {
        if (!closed) {
            closed = true
            cleanable.clean()
        }
    }

    // Each namespace's converters implement their own package's interface: a function fits both.
    private fun <T> read(converter: (ByteBuffer) -> T): T {
        val value = converter(buffer)
        if (buffer.hasRemaining()) throw InternalException("junk remaining in buffer after lifting, something is very wrong!!")
        return value
    }

    private fun grow(atLeast: Int) {
        buffer = allocate(maxOf(atLeast, buffer.capacity() * 2))
        address = Native.getDirectBufferPointer(buffer)
    }

    // A static class, not a closure, so the cleaner does not keep the lane itself reachable.
    private class Release(private val handle: Long) : Runnable {
        override fun run() {
            val status = UniffiRustCallStatus()
            UniffiLib.uniffi_ardoise_fn_free_till(handle, status)
        }
    }

    private companion object {
        const val INITIAL_CAPACITY = 16 * 1024
        // The native function's statuses, in the high 32 bits of its result (see bindings/src/lane.rs).
        const val OK = 0
        const val ERROR = 1
        const val PANIC = 2
        const val TOO_SMALL = 3

        fun allocate(capacity: Int): ByteBuffer = ByteBuffer.allocateDirect(capacity).order(ByteOrder.BIG_ENDIAN)
    }
}

/** Opens a [CheckoutLane] on this till: the verdict's hot path. */
fun Till.checkoutLane(): CheckoutLane = CheckoutLane(this)

// JNA direct mapping of the plain C function: integers and pointers only, nothing marshalled
// by reflection.
internal object LaneLib {
    init {
        UniffiLib.ensureInitialized()
        Native.register(
            LaneLib::class.java,
            System.getProperty("uniffi.component.ardoise.libraryOverride") ?: "ardoise",
        )
    }

    external fun ardoise_lane_check_minor(
        till: Long,
        customer: Pointer,
        customerLen: Int,
        cartTotalMinor: Long,
        nowUnixMs: Long,
        utcOffsetMinutes: Int,
        out: Pointer,
        outCapacity: Int,
    ): Long
}
