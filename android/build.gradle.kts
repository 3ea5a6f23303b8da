// Android library module: the generated Kotlin bindings (src/main/kotlin) and the native
// library for each ABI, built from the Rust crate `ardoise-bindings` with cargo-ndk.
// Needs the Android SDK + NDK, `cargo install cargo-ndk` and
// `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
    `maven-publish`
}

group = "app.ardoise"
version = "0.1.0"

android {
    namespace = "app.ardoise"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].jniLibs.srcDir(layout.buildDirectory.dir("rustJniLibs"))
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    publishing { singleVariant("release") }
}

kotlin { jvmToolchain(17) }

dependencies {
    // uniffi's generated code calls the native library through JNA; "@aar" brings JNA's own
    // Android .so files.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlin:kotlin-test-junit:2.1.0")
}

// Release builds of the one native library for the three ABIs tills run on.
val cargoNdk by tasks.registering(Exec::class) {
    val out = layout.buildDirectory.dir("rustJniLibs").get().asFile
    workingDir = rootDir.parentFile
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", out.absolutePath,
        "build", "--release", "-p", "ardoise-bindings", "--lib",
    )
}
tasks.named("preBuild") { dependsOn(cargoNdk) }

afterEvaluate {
    publishing {
        publications {
            register<MavenPublication>("release") { from(components["release"]) }
        }
    }
}
