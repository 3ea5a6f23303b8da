//! The Swift bindgen command: one module map over both namespaces' headers, which the general
//! command (one module map per namespace) cannot write.

fn main() {
    uniffi::uniffi_bindgen_swift()
}
