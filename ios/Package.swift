// swift-tools-version:5.9
// The Ardoise Swift package: generated Swift bindings over one native library (ArdoiseFFI),
// shipped as Ardoise.xcframework, built by build-xcframework.sh on macOS.
import PackageDescription

let package = Package(
    name: "Ardoise",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Ardoise", targets: ["Ardoise"]),
    ],
    targets: [
        .binaryTarget(name: "ArdoiseFFI", path: "Ardoise.xcframework"),
        .target(name: "Ardoise", dependencies: ["ArdoiseFFI"], path: "Sources/Ardoise"),
        .testTarget(name: "ArdoiseTests", dependencies: ["Ardoise"], path: "Tests/ArdoiseTests"),
    ]
)
