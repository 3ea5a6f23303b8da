// swift-tools-version:6.0
// The checkout verdict timed from Swift (ios/run-linux-bench.sh): the same loop as
// bindings/examples/verdict_bench.rs in Rust, over the same customers, against the release library.
import PackageDescription

let package = Package(
    name: "ArdoiseBench",
    platforms: [.macOS(.v12)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "CheckoutBench", dependencies: [.product(name: "Ardoise", package: "ios")]),
    ]
)
