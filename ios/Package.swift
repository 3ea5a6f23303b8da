// swift-tools-version:6.0
// The Ardoise Swift package: generated Swift bindings over one native library (ArdoiseFFI).
// On Apple platforms the library is Ardoise.xcframework, built by build-xcframework.sh on macOS.
// On Linux it is libardoise.so built by cargo, reached through the generated header and module
// map in Headers/; run-linux-tests.sh passes its folder with -Xlinker -L and an rpath.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "ArdoiseFFI", path: "Headers")
#else
let ffi: Target = .binaryTarget(name: "ArdoiseFFI", path: "Ardoise.xcframework")
#endif

let package = Package(
    name: "Ardoise",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Ardoise", targets: ["Ardoise"]),
    ],
    targets: [
        ffi,
        .target(
            name: "Ardoise", dependencies: ["ArdoiseFFI"], path: "Sources/Ardoise",
            linkerSettings: [.linkedLibrary("ardoise", .when(platforms: [.linux]))]
        ),
        .testTarget(name: "ArdoiseTests", dependencies: ["Ardoise"], path: "Tests/ArdoiseTests"),
    ]
)
