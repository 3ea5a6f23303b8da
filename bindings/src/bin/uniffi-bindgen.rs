//! The uniffi-bindgen command, pinned to the uniffi version this library is built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
